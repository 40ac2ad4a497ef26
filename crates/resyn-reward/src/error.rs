//! Errors of reward computation: problems with the input or with the
//! machine, never with the model's response (those are zero-reward
//! verdicts).

/// Why a reward could not be computed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The ground-truth string is not one of the documented shapes.
    #[error("malformed ground truth: {0}")]
    GroundTruth(String),
    /// The ground truth or instance names an environment this scorer lacks.
    #[error("unknown environment `{0}`")]
    UnknownEnvironment(String),
    /// A reward weight is not a finite number.
    #[error("invalid reward config: {0}")]
    Config(String),
    /// The environment could not be run at all (its sandbox, interpreter or
    /// a worker could not be started: [`resyn_core::ReasonCode::Unavailable`]).
    /// Scoring 0 would train on a reward the response did not earn.
    #[error("environment `{env}` cannot run on this machine: {detail}")]
    Unavailable {
        /// The environment.
        env: String,
        /// Why, as the runtime said.
        detail: String,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
