//! The error type shared by environment implementations.

/// Errors an environment can report while generating instances or loading.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The requested difficulty is outside the environment's range.
    #[error("difficulty {difficulty} is outside {min}..={max} for environment `{env}`")]
    DifficultyOutOfRange {
        /// Environment id.
        env: String,
        /// The difficulty asked for.
        difficulty: u8,
        /// Lowest supported difficulty.
        min: u8,
        /// Highest supported difficulty.
        max: u8,
    },
    /// No environment with this id is known.
    #[error("unknown environment `{0}`")]
    UnknownEnvironment(String),
    /// Two environments were registered under one id.
    #[error("environment id `{0}` is registered twice")]
    DuplicateEnvironment(String),
    /// The environment failed to produce an instance (e.g. sandboxed code raised).
    #[error(
        "environment `{env}` failed to generate (seed {seed}, difficulty {difficulty}): {message}"
    )]
    Generation {
        /// Environment id.
        env: String,
        /// Seed.
        seed: u64,
        /// Difficulty.
        difficulty: u8,
        /// What went wrong.
        message: String,
    },
    /// Instance data could not be (de)serialized.
    #[error("instance data: {0}")]
    Data(#[from] serde_json::Error),
    /// Any other failure of an environment backend, with its own message.
    #[error("{0}")]
    Backend(String),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
