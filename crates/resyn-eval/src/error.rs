//! Errors of the evaluator.

use std::path::PathBuf;

/// Errors of `resyn-eval`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A benchmark file, cache or report has the wrong shape.
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Format {
        /// The file.
        path: PathBuf,
        /// 1-based line, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// The selection of environments, difficulties or benchmarks is unusable.
    #[error("{0}")]
    Selection(String),
    /// An environment failed to generate an instance.
    #[error(transparent)]
    Env(#[from] resyn_core::Error),
    /// The LLM client could not be set up.
    #[error(transparent)]
    Llm(#[from] resyn_llm::Error),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn format(
        path: impl Into<PathBuf>,
        line: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        Self::Format {
            path: path.into(),
            line,
            message: message.into(),
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
