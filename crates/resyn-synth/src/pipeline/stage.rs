//! The stages a candidate goes through, and what a stage can decide.

use std::fmt;

/// A pipeline stage, in the order a candidate meets them. Its name is what
/// the store records (`stage` of every event) and the summary groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Stage {
    /// The proposal call of a keyword.
    Propose,
    /// The implementation (or repair) call.
    Implement,
    /// A module extracted from the reply.
    Extract,
    /// Offline validation in the sandbox.
    Validate,
    /// `NAME` is free.
    Name,
    /// Text and behavioural dedup against every known environment (cheap:
    /// before any further LLM call, and again at storage).
    Dedup,
    /// n-gram overlap with benchmark files.
    Decontaminate,
    /// The two-step LLM review.
    Review,
    /// A second verifier written from the questions alone (drawn, loaded).
    CrossVerifier,
    /// The two verifiers compared on references, probes and solver answers.
    CrossVerify,
    /// A disputed answer judged (majority of verifiers, LLM judge).
    Adjudicate,
    /// Solve rate versus difficulty with a solver model.
    Calibrate,
    /// Stored as an environment.
    Store,
    /// Not processed: the run reached its target.
    Skip,
}

impl Stage {
    /// The funnel of a run: the stages whose passing a candidate counts
    /// as a step towards acceptance, in pipeline order.
    pub const FUNNEL: [Stage; 8] = [
        Stage::Extract,
        Stage::Validate,
        Stage::Dedup,
        Stage::Decontaminate,
        Stage::Review,
        Stage::CrossVerify,
        Stage::Calibrate,
        Stage::Store,
    ];

    /// The recorded name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Propose => "propose",
            Stage::Implement => "implement",
            Stage::Extract => "extract",
            Stage::Validate => "validate",
            Stage::Name => "name",
            Stage::Dedup => "dedup",
            Stage::Decontaminate => "decontaminate",
            Stage::Review => "review",
            Stage::CrossVerifier => "cross_verifier",
            Stage::CrossVerify => "cross_verify",
            Stage::Adjudicate => "adjudicate",
            Stage::Calibrate => "calibrate",
            Stage::Store => "store",
            Stage::Skip => "skip",
        }
    }

    /// What passing the stage means, for the funnel table.
    pub fn funnel_label(self) -> &'static str {
        match self {
            Stage::Extract => "implemented",
            Stage::Validate => "valid",
            Stage::Dedup => "unique",
            Stage::Review => "reviewed",
            Stage::CrossVerify => "cross-verified",
            Stage::Calibrate => "calibrated",
            Stage::Decontaminate => "uncontaminated",
            Stage::Store => "stored",
            other => other.as_str(),
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to a candidate in the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Accepted,
    Rejected,
    Skipped,
}

/// What to do after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Then {
    /// Send the evidence back to the model (while repair rounds last).
    Repair,
    /// Reject for good.
    Reject,
}

/// A failed stage: where, a short reason code, the evidence shown to the
/// model on repair (and stored).
#[derive(Debug, Clone)]
pub(crate) struct Fail {
    pub stage: Stage,
    pub reason: String,
    pub detail: String,
    pub then: Then,
}

impl Fail {
    pub(crate) fn repair(
        stage: Stage,
        reason: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            stage,
            reason: reason.into(),
            detail: detail.into(),
            then: Then::Repair,
        }
    }

    pub(crate) fn reject(
        stage: Stage,
        reason: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            then: Then::Reject,
            ..Self::repair(stage, reason, detail)
        }
    }
}

/// A stage's decision on a candidate. (Errors that stop the run — store,
/// sandbox — are the `Err` of the surrounding [`crate::Result`].)
#[derive(Debug)]
pub(crate) enum Step<T> {
    /// Passed, with what the stage produced.
    Pass(T),
    /// Failed: repair or reject.
    Fail(Fail),
}

/// `?` for stage decisions: pass the value on, or return the failure.
macro_rules! step {
    ($e:expr) => {
        match $e {
            $crate::pipeline::stage::Step::Pass(v) => v,
            $crate::pipeline::stage::Step::Fail(f) => {
                return Ok($crate::pipeline::stage::Step::Fail(f))
            }
        }
    };
}
pub(crate) use step;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn funnel_is_in_pipeline_order() {
        let mut sorted = Stage::FUNNEL;
        sorted.sort();
        assert_eq!(sorted, Stage::FUNNEL);
    }
}
