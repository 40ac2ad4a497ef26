//! Offline validation of a Python environment module, cheapest checks first.
//!
//! A module is valid when it passes its source checks (`source.rs`) —
//! 1. `size`: non-empty and at most [`ValidationConfig::max_code_bytes`];
//! 2. `parse`: Python's `ast` parses it (a trusted checker in the sandbox;
//!    the candidate is not executed);
//! 3. `imports`: only standard-library modules on [`ValidationConfig::allowed_imports`],
//!    and no escape hatches (`eval`, `exec`, `__import__`, `open`,
//!    `__subclasses__`, ...);
//! 4. `api`: `NAME`, `CATEGORY`, `DESCRIPTION`, `generate(rng, difficulty)`,
//!    `verify(instance, answer)` defined at top level;
//! 5. `load`: it loads in the sandbox (module-level code runs) —
//!
//! and then the conformance checks every environment must pass, defined
//! once in [`resyn_core::conformance`] (generation: `generate`,
//! `determinism` on a fresh worker, `uniqueness`, `prompt_length`,
//! `answer_leak`; verification: `reference`, `solve`, `verify_error`,
//! `reward_range`, `probes`), with its thresholds
//! ([`ValidationConfig::thresholds`]). Python modules may give partial
//! credit; `MULTIPLE_SOLUTIONS = True` lets lenient probe families through
//! up to [`Thresholds::lenient_tolerance`]. The first failure stops
//! validation and is reported with a short reason code and the precise
//! detail (traceback, failing seed, accepted probe) that a repair prompt
//! needs.

mod source;

use std::time::Instant;

use resyn_core::Environment;
use resyn_core::conformance::{self, Options};
use resyn_sandbox::{Error as SbError, PythonEnv, Sandbox};
use serde::{Deserialize, Serialize};

pub use resyn_core::conformance::{Check, Failure, ProbeOutcome, Stats, Thresholds};

/// Sizes, limits and thresholds of validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ValidationConfig {
    /// Largest accepted source, bytes.
    pub max_code_bytes: usize,
    /// Top-level modules that may be imported.
    pub allowed_imports: Vec<String>,
    /// Seeds, distinct-prompt share, prompt bounds, leak length, probe
    /// tolerance (the conformance checks' own settings).
    #[serde(flatten)]
    pub thresholds: Thresholds,
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
            max_code_bytes: 64 << 10,
            allowed_imports: DEFAULT_ALLOWED_IMPORTS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            thresholds: Thresholds::default(),
        }
    }
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
    pub instances: Vec<resyn_core::Instance>,
    /// Probes sent and the rewards they got.
    pub probes: Vec<ProbeOutcome>,
}

/// The sandbox itself failed (not the candidate): the run cannot go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InfraError {
    /// Loading or calling into the sandbox failed.
    #[error("sandbox unavailable: {0}")]
    Sandbox(#[source] SbError),
    /// A conformance check could not conclude.
    #[error("sandbox unavailable: {0}")]
    Runtime(#[source] conformance::InfraError),
}

/// Runs validations on a shared sandbox. Blocking: call from a blocking
/// thread in async code.
#[derive(Debug, Clone)]
pub struct Validator {
    sandbox: Sandbox,
    config: ValidationConfig,
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

    fn run(
        &self,
        file: &str,
        source: &str,
        report: &mut ValidationReport,
    ) -> Result<Result<Validated, Failure>, InfraError> {
        if let Err(f) = source::check(&self.sandbox, &self.config, source, report)? {
            return Ok(Err(f));
        }
        let env = match PythonEnv::from_source(file, source.to_string(), &self.sandbox) {
            Ok(e) => e,
            Err(e) if e.is_infra() => return Err(InfraError::Sandbox(e)),
            Err(e) => return Ok(Err(Failure::new(Check::Load, e.reason(), e.to_string()))),
        };
        let m = env.meta().clone();
        report.name = Some(m.id.clone());
        report.version = Some(m.version);
        report.category = Some(m.category.as_str().to_string());
        report.description = Some(m.description.clone());
        report.has_solve = env.has_solve();
        report.passed_checks.push(Check::Load);
        let options = Options {
            multiple_solutions: report.multiple_solutions,
            partial_credit: true,
            ..Options::default()
        };
        let outcome = conformance::run(
            &env,
            &self.config.thresholds,
            &options,
            &mut report.passed_checks,
            &mut report.stats,
        )
        .map_err(InfraError::Runtime)?;
        Ok(outcome.map(|passed| Validated {
            env,
            instances: passed.instances,
            probes: passed.probes,
        }))
    }
}
