//! The conformance checks as a test harness (feature `testing`).
//!
//! [`Conformance::run`] runs [`crate::conformance::run`] — the one definition
//! of a valid environment, which `resyn validate` and the synthesis pipeline
//! apply to Python modules — on an environment through its trait, and panics
//! with the failed check's reason and detail. Unit tests of native
//! environments add what they know: env-specific wrong answers (e.g.
//! one-step mutations of the reference), an oracle for tasks with many valid
//! answers, declared partial credit.

use std::ops::RangeInclusive;

use crate::conformance::{self, Native, Options, Stats, Thresholds};
use crate::{EnvMeta, Environment, Error, Instance, ReasonCode, Rng, Verdict};

type WrongFn<'a> = Box<dyn Fn(&Instance, &mut Rng) -> Vec<String> + 'a>;
type AcceptFn<'a> = Box<dyn Fn(&Instance, &str) -> bool + 'a>;

/// A configured conformance run.
pub struct Conformance<'a> {
    env: &'a dyn Environment,
    thresholds: Thresholds,
    difficulties: Option<RangeInclusive<u8>>,
    wrong: Option<WrongFn<'a>>,
    acceptable: Option<AcceptFn<'a>>,
    partial: bool,
}

/// Counts from a passing run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Instances generated and checked.
    pub instances: usize,
    /// Wrong answers (probes + env-specific) that scored 0.
    pub rejected: usize,
    /// Accepted probes the oracle judged legitimately correct.
    pub legit: usize,
}

impl<'a> Conformance<'a> {
    /// Defaults: 20 seeds, every difficulty, the default thresholds, no
    /// env-specific wrong answers, no oracle, binary rewards.
    pub fn new(env: &'a dyn Environment) -> Self {
        Self {
            env,
            thresholds: Thresholds {
                seeds: 20,
                ..Thresholds::default()
            },
            difficulties: None,
            wrong: None,
            acceptable: None,
            partial: false,
        }
    }

    /// Number of seeds per difficulty.
    pub fn seeds(mut self, n: u64) -> Self {
        self.thresholds.seeds = n;
        self
    }

    /// Difficulties to sweep.
    pub fn difficulties(mut self, d: RangeInclusive<u8>) -> Self {
        self.difficulties = Some(d);
        self
    }

    /// Env-specific wrong answers (bare answer text, wrapped in tags by the
    /// harness), e.g. one-step mutations of the reference. Each must score 0
    /// unless `acceptable` says otherwise.
    pub fn wrong(mut self, f: impl Fn(&Instance, &mut Rng) -> Vec<String> + 'a) -> Self {
        self.wrong = Some(Box::new(f));
        self
    }

    /// Independent oracle: is this bare answer text legitimately correct for
    /// the instance? Needed for tasks with many valid answers.
    pub fn acceptable(mut self, f: impl Fn(&Instance, &str) -> bool + 'a) -> Self {
        self.acceptable = Some(Box::new(f));
        self
    }

    /// Allow rewards strictly between 0 and 1 (documented partial credit).
    pub fn partial_credit(mut self) -> Self {
        self.partial = true;
        self
    }

    /// Run every check; panics with the failed check's reason and detail.
    pub fn run(self) -> Report {
        let options = Options {
            multiple_solutions: false,
            partial_credit: self.partial,
            wrong: self.wrong.as_deref().map(|f| f as _),
            acceptable: self.acceptable.as_deref().map(|f| f as _),
            difficulties: self.difficulties.clone(),
        };
        let id = &self.env.meta().id;
        let mut passed = Vec::new();
        let mut stats = Stats::default();
        match conformance::run(
            &Native(self.env),
            &self.thresholds,
            &options,
            &mut passed,
            &mut stats,
        ) {
            Ok(Ok(_)) => Report {
                instances: stats.instances,
                rejected: stats.probes_rejected,
                legit: stats.probes_legit,
            },
            Ok(Err(f)) => panic!("{id}: {f}"),
            Err(e) => panic!("{id}: {e}"),
        }
    }
}

/// An environment that cannot run on this machine, as a sandboxed one
/// reports it when its sandbox cannot start: generating fails with
/// [`Error::Unavailable`] and every verdict is [`ReasonCode::Unavailable`].
/// For tests of what callers do with one (never a reward of 0, never a
/// disabled or excluded environment).
pub struct CannotRun(pub EnvMeta);

impl CannotRun {
    /// The detail of every failure.
    pub const DETAIL: &'static str = "the sandbox could not start";

    /// `env`'s metadata under the id `id`.
    pub fn like(env: &dyn Environment, id: &str) -> Self {
        let mut meta = env.meta().clone();
        meta.id = id.into();
        Self(meta)
    }
}

impl Environment for CannotRun {
    fn meta(&self) -> &EnvMeta {
        &self.0
    }

    fn generate(&self, _: u64, _: u8) -> crate::Result<Instance> {
        Err(Error::Unavailable {
            env: self.0.id.clone(),
            source: Self::DETAIL.into(),
        })
    }

    fn verify(&self, _: &Instance, _: &str) -> Verdict {
        Verdict::zero(ReasonCode::Unavailable, Self::DETAIL)
    }
}
