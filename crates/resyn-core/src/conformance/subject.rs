//! [`Subject`]: what conformance checks talk to, with errors a report can name.

use crate::{EnvMeta, Environment, Instance, ReasonCode, Verdict};

/// A failed call into the environment: generation or verification raised,
/// timed out, crashed, returned nonsense, ...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// Short machine-readable reason (`timeout`, `exception`, `crash`, ...).
    pub reason: String,
    /// What happened, with the traceback when there is one.
    pub message: String,
    /// The runtime itself failed (not the environment's code): the check
    /// cannot conclude, and the environment must not be blamed.
    pub infra: bool,
}

impl CallError {
    /// A failure of the environment's own code.
    pub fn env(reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            message: message.into(),
            infra: false,
        }
    }
}

/// One generation result: the instance and, when asked for and available,
/// the environment's own solver output (a bare answer).
pub type GenResult = Result<(Instance, Option<String>), CallError>;

/// The results of one generation call, plus what the code printed (quoted in
/// failure details; empty for native environments).
#[derive(Debug, Clone, Default)]
pub struct Generation {
    /// One result per request, in request order.
    pub results: Vec<GenResult>,
    /// Captured output of the environment's code.
    pub output: String,
}

/// How a response was scored.
#[derive(Debug, Clone, PartialEq)]
pub enum Scored {
    /// The verifier's reward (range not yet checked).
    Reward(f64),
    /// No answer could be extracted: scored 0 without running the verifier.
    Unreadable(Verdict),
}

/// An environment under check. [`Native`] checks any environment through
/// its trait (what native environments use); sandboxed Python environments
/// implement it with their typed errors, output capture and a fresh worker
/// for the determinism check.
pub trait Subject {
    /// The environment's metadata.
    fn meta(&self) -> &EnvMeta;

    /// Generate `(seed, difficulty)` requests, with solver outputs when
    /// `with_solutions` and the environment has a solver.
    fn generate(&self, requests: &[(u64, u8)], with_solutions: bool) -> Generation;

    /// Generate again on a fresh instance of the environment (a new process
    /// for sandboxed code), so state carried between calls shows up as a
    /// difference.
    fn generate_fresh(&self, requests: &[(u64, u8)]) -> Generation;

    /// Score full responses.
    fn verify(&self, items: &[(&Instance, &str)]) -> Vec<Result<Scored, CallError>>;
}

/// Any environment, checked through the [`Environment`] trait.
#[derive(Clone, Copy)]
pub struct Native<'a>(pub &'a dyn Environment);

impl std::fmt::Debug for Native<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Native").field(&self.0.meta().id).finish()
    }
}

impl Subject for Native<'_> {
    fn meta(&self) -> &EnvMeta {
        self.0.meta()
    }

    fn generate(&self, requests: &[(u64, u8)], _with_solutions: bool) -> Generation {
        Generation {
            results: self
                .0
                .generate_batch(requests)
                .into_iter()
                .map(|r| {
                    r.map(|i| (i, None))
                        .map_err(|e| CallError::env("generate_error", e.to_string()))
                })
                .collect(),
            output: String::new(),
        }
    }

    fn generate_fresh(&self, requests: &[(u64, u8)]) -> Generation {
        // In-process environments hold no state between calls but what they
        // keep on purpose: generating again is the fresh run.
        Subject::generate(self, requests, false)
    }

    fn verify(&self, items: &[(&Instance, &str)]) -> Vec<Result<Scored, CallError>> {
        self.0
            .verify_batch(items)
            .into_iter()
            .map(|v| match v.reason {
                ReasonCode::EnvError | ReasonCode::Unavailable => {
                    Err(CallError::env(v.reason.as_str(), v.detail))
                }
                ReasonCode::NoAnswer | ReasonCode::TooLong => Ok(Scored::Unreadable(v)),
                _ if v.correct != (v.reward == 1.0) => Err(CallError::env(
                    "inconsistent_verdict",
                    format!(
                        "verdict says correct = {} with reward {}",
                        v.correct, v.reward
                    ),
                )),
                _ => Ok(Scored::Reward(v.reward)),
            })
            .collect()
    }
}
