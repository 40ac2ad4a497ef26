//! What "a valid environment" means, defined once for every environment:
//! native ones (in their unit tests), hand-written and LLM-written Python
//! modules (`resyn validate`, the synthesis pipeline, the bundled corpus's
//! tests).
//!
//! [`run`] checks a [`Subject`] and stops at the first failed [`Check`],
//! reporting a short reason code and the precise detail (failing seed,
//! accepted probe, traceback) a repair prompt or a test failure needs:
//!
//! - generation checks ([`Check::Generate`] through [`Check::AnswerLeak`]):
//!   every difficulty × [`Thresholds::seeds`] generates, with the right
//!   instance fields; out-of-range difficulties are refused; a fresh run in
//!   reverse order gives byte-identical instances; enough distinct prompts
//!   per difficulty; prompts within bounds; the reference answer not
//!   verbatim in the prompt;
//! - verification checks ([`Check::Reference`] through [`Check::Probes`]):
//!   references and solver outputs score exactly 1; `verify` never fails on
//!   a probe; rewards are finite, in `[0, 1]` and binary unless partial
//!   credit is declared; every wrong-answer [probe](crate::probes) is
//!   rejected — unless an independent oracle (unit tests of native
//!   environments) says its answer is legitimately right, or, for a lenient
//!   family of an environment declaring several solutions, rarely enough.
//!
//! Checks on an environment's *source* ([`Check::Size`] through
//! [`Check::Load`]) are named here so that every report speaks one
//! vocabulary, and run by the synthesis validator before it calls [`run`].

mod generation;
mod subject;
#[cfg(test)]
mod tests;
mod verification;

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

use crate::{Instance, Rng};

pub use subject::{CallError, GenResult, Generation, Native, Scored, Subject};

/// Details are capped (a repair prompt quotes them).
const DETAIL_CAP: usize = 6000;

/// The checks, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Check {
    /// Source size.
    Size,
    /// Source syntax.
    Parse,
    /// Allowed imports and names.
    Imports,
    /// Required top-level names.
    Api,
    /// Loading the module.
    Load,
    /// Generating instances (fields, refused out-of-range difficulties).
    Generate,
    /// Same instance on a fresh run.
    Determinism,
    /// Distinct prompts.
    Uniqueness,
    /// Prompt length bounds.
    PromptLength,
    /// Reference answer visible in the prompt.
    AnswerLeak,
    /// References verify to 1.
    Reference,
    /// Solver outputs verify to 1.
    Solve,
    /// `verify` failed (raised, timed out, inconsistent verdict).
    VerifyError,
    /// Rewards finite, in [0, 1], binary unless partial credit.
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
    /// A failure with its detail capped at a few thousand characters.
    pub fn new(check: Check, reason: impl Into<String>, detail: impl Into<String>) -> Self {
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

    /// The failure of `check` that a failed call amounts to.
    pub fn of_call(check: Check, e: &CallError, detail: impl Into<String>) -> Self {
        Self::new(check, e.reason.clone(), detail)
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

/// The runtime failed, not the environment: nothing can be concluded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the runtime failed ({}): {}", .0.reason, .0.message)]
pub struct InfraError(pub CallError);

/// Sizes and thresholds of the checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Thresholds {
    /// Seeds per difficulty (seeds `0..seeds`).
    pub seeds: u64,
    /// Smallest share of distinct prompts at each difficulty.
    pub min_unique_ratio: f64,
    /// Shortest prompt (characters, without the appended answer instruction).
    pub min_prompt_chars: usize,
    /// Longest prompt.
    pub max_prompt_chars: usize,
    /// Reference answers at least this long (whitespace-collapsed) must not
    /// appear verbatim in the prompt.
    pub leak_min_chars: usize,
    /// Share of a lenient probe family that an environment declaring several
    /// solutions may accept.
    pub lenient_tolerance: f64,
    /// Other instances used for cross-instance probes.
    pub probe_others: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            seeds: 12,
            min_unique_ratio: 0.5,
            min_prompt_chars: 20,
            max_prompt_chars: 12_000,
            leak_min_chars: 7,
            lenient_tolerance: 0.5,
            probe_others: 2,
        }
    }
}

/// Extra wrong answers for an instance (bare answer texts).
pub type WrongAnswers<'a> = &'a dyn Fn(&Instance, &mut Rng) -> Vec<String>;
/// Whether a bare answer is legitimately correct for an instance.
pub type Oracle<'a> = &'a dyn Fn(&Instance, &str) -> bool;

/// Environment-specific knowledge the checks use.
#[derive(Default)]
pub struct Options<'a> {
    /// Several answers can be correct (`MULTIPLE_SOLUTIONS = True` in a
    /// Python module): lenient probe families may be accepted up to
    /// [`Thresholds::lenient_tolerance`].
    pub multiple_solutions: bool,
    /// Rewards strictly between 0 and 1 are documented partial credit.
    pub partial_credit: bool,
    /// Extra wrong answers (bare answer text, wrapped in tags by the check),
    /// e.g. one-step mutations of the reference; a lenient family.
    pub wrong: Option<WrongAnswers<'a>>,
    /// An independent oracle: is this bare answer legitimately correct for
    /// the instance? An accepted probe it approves is not a failure.
    pub acceptable: Option<Oracle<'a>>,
    /// Check only these difficulties (default: every level, as validation
    /// does; unit tests of slow environments split the range).
    pub difficulties: Option<RangeInclusive<u8>>,
}

impl std::fmt::Debug for Options<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("multiple_solutions", &self.multiple_solutions)
            .field("partial_credit", &self.partial_credit)
            .field("wrong", &self.wrong.is_some())
            .field("acceptable", &self.acceptable.is_some())
            .field("difficulties", &self.difficulties)
            .finish()
    }
}

/// Counts and measurements.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Instances generated (per pass).
    pub instances: usize,
    /// Solver outputs verified.
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
    /// Accepted probes the oracle judged legitimately correct.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub probes_legit: usize,
    /// Per family: `[accepted, sent]`.
    pub probe_families: BTreeMap<String, [usize; 2]>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One probe and the reward it got.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeOutcome {
    /// Index into [`Passed::instances`].
    pub inst: usize,
    /// Probe family.
    pub family: &'static str,
    /// Full response.
    pub response: String,
    /// The verifier's reward.
    pub reward: f64,
}

/// What a passing run produced, for later stages to reuse.
#[derive(Debug, Clone, Default)]
pub struct Passed {
    /// The generated instances (difficulty-major, seeds `0..seeds`).
    pub instances: Vec<Instance>,
    /// Every probe sent and its reward.
    pub probes: Vec<ProbeOutcome>,
}

/// The outcome of [`run`]: passed, or the first failure.
pub type Outcome = Result<Passed, Failure>;

/// Run the generation and verification checks on `subject`, recording the
/// checks that pass in `passed` and measurements in `stats`.
///
/// # Errors
/// [`InfraError`] when the runtime (not the environment) failed.
pub fn run(
    subject: &dyn Subject,
    thresholds: &Thresholds,
    options: &Options<'_>,
    passed: &mut Vec<Check>,
    stats: &mut Stats,
) -> Result<Outcome, InfraError> {
    let mut ctx = Ctx {
        subject,
        t: thresholds,
        o: options,
        passed,
        stats,
    };
    let generated = match generation::run(&mut ctx)? {
        Ok(g) => g,
        Err(f) => return Ok(Err(f)),
    };
    verification::run(&mut ctx, generated)
}

/// State shared by the checks of one run.
pub(crate) struct Ctx<'a, 'o> {
    subject: &'a dyn Subject,
    t: &'a Thresholds,
    o: &'a Options<'o>,
    passed: &'a mut Vec<Check>,
    stats: &'a mut Stats,
}

impl Ctx<'_, '_> {
    fn pass(&mut self, c: Check) {
        self.passed.push(c);
    }
}

/// A call error that stops everything when it is the runtime's.
fn call_failure(check: Check, e: &CallError, detail: String) -> Result<Failure, InfraError> {
    if e.infra {
        return Err(InfraError(e.clone()));
    }
    Ok(Failure::of_call(check, e, detail))
}

/// At most 400 characters of `s`, saying how much was cut.
pub fn excerpt(s: &str) -> String {
    if s.chars().count() <= 400 {
        s.to_string()
    } else {
        let head: String = s.chars().take(400).collect();
        format!("{head}[... {} more characters]", s.chars().count() - 400)
    }
}

/// Whitespace-collapsed, lower-cased text: "is it the same answer".
pub fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}
