//! The error type shared by environment implementations.
//!
//! A variant that wraps another error keeps it as its `source()`, so callers
//! can inspect it (e.g. downcast to `resyn_sandbox::Error`), and also quotes
//! it in its own message, so `to_string()` alone says what went wrong. Print
//! a chain with [`crate::error_chain`], which names such a cause once.

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
    /// The environment failed to produce an instance (e.g. sandboxed code
    /// raised). The backend's own error (e.g. a `resyn_sandbox::Error`) is
    /// kept as the [`source`](std::error::Error::source) and quoted in the
    /// message.
    #[error(
        "environment `{env}` failed to generate (seed {seed}, difficulty {difficulty}): {source}"
    )]
    Generation {
        /// Environment id.
        env: String,
        /// Seed.
        seed: u64,
        /// Difficulty.
        difficulty: u8,
        /// What went wrong, as the backend reported it.
        #[source]
        source: BoxError,
    },
    /// The environment cannot run on this machine: its runtime (the
    /// sandbox, its interpreter, a worker process) could not start. Not the
    /// environment's fault and nothing was generated: callers stop rather
    /// than skip the environment as broken. The backend's error is the
    /// source.
    #[error("environment `{env}` cannot run on this machine: {source}")]
    Unavailable {
        /// Environment id.
        env: String,
        /// Why, as the backend reported it.
        #[source]
        source: BoxError,
    },
    /// Instance data could not be (de)serialized.
    #[error("instance data: {0}")]
    Data(#[from] serde_json::Error),
    /// Any other failure of an environment backend: its own error, kept as
    /// the source and shown as it is (a plain message converts with
    /// `.into()`).
    #[error("{0}")]
    Backend(#[source] BoxError),
}

/// A backend's own error, kept whole as the source of an [`Error`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
