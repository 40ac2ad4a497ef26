//! Every error the extension raises, mapped to Python exceptions in one place.
//!
//! Exceptions (all subclasses of `resyn.ResynError`):
//! - `GroundTruthError`: a `ground_truth` string is not a resyn ground truth;
//! - `UnknownEnvironmentError`: an environment id this process does not know;
//! - `EnvironmentUnavailableError`: an environment that cannot run on this
//!   machine (its sandbox, interpreter or a worker process could not start):
//!   raised instead of a reward of 0 the response did not earn;
//! - `InstanceError`: an instance that does not parse, or an instance the
//!   environment could not generate (difficulty out of range, backend error);
//! - `CurriculumError`: an online curriculum that cannot start (dataset
//!   config, saved state), an outcome it cannot count, or a run with
//!   nothing left to draw;
//! - `ResynError` itself: invalid arguments (e.g. non-finite weights) and
//!   configuration errors (Python environment directories, the sandbox).
//!
//! File errors (reading a config or state, writing a state or decision
//! log) raise `OSError` naming the file.

use std::path::PathBuf;

use pyo3::PyErr;
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyOSError};

create_exception!(
    resyn,
    ResynError,
    PyException,
    "Base class of every error resyn raises."
);
create_exception!(
    resyn,
    GroundTruthError,
    ResynError,
    "A ground-truth string is not a resyn ground truth (malformed JSON or shape)."
);
create_exception!(
    resyn,
    UnknownEnvironmentError,
    ResynError,
    "An environment id that this process does not know."
);
create_exception!(
    resyn,
    EnvironmentUnavailableError,
    ResynError,
    "An environment that cannot run on this machine: its sandbox, its interpreter or a worker \
     process could not be started (e.g. no Python, a required isolation layer missing, a \
     process limit reached). Raised instead of scoring 0."
);
create_exception!(
    resyn,
    InstanceError,
    ResynError,
    "An instance that does not parse, or that could not be generated."
);

create_exception!(
    resyn,
    CurriculumError,
    ResynError,
    "An online curriculum error: a config or saved state it cannot run, an outcome it cannot \
     count, or nothing left to draw."
);

/// Errors of the extension's functions.
#[derive(Debug)]
pub(crate) enum Error {
    Reward(resyn_reward::Error),
    Core(resyn_core::Error),
    Instance(String),
    /// Configuration (sandbox, environment directories, call order).
    Config(String),
    /// The online curriculum.
    Curriculum(String),
    /// Reading or writing a file.
    Io(PathBuf, std::io::Error),
}

impl From<resyn_curriculum::Error> for Error {
    fn from(e: resyn_curriculum::Error) -> Self {
        match e {
            resyn_curriculum::Error::Io { path, source } => Self::Io(path, source),
            resyn_curriculum::Error::Unavailable(e) => Self::Core(e),
            other => Self::Curriculum(other.to_string()),
        }
    }
}

impl From<resyn_data::Error> for Error {
    fn from(e: resyn_data::Error) -> Self {
        match e {
            resyn_data::Error::Io { path, source } => Self::Io(path, source),
            resyn_data::Error::Curriculum(e) => e.into(),
            resyn_data::Error::Unavailable(e) => Self::Core(e),
            other => Self::Curriculum(other.to_string()),
        }
    }
}

impl From<resyn_reward::Error> for Error {
    fn from(e: resyn_reward::Error) -> Self {
        Self::Reward(e)
    }
}

impl From<resyn_core::Error> for Error {
    fn from(e: resyn_core::Error) -> Self {
        Self::Core(e)
    }
}

impl From<Error> for PyErr {
    fn from(e: Error) -> PyErr {
        use resyn_reward::Error as R;
        match e {
            Error::Reward(e @ R::GroundTruth(_)) => GroundTruthError::new_err(e.to_string()),
            Error::Reward(e @ R::UnknownEnvironment(_)) => {
                UnknownEnvironmentError::new_err(e.to_string())
            }
            Error::Reward(e @ R::Unavailable { .. }) => {
                EnvironmentUnavailableError::new_err(e.to_string())
            }
            Error::Reward(e) => ResynError::new_err(e.to_string()),
            Error::Core(e @ resyn_core::Error::UnknownEnvironment(_)) => {
                UnknownEnvironmentError::new_err(e.to_string())
            }
            Error::Core(e @ resyn_core::Error::Unavailable { .. }) => {
                EnvironmentUnavailableError::new_err(e.to_string())
            }
            Error::Core(e) => InstanceError::new_err(e.to_string()),
            Error::Instance(m) => InstanceError::new_err(m),
            Error::Config(m) => ResynError::new_err(m),
            Error::Curriculum(m) => CurriculumError::new_err(m),
            Error::Io(path, e) => PyOSError::new_err(format!("{}: {e}", path.display())),
        }
    }
}

/// `Result` with [`Error`].
pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;
