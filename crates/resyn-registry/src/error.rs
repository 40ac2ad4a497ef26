//! Why a set of environment sources could not be assembled.

use std::path::PathBuf;
use std::sync::Arc;

/// Errors of [`crate::Sources::load`]. Each names the file or directory at
/// fault; a Python module that fails to load is not an error but a
/// [`crate::Loaded::skipped`] entry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A Python environment directory that does not exist.
    #[error("environment directory {} does not exist", path.display())]
    MissingDir {
        /// The directory.
        path: PathBuf,
    },
    /// A store that was named (flag, `RESYN_STORE`, `configure`) does not exist.
    #[error("store {} does not exist", path.display())]
    MissingStore {
        /// The store file.
        path: PathBuf,
    },
    /// The store exists but could not be opened or read.
    #[error("reading store {}", path.display())]
    Store {
        /// The store file.
        path: PathBuf,
        /// Why.
        #[source]
        source: resyn_store::Error,
    },
    /// The sandbox for Python environments could not start (e.g. the host
    /// cannot enforce a required isolation layer).
    #[error("starting the Python sandbox")]
    Sandbox(#[source] Arc<resyn_sandbox::Error>),
    /// Extra Python source given to [`crate::Loaded::load_module`] could not
    /// be loaded.
    #[error("loading Python module `{id}`: {source}")]
    Module {
        /// The environment id or file name.
        id: String,
        /// Why: the sandbox's load error.
        #[source]
        source: Arc<resyn_sandbox::Error>,
    },
    /// An environment variable holds a value of the wrong form.
    #[error("{var}={value:?}: expected {expected}")]
    BadVar {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// What it should hold.
        expected: &'static str,
    },
    /// Two sources provide an environment with the same id.
    #[error("{origin}: environment `{id}` is already provided by another source")]
    Clash {
        /// The environment id.
        id: String,
        /// Where the second one came from (a module file, or a store).
        origin: String,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
