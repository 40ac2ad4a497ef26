//! The error type of the curriculum crate.

use std::io;
use std::path::PathBuf;

/// What can go wrong configuring, running, saving or restoring a curriculum.
///
/// A rejected [`crate::Generator::report`] has no partial effect; a draw
/// that ends in [`Error::Exhausted`] keeps the generation failures and
/// draws it made before (they are facts of the run).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A policy parameter is invalid; `field` is its path inside the
    /// `[curriculum]` section (e.g. `target_low`, `envs.maze.max`).
    #[error("field `{field}`: {message}")]
    Config {
        /// Dotted path of the field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The generator was given no environment.
    #[error("the curriculum has no environment to draw from")]
    NoEnvironments,
    /// An outcome names an environment the run does not have.
    #[error("outcomes[{index}]: unknown environment `{env}`")]
    UnknownEnvironment {
        /// Position of the outcome in the reported batch.
        index: usize,
        /// The environment id given.
        env: String,
    },
    /// An outcome cannot be used (reward out of range, difficulty outside
    /// the environment's range, an id drawn from another environment).
    #[error("outcomes[{index}]: {message}")]
    InvalidOutcome {
        /// Position of the outcome in the reported batch.
        index: usize,
        /// What is wrong with it.
        message: String,
    },
    /// Every environment is retired or disabled: nothing is left to draw.
    #[error("every environment is retired or disabled; nothing left to draw ({0})")]
    Exhausted(String),
    /// An environment cannot run on this machine (its sandbox, interpreter
    /// or a worker could not start): the draw stops instead of disabling it,
    /// which would outlive the machine's problem in the saved state.
    #[error(transparent)]
    Unavailable(resyn_core::Error),
    /// A saved state does not fit the environments it is restored with
    /// (an environment missing, added, or at another version), or is not
    /// a curriculum state of this format.
    #[error("{}cannot restore the curriculum state: {message}", path_prefix(.path))]
    State {
        /// The state file, when the state came from one.
        path: Option<PathBuf>,
        /// What does not fit.
        message: String,
    },
    /// Reading or writing a state file failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

fn path_prefix(path: &Option<PathBuf>) -> String {
    path.as_ref()
        .map(|p| format!("{}: ", p.display()))
        .unwrap_or_default()
}

impl Error {
    pub(crate) fn config(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Config {
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn state(message: impl Into<String>) -> Self {
        Self::State {
            path: None,
            message: message.into(),
        }
    }

    pub(crate) fn invalid(index: usize, message: impl Into<String>) -> Self {
        Self::InvalidOutcome {
            index,
            message: message.into(),
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
