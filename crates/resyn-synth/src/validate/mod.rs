//! Offline validation of a Python environment module, cheapest checks first.
//!
//! Checks, in order (each named by [`Check`]); the first failure stops
//! validation and is reported with a short reason code and the precise
//! detail (traceback, failing seed, accepted probe) that a repair prompt
//! needs:
//!
//! 1. `size`: the source is non-empty and at most [`ValidationConfig::max_code_bytes`];
//! 2. `parse`: Python's `ast` parses it (run in the sandbox by a trusted
//!    checker module; the candidate is not executed);
//! 3. `imports`: only standard-library modules on [`ValidationConfig::allowed_imports`],
//!    and no escape hatches (`eval`, `exec`, `__import__`, `open`,
//!    `__subclasses__`, ...);
//! 4. `api`: `NAME`, `CATEGORY`, `DESCRIPTION`, `generate(rng, difficulty)`,
//!    `verify(instance, answer)` are defined at top level;
//! 5. `load`: the module loads in the sandbox (module-level code runs);
//! 6. `generate`: one instance, then every difficulty × [`ValidationConfig::seeds`];
//! 7. `determinism`: a fresh worker generating in reverse order gives
//!    byte-identical instances;
//! 8. `uniqueness`: at every difficulty at least [`ValidationConfig::min_unique_ratio`]
//!    of the prompts are distinct;
//! 9. `prompt_length`: prompts within bounds;
//! 10. `answer_leak`: the reference answer (when at least
//!     [`ValidationConfig::leak_min_chars`] long) does not appear verbatim in the prompt;
//! 11. `reference` / `solve`: references and `solve` outputs verify to exactly 1;
//! 12. `verify_error`: `verify` never raises or times out on a probe;
//! 13. `reward_range`: every reward is a finite number in [0, 1];
//! 14. `probes`: strict probe families are all rejected; lenient ones are
//!     all rejected, or for modules declaring `MULTIPLE_SOLUTIONS = True`
//!     accepted at most [`ValidationConfig::lenient_tolerance`] of the time.

mod probes;

use std::collections::BTreeMap;
use std::time::Instant;

use resyn_core::{Environment, Instance, wrap_answer};
use resyn_sandbox::{Error as SbError, LoadErrorKind, PythonEnv, Sandbox};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub(crate) use probes::norm;

const CHECKER: &str = include_str!("checker.py");
/// Details are capped (a repair prompt quotes them).
const DETAIL_CAP: usize = 6000;

/// The validation checks, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Check {
    /// Source size.
    Size,
    /// Python syntax.
    Parse,
    /// Allowed imports and names.
    Imports,
    /// Required top-level names.
    Api,
    /// Loading the module.
    Load,
    /// Generating instances.
    Generate,
    /// Same instance twice.
    Determinism,
    /// Distinct prompts.
    Uniqueness,
    /// Prompt length bounds.
    PromptLength,
    /// Reference answer visible in the prompt.
    AnswerLeak,
    /// References verify to 1.
    Reference,
    /// `solve` outputs verify to 1.
    Solve,
    /// `verify` raised or timed out.
    VerifyError,
    /// Rewards within [0, 1].
    RewardRange,
    /// Wrong answers rejected.
    Probes,
}

impl Check {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Size => "size",
            Self::Parse => "parse",
            Self::Imports => "imports",
            Self::Api => "api",
            Self::Load => "load",
            Self::Generate => "generate",
            Self::Determinism => "determinism",
            Self::Uniqueness => "uniqueness",
            Self::PromptLength => "prompt_length",
            Self::AnswerLeak => "answer_leak",
            Self::Reference => "reference",
            Self::Solve => "solve",
            Self::VerifyError => "verify_error",
            Self::RewardRange => "reward_range",
            Self::Probes => "probes",
        }
    }
}

/// The first failed check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// Which check.
    pub check: Check,
    /// Short machine-readable reason (e.g. `timeout`, `forbidden_import`,
    /// `accepted_garbage`).
    pub reason: String,
    /// The precise evidence (capped).
    pub detail: String,
}

impl Failure {
    fn new(check: Check, reason: impl Into<String>, detail: impl Into<String>) -> Self {
        let mut detail = detail.into();
        if detail.len() > DETAIL_CAP {
            let mut cut = DETAIL_CAP;
            while !detail.is_char_boundary(cut) {
                cut -= 1;
            }
            detail.truncate(cut);
            detail.push_str("\n[... cut]");
        }
        Self {
            check,
            reason: reason.into(),
            detail,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.check.as_str(),
            self.reason,
            self.detail
        )
    }
}

/// Thresholds and sizes of validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ValidationConfig {
    /// Seeds per difficulty (seeds `0..seeds`).
    pub seeds: u64,
    /// Largest accepted source, bytes.
    pub max_code_bytes: usize,
    /// Top-level modules that may be imported.
    pub allowed_imports: Vec<String>,
    /// Smallest share of distinct prompts at each difficulty.
    pub min_unique_ratio: f64,
    /// Shortest prompt (characters, without the appended answer instruction).
    pub min_prompt_chars: usize,
    /// Longest prompt.
    pub max_prompt_chars: usize,
    /// Reference answers at least this long (whitespace-collapsed) must not
    /// appear verbatim in the prompt.
    pub leak_min_chars: usize,
    /// Share of lenient probes a `MULTIPLE_SOLUTIONS` module may accept.
    pub lenient_tolerance: f64,
    /// Other instances used for cross-instance probes.
    pub probe_others: usize,
}

/// The default import allowlist (standard library, deterministic, no I/O).
pub const DEFAULT_ALLOWED_IMPORTS: &[&str] = &[
    "__future__",
    "array",
    "bisect",
    "cmath",
    "collections",
    "copy",
    "dataclasses",
    "decimal",
    "enum",
    "fractions",
    "functools",
    "graphlib",
    "heapq",
    "itertools",
    "json",
    "math",
    "numbers",
    "operator",
    "random",
    "re",
    "statistics",
    "string",
    "textwrap",
    "typing",
    "unicodedata",
];

impl Default for ValidationConfig {
    fn default() -> Self {
        Self {
            seeds: 12,
            max_code_bytes: 64 << 10,
            allowed_imports: DEFAULT_ALLOWED_IMPORTS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            min_unique_ratio: 0.5,
            min_prompt_chars: 20,
            max_prompt_chars: 12_000,
            leak_min_chars: 7,
            lenient_tolerance: 0.5,
            probe_others: 2,
        }
    }
}

/// Counts and measurements of a validation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Instances generated (per pass).
    pub instances: usize,
    /// `solve` outputs verified.
    pub solved: usize,
    /// Smallest share of distinct prompts over the difficulties.
    pub unique_ratio: f64,
    /// Shortest prompt, characters.
    pub prompt_chars_min: usize,
    /// Longest prompt, characters.
    pub prompt_chars_max: usize,
    /// Probes sent.
    pub probes: usize,
    /// Probes that scored 0.
    pub probes_rejected: usize,
    /// Per family: `[accepted, sent]`.
    pub probe_families: BTreeMap<String, [usize; 2]>,
}

/// The report of one validation (stored with accepted environments and
/// printed by `resyn validate --json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    /// File name the module was validated as.
    pub file: String,
    /// `NAME`, once known.
    pub name: Option<String>,
    /// `VERSION`, once known.
    pub version: Option<u32>,
    /// `CATEGORY`, once known.
    pub category: Option<String>,
    /// `DESCRIPTION`, once known.
    pub description: Option<String>,
    /// Whether the module defines `solve`.
    pub has_solve: bool,
    /// Whether it declares `MULTIPLE_SOLUTIONS = True`.
    pub multiple_solutions: bool,
    /// Whether every check passed.
    pub passed: bool,
    /// Checks that passed, in order.
    pub passed_checks: Vec<Check>,
    /// The first failure.
    pub failure: Option<Failure>,
    /// Measurements.
    pub stats: Stats,
    /// Wall time, milliseconds.
    pub elapsed_ms: u64,
}

/// A validated module with what later stages reuse.
#[derive(Debug, Clone)]
pub struct Validated {
    /// The loaded environment.
    pub env: PythonEnv,
    /// The generated instances (difficulty-major, seeds `0..seeds`).
    pub instances: Vec<Instance>,
    /// Probes sent and the rewards they got (reference first per instance is
    /// not included; references all scored 1).
    pub probes: Vec<ProbeOutcome>,
}

/// One probe and its reward.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeOutcome {
    /// Index into [`Validated::instances`].
    pub inst: usize,
    /// Probe family.
    pub family: &'static str,
    /// Full response.
    pub response: String,
    /// Reward the module's verifier gave.
    pub reward: f64,
}

/// The sandbox itself failed (not the candidate): the run cannot go on.
#[derive(Debug, thiserror::Error)]
#[error("sandbox unavailable: {0}")]
pub struct InfraError(#[source] pub SbError);

/// Runs validations on a shared sandbox. Blocking: call from a blocking
/// thread in async code.
#[derive(Debug, Clone)]
pub struct Validator {
    sandbox: Sandbox,
    config: ValidationConfig,
}

/// Short reason code of a sandbox error.
pub fn reason_of(e: &SbError) -> String {
    match e {
        SbError::Timeout { .. } => "timeout",
        SbError::Memory { .. } => "memory",
        SbError::Exception { .. } => "exception",
        SbError::Forbidden { .. } => "forbidden_operation",
        SbError::Crash { .. } => "crash",
        SbError::BadReturn { .. } => "bad_return",
        SbError::NonDeterministic { .. } => "nondeterministic",
        SbError::Protocol { .. } => "protocol",
        SbError::Skipped { .. } => "skipped",
        SbError::Load { kind, .. } => match kind {
            LoadErrorKind::Syntax => "syntax_error",
            LoadErrorKind::Import => "import_error",
            LoadErrorKind::Api => "api_error",
            LoadErrorKind::Exception => "module_raised",
            _ => "load_error",
        },
        _ => "sandbox_error",
    }
    .to_string()
}

fn is_infra(e: &SbError) -> bool {
    matches!(
        e,
        SbError::Unavailable { .. } | SbError::Python(_) | SbError::Io { .. }
    )
}

type Step<T> = Result<T, Failure>;

/// What the static checker found.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Analysis {
    syntax: Option<SyntaxInfo>,
    imports: Vec<(String, u32)>,
    forbidden: Vec<(String, u32)>,
    functions: BTreeMap<String, FnInfo>,
    assigned: Vec<String>,
    constants: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SyntaxInfo {
    msg: String,
    line: u32,
    col: u32,
    text: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FnInfo {
    positional: u32,
    vararg: bool,
    is_async: bool,
    line: u32,
}

impl Validator {
    /// A validator on `sandbox`.
    pub fn new(sandbox: Sandbox, config: ValidationConfig) -> Self {
        Self { sandbox, config }
    }

    /// The configuration.
    pub fn config(&self) -> &ValidationConfig {
        &self.config
    }

    /// The sandbox.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// Validate a module file.
    ///
    /// # Errors
    /// [`InfraError`] when the sandbox itself fails.
    pub fn validate_file(
        &self,
        path: &std::path::Path,
    ) -> Result<(ValidationReport, Option<Validated>), InfraError> {
        let file = path
            .file_name()
            .map_or_else(|| "env.py".into(), |f| f.to_string_lossy().into_owned());
        match std::fs::read_to_string(path) {
            Ok(src) => self.validate(&file, &src),
            Err(e) => Ok((
                ValidationReport {
                    file,
                    failure: Some(Failure::new(Check::Size, "unreadable", e.to_string())),
                    ..Default::default()
                },
                None,
            )),
        }
    }

    /// Validate module source `source`, named `file` in tracebacks.
    ///
    /// # Errors
    /// [`InfraError`] when the sandbox itself fails (it is not the module's
    /// fault, so it must not count as a rejection).
    pub fn validate(
        &self,
        file: &str,
        source: &str,
    ) -> Result<(ValidationReport, Option<Validated>), InfraError> {
        let start = Instant::now();
        let mut report = ValidationReport {
            file: file.to_string(),
            ..Default::default()
        };
        let result = self.run(file, source, &mut report);
        report.elapsed_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok(Ok(v)) => {
                report.passed = true;
                Ok((report, Some(v)))
            }
            Ok(Err(f)) => {
                report.failure = Some(f);
                Ok((report, None))
            }
            Err(e) => Err(e),
        }
    }

    fn sb_fail(check: Check, e: SbError) -> Result<Failure, InfraError> {
        if is_infra(&e) {
            return Err(InfraError(e));
        }
        Ok(Failure::new(check, reason_of(&e), e.to_string()))
    }

    fn run(
        &self,
        file: &str,
        source: &str,
        report: &mut ValidationReport,
    ) -> Result<Step<Validated>, InfraError> {
        let cfg = &self.config;
        macro_rules! pass {
            ($c:expr) => {
                report.passed_checks.push($c)
            };
        }
        // 1. size
        if source.trim().is_empty() {
            return Ok(Err(Failure::new(
                Check::Size,
                "empty",
                "the module is empty",
            )));
        }
        if source.len() > cfg.max_code_bytes {
            return Ok(Err(Failure::new(
                Check::Size,
                "too_large",
                format!(
                    "the module is {} bytes, over the {}-byte limit",
                    source.len(),
                    cfg.max_code_bytes
                ),
            )));
        }
        pass!(Check::Size);
        // 2. parse (static checker in the sandbox)
        let analysis = match self.analyse(source)? {
            Ok(a) => a,
            Err(f) => return Ok(Err(f)),
        };
        if let Some(s) = &analysis.syntax {
            return Ok(Err(Failure::new(
                Check::Parse,
                "syntax_error",
                format!(
                    "line {}, column {}: {}\n    {}",
                    s.line, s.col, s.msg, s.text
                ),
            )));
        }
        pass!(Check::Parse);
        // 3. imports
        for (m, line) in &analysis.imports {
            let top = m.split('.').next().unwrap_or("");
            if m.starts_with('.') || !cfg.allowed_imports.iter().any(|a| a == top) {
                return Ok(Err(Failure::new(
                    Check::Imports,
                    "forbidden_import",
                    format!(
                        "line {line}: `import {m}` is not allowed; allowed modules: {}",
                        cfg.allowed_imports.join(", ")
                    ),
                )));
            }
        }
        if let Some((name, line)) = analysis.forbidden.first() {
            return Ok(Err(Failure::new(
                Check::Imports,
                "forbidden_name",
                format!("line {line}: `{name}` is not allowed in environment code"),
            )));
        }
        pass!(Check::Imports);
        // 4. api
        let mut missing = Vec::new();
        for k in ["NAME", "CATEGORY", "DESCRIPTION"] {
            if !analysis.assigned.iter().any(|a| a == k) {
                missing.push(format!("{k} is not assigned at module level"));
            }
        }
        for f in ["generate", "verify"] {
            match analysis.functions.get(f) {
                None => missing.push(format!("no top-level function {f}() (2 arguments)")),
                Some(i) if i.is_async => {
                    missing.push(format!("{f}() (line {}) must not be async", i.line))
                }
                Some(i) if i.positional < 2 && !i.vararg => missing.push(format!(
                    "{f}() (line {}) takes {} positional argument(s), needs 2",
                    i.line, i.positional
                )),
                _ => {}
            }
        }
        if let Some(i) = analysis.functions.get("solve")
            && i.positional < 1
            && !i.vararg
        {
            missing.push(format!("solve() (line {}) must take the instance", i.line));
        }
        if !missing.is_empty() {
            return Ok(Err(Failure::new(
                Check::Api,
                "missing_api",
                missing.join("; "),
            )));
        }
        report.multiple_solutions =
            analysis.constants.get("MULTIPLE_SOLUTIONS") == Some(&Value::Bool(true));
        pass!(Check::Api);
        // 5. load
        let env = match PythonEnv::from_source(file, source.to_string(), &self.sandbox) {
            Ok(e) => e,
            Err(e) => return Ok(Err(Self::sb_fail(Check::Load, e)?)),
        };
        let m = env.meta().clone();
        report.name = Some(m.id.clone());
        report.version = Some(m.version);
        report.category = Some(m.category.as_str().to_string());
        report.description = Some(m.description.clone());
        report.has_solve = env.has_solve();
        pass!(Check::Load);
        // 6. generate: one call first (a looping generator costs one timeout)
        let first = env.try_generate_batch(&[(0, 1)], false);
        if let Some(Err(e)) = first.results.into_iter().next() {
            return Ok(Err(Self::with_output(
                Self::sb_fail(Check::Generate, e)?,
                &first.stdout,
                &first.stderr,
            )));
        }
        let requests: Vec<(u64, u8)> = (resyn_core::MIN_DIFFICULTY..=resyn_core::MAX_DIFFICULTY)
            .flat_map(|d| (0..cfg.seeds).map(move |s| (s, d)))
            .collect();
        let batch = env.try_generate_batch(&requests, true);
        let mut instances = Vec::with_capacity(requests.len());
        let mut solutions = Vec::new();
        for r in batch.results {
            match r {
                Ok(g) => {
                    if let Some(s) = g.solution {
                        solutions.push((instances.len(), s));
                    }
                    instances.push(g.instance);
                }
                Err(e) => {
                    return Ok(Err(Self::with_output(
                        Self::sb_fail(Check::Generate, e)?,
                        &batch.stdout,
                        &batch.stderr,
                    )));
                }
            }
        }
        report.stats.instances = instances.len();
        pass!(Check::Generate);
        // 7. determinism: a second module key means a fresh worker.
        let twin_name = format!("{}.rerun.py", file.trim_end_matches(".py"));
        let twin = match PythonEnv::from_source(&twin_name, source.to_string(), &self.sandbox) {
            Ok(t) => t,
            Err(e) => {
                return Ok(Err(Failure::new(
                    Check::Determinism,
                    "nondeterministic_load",
                    format!("loading the module a second time failed: {e}"),
                )));
            }
        };
        let reversed: Vec<(u64, u8)> = requests.iter().rev().copied().collect();
        let again = twin.try_generate_batch(&reversed, false);
        for (r, inst) in again.results.into_iter().rev().zip(&instances) {
            let b = match r {
                Ok(g) => g.instance,
                Err(e) => {
                    return Ok(Err(Failure::new(
                        Check::Determinism,
                        "nondeterministic",
                        format!(
                            "generate(seed={}, difficulty={}) succeeded the first time but failed on a fresh worker in reverse order: {e}",
                            inst.seed, inst.difficulty
                        ),
                    )));
                }
            };
            if let Some(d) = difference(inst, &b) {
                return Ok(Err(Failure::new(
                    Check::Determinism,
                    "nondeterministic",
                    format!(
                        "generate(seed={}, difficulty={}) is not deterministic (use only the rng argument; no time, no global state): {d}",
                        inst.seed, inst.difficulty
                    ),
                )));
            }
        }
        drop(twin);
        pass!(Check::Determinism);
        // 8. uniqueness
        let mut min_ratio = 1.0f64;
        for d in resyn_core::MIN_DIFFICULTY..=resyn_core::MAX_DIFFICULTY {
            let ps: Vec<&str> = instances
                .iter()
                .filter(|i| i.difficulty == d)
                .map(|i| i.prompt.as_str())
                .collect();
            if ps.is_empty() {
                continue;
            }
            let distinct: std::collections::HashSet<&str> = ps.iter().copied().collect();
            #[allow(clippy::cast_precision_loss)]
            let ratio = distinct.len() as f64 / ps.len() as f64;
            min_ratio = min_ratio.min(ratio);
            if ratio < cfg.min_unique_ratio {
                return Ok(Err(Failure::new(
                    Check::Uniqueness,
                    "too_few_distinct_instances",
                    format!(
                        "at difficulty {d}, only {} of {} seeds give distinct prompts (need {:.0}%): instances must vary with the rng",
                        distinct.len(),
                        ps.len(),
                        cfg.min_unique_ratio * 100.0
                    ),
                )));
            }
        }
        report.stats.unique_ratio = min_ratio;
        pass!(Check::Uniqueness);
        // 9. prompt length
        let module_prompt = |i: &Instance| -> usize {
            let p = i
                .prompt
                .strip_suffix(resyn_core::ANSWER_INSTRUCTION)
                .unwrap_or(&i.prompt);
            p.trim_end().chars().count()
        };
        report.stats.prompt_chars_min = instances.iter().map(module_prompt).min().unwrap_or(0);
        report.stats.prompt_chars_max = instances.iter().map(module_prompt).max().unwrap_or(0);
        for i in &instances {
            let n = module_prompt(i);
            if n < cfg.min_prompt_chars || n > cfg.max_prompt_chars {
                return Ok(Err(Failure::new(
                    Check::PromptLength,
                    if n < cfg.min_prompt_chars {
                        "prompt_too_short"
                    } else {
                        "prompt_too_long"
                    },
                    format!(
                        "the prompt of seed {} difficulty {} has {n} characters; allowed {}..={}",
                        i.seed, i.difficulty, cfg.min_prompt_chars, cfg.max_prompt_chars
                    ),
                )));
            }
        }
        pass!(Check::PromptLength);
        // 10. answer leak
        let mut leaks = Vec::new();
        let mut long = 0usize;
        for i in &instances {
            let a = norm(resyn_core::probes::reference_answer(i));
            if a.chars().count() < cfg.leak_min_chars {
                continue;
            }
            long += 1;
            if norm(&i.prompt).contains(&a) {
                leaks.push(i);
            }
        }
        // A few coincidences are tolerated; a systematic leak is not.
        if !leaks.is_empty() && leaks.len() * 10 > long {
            let i = leaks[0];
            return Ok(Err(Failure::new(
                Check::AnswerLeak,
                "answer_in_prompt",
                format!(
                    "the reference answer appears verbatim in the prompt for {} of {long} instances, e.g. seed {} difficulty {}: {:?}",
                    leaks.len(),
                    i.seed,
                    i.difficulty,
                    resyn_core::probes::reference_answer(i)
                ),
            )));
        }
        pass!(Check::AnswerLeak);
        // 11. references and solve outputs
        let refs: Vec<(&Instance, &str)> = instances
            .iter()
            .map(|i| (i, i.reference.as_str()))
            .collect();
        let scored = env.try_verify_batch(&refs);
        for (r, i) in scored.results.into_iter().zip(&instances) {
            let detail = |what: String| {
                format!(
                    "the reference answer of seed {} difficulty {} {what}\nreference answer: {:?}",
                    i.seed,
                    i.difficulty,
                    resyn_core::probes::reference_answer(i)
                )
            };
            match r {
                Ok(Ok(1.0)) => {}
                Ok(Ok(x)) => {
                    return Ok(Err(Failure::new(
                        Check::Reference,
                        "reference_rejected",
                        detail(format!("scores {x} (must be 1.0)")),
                    )));
                }
                Ok(Err(v)) => {
                    return Ok(Err(Failure::new(
                        Check::Reference,
                        "reference_unreadable",
                        detail(format!("cannot be read as an answer: {}", v.detail)),
                    )));
                }
                Err(e) => {
                    if is_infra(&e) {
                        return Err(InfraError(e));
                    }
                    return Ok(Err(Failure::new(
                        Check::Reference,
                        format!("verify_{}", reason_of(&e)),
                        detail(format!("made verify() fail: {e}")),
                    )));
                }
            }
        }
        pass!(Check::Reference);
        if !solutions.is_empty() {
            let wrapped: Vec<String> = solutions.iter().map(|(_, s)| wrap_answer(s)).collect();
            let items: Vec<(&Instance, &str)> = solutions
                .iter()
                .zip(&wrapped)
                .map(|((k, _), w)| (&instances[*k], w.as_str()))
                .collect();
            let scored = env.try_verify_batch(&items);
            for (r, ((k, sol), _)) in scored
                .results
                .into_iter()
                .zip(solutions.iter().zip(&wrapped))
            {
                let ok = matches!(r, Ok(Ok(x)) if x == 1.0);
                if !ok {
                    let i = &instances[*k];
                    let got = match r {
                        Ok(Ok(x)) => format!("scores {x}"),
                        Ok(Err(v)) => format!("is unreadable: {}", v.detail),
                        Err(e) => format!("makes verify() fail: {e}"),
                    };
                    return Ok(Err(Failure::new(
                        Check::Solve,
                        "solution_rejected",
                        format!(
                            "solve() output for seed {} difficulty {} {got}\nsolve() returned: {sol:?}",
                            i.seed, i.difficulty
                        ),
                    )));
                }
            }
            report.stats.solved = solutions.len();
            pass!(Check::Solve);
        }
        // 12-14. probes
        let specs = probes::build(&instances, cfg.probe_others);
        let items: Vec<(&Instance, &str)> = specs
            .iter()
            .map(|p| (&instances[p.inst], p.response.as_str()))
            .collect();
        let scored = env.try_verify_batch(&items);
        let mut outcomes = Vec::with_capacity(specs.len());
        let mut families: BTreeMap<String, [usize; 2]> = BTreeMap::new();
        let mut first_accept: BTreeMap<&'static str, usize> = BTreeMap::new();
        for (k, (r, p)) in scored.results.into_iter().zip(&specs).enumerate() {
            let i = &instances[p.inst];
            let reward = match r {
                Ok(Ok(x)) => x,
                Ok(Err(_)) => 0.0,
                Err(e) => {
                    if is_infra(&e) {
                        return Err(InfraError(e));
                    }
                    return Ok(Err(Failure::new(
                        Check::VerifyError,
                        reason_of(&e),
                        format!(
                            "verify() must return 0.0 for malformed answers, never fail; on seed {} difficulty {} with probe `{}` (response {:?}) it failed: {e}",
                            i.seed,
                            i.difficulty,
                            p.family,
                            excerpt(&p.response)
                        ),
                    )));
                }
            };
            if !(0.0..=1.0).contains(&reward) || !reward.is_finite() {
                return Ok(Err(Failure::new(
                    Check::RewardRange,
                    "reward_out_of_range",
                    format!(
                        "verify() returned {reward} for probe `{}` on seed {} difficulty {}; rewards must be in [0, 1]",
                        p.family, i.seed, i.difficulty
                    ),
                )));
            }
            let e = families.entry(p.family.to_string()).or_default();
            e[1] += 1;
            if reward > 0.0 {
                e[0] += 1;
                first_accept.entry(p.family).or_insert(k);
            }
            outcomes.push(ProbeOutcome {
                inst: p.inst,
                family: p.family,
                response: p.response.clone(),
                reward,
            });
        }
        pass!(Check::VerifyError);
        pass!(Check::RewardRange);
        report.stats.probes = outcomes.len();
        report.stats.probes_rejected = outcomes.iter().filter(|o| o.reward == 0.0).count();
        report.stats.probe_families = families.clone();
        for (family, k) in &first_accept {
            let p = &specs[*k];
            let [acc, sent] = families[*family];
            #[allow(clippy::cast_precision_loss)]
            let rate = acc as f64 / sent as f64;
            let tolerated = !p.strict && report.multiple_solutions && rate <= cfg.lenient_tolerance;
            if tolerated {
                continue;
            }
            let i = &instances[p.inst];
            let hint = if p.strict {
                "no correct answer looks like this, so verify() must return 0"
            } else if report.multiple_solutions {
                "even with MULTIPLE_SOLUTIONS this is accepted too often"
            } else {
                "the module has a unique answer per instance (it does not set MULTIPLE_SOLUTIONS = True), so every other answer must score 0"
            };
            return Ok(Err(Failure::new(
                Check::Probes,
                format!("accepted_{family}"),
                format!(
                    "verify() accepted the wrong answer probe `{family}` ({acc} of {sent} times); {hint}. Example: seed {} difficulty {}, reward {}, response:\n{}\nreference answer: {:?}",
                    i.seed,
                    i.difficulty,
                    outcomes[*k].reward,
                    excerpt(&p.response),
                    resyn_core::probes::reference_answer(i)
                ),
            )));
        }
        pass!(Check::Probes);
        Ok(Ok(Validated {
            env,
            instances,
            probes: outcomes,
        }))
    }

    fn with_output(mut f: Failure, stdout: &str, stderr: &str) -> Failure {
        if !stdout.trim().is_empty() {
            f.detail
                .push_str(&format!("\n[stdout] {}", excerpt(stdout)));
        }
        if !stderr.trim().is_empty() {
            f.detail
                .push_str(&format!("\n[stderr] {}", excerpt(stderr)));
        }
        f
    }

    /// Run the trusted static checker on `source` inside the sandbox.
    fn analyse(&self, source: &str) -> Result<Step<Analysis>, InfraError> {
        // A JSON string literal is a valid Python string literal.
        let literal = serde_json::to_string(source).unwrap_or_else(|_| "\"\"".into());
        let checker = format!("{CHECKER}\nSOURCE = {literal}\n");
        let env = match PythonEnv::from_source("resyn_static_check.py", checker, &self.sandbox) {
            Ok(e) => e,
            Err(e) => {
                if is_infra(&e) {
                    return Err(InfraError(e));
                }
                return Ok(Err(Failure::new(
                    Check::Parse,
                    "checker_failed",
                    e.to_string(),
                )));
            }
        };
        let r = env.try_generate_batch(&[(0, 1)], false);
        match r.results.into_iter().next() {
            Some(Ok(g)) => match serde_json::from_value::<Analysis>(g.instance.data) {
                Ok(a) => Ok(Ok(a)),
                Err(e) => Ok(Err(Failure::new(
                    Check::Parse,
                    "checker_failed",
                    e.to_string(),
                ))),
            },
            Some(Err(e)) => {
                if is_infra(&e) {
                    return Err(InfraError(e));
                }
                Ok(Err(Failure::new(
                    Check::Parse,
                    "unparseable",
                    e.to_string(),
                )))
            }
            None => Ok(Err(Failure::new(
                Check::Parse,
                "checker_failed",
                "no result",
            ))),
        }
    }
}

fn excerpt(s: &str) -> String {
    if s.chars().count() <= 400 {
        s.to_string()
    } else {
        let head: String = s.chars().take(400).collect();
        format!("{head}[... {} more characters]", s.chars().count() - 400)
    }
}

/// Where two generations of one instance differ.
fn difference(a: &Instance, b: &Instance) -> Option<String> {
    let fields = [
        ("prompt", a.prompt.clone(), b.prompt.clone()),
        ("data", a.data.to_string(), b.data.to_string()),
        ("reference", a.reference.clone(), b.reference.clone()),
    ];
    fields
        .into_iter()
        .find(|(_, x, y)| x != y)
        .map(|(name, x, y)| {
            let at = x
                .char_indices()
                .zip(y.chars())
                .find(|((_, c1), c2)| c1 != c2)
                .map_or(x.len().min(y.len()), |((i, _), _)| i);
            let snip = |s: &str| {
                s.get(at..)
                    .unwrap_or("")
                    .chars()
                    .take(60)
                    .collect::<String>()
            };
            format!(
                "`{name}` differs at byte {at}: first run {:?}, second run {:?}",
                snip(&x),
                snip(&y)
            )
        })
}
