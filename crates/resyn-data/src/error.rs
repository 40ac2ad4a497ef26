//! The error type of the dataset builder.

use std::io;
use std::path::PathBuf;

/// What can go wrong loading a config or building a dataset.
///
/// Problems with single environments (a reference that does not verify, a
/// generation error) are not errors: the environment is excluded and the
/// reason recorded in the [`crate::Manifest`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The config is syntactically or semantically invalid; `field` is the
    /// dotted path of the offending key (e.g. `split.train`).
    #[error("{}field `{field}`: {message}", source_prefix(.path))]
    Config {
        /// The config file, when the config came from one.
        path: Option<PathBuf>,
        /// Dotted path of the field, e.g. `difficulty.mix.11`.
        field: String,
        /// What is wrong with it (and where, for parse errors).
        message: String,
    },
    /// The TOML itself does not parse (before any field is known).
    #[error("{}{message}", source_prefix(.path))]
    Syntax {
        /// The config file, when the config came from one.
        path: Option<PathBuf>,
        /// The parser's message, with line and column.
        message: String,
    },
    /// `reward = "llm_answer"`: the answer source failed (after the LLM
    /// client's retries), with its error as the source. Answers received so
    /// far stay cached.
    #[error("llm_answer: {0}")]
    Answers(#[source] resyn_core::BoxError),
    /// A selected environment cannot run on this machine (its sandbox,
    /// interpreter or a worker could not start); nothing was written. Not
    /// skipped as a broken environment: the dataset would silently lack it.
    #[error(transparent)]
    Unavailable(resyn_core::Error),
    /// The selection matched no environment.
    #[error("no environment matches the selection: {0}")]
    NoEnvironments(String),
    /// Every selected environment was excluded, or none produced an
    /// instance; nothing was written.
    #[error("the dataset would be empty: {0}")]
    Empty(String),
    /// The output directory exists and does not look like a resyn dataset;
    /// resyn refuses to replace it.
    #[error(
        "refusing to replace {}: it exists, is not empty and has no manifest.json \
         (not a resyn dataset); choose another output directory",
        .0.display()
    )]
    RefuseOverwrite(PathBuf),
    /// Reading or writing a file failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The Parquet encoder failed.
    #[error("{}: {source}", .path.display())]
    Parquet {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// Online generation could not start (see [`crate::online_generator`]).
    #[error("curriculum: {0}")]
    Curriculum(#[source] resyn_curriculum::Error),
    /// A worker thread of the build panicked or stopped unexpectedly.
    #[error("internal error: {0}")]
    Internal(String),
}

fn source_prefix(path: &Option<PathBuf>) -> String {
    path.as_ref()
        .map(|p| format!("{}: ", p.display()))
        .unwrap_or_default()
}

impl Error {
    /// A semantic config error about `field`.
    pub(crate) fn config(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Config {
            path: None,
            field: field.into(),
            message: message.into(),
        }
    }

    /// An I/O error about `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// A curriculum error: config errors name their field under
    /// `curriculum.`, anything else is [`Error::Curriculum`].
    pub(crate) fn from_curriculum(e: resyn_curriculum::Error) -> Self {
        match e {
            resyn_curriculum::Error::Config { field, message } => {
                Self::config(format!("curriculum.{field}"), message)
            }
            other => Self::Curriculum(other),
        }
    }

    /// Attach the config file path to a config error (other errors are
    /// returned unchanged).
    pub fn with_config_path(self, p: &std::path::Path) -> Self {
        match self {
            Self::Config { field, message, .. } => Self::Config {
                path: Some(p.to_path_buf()),
                field,
                message,
            },
            Self::Syntax { message, .. } => Self::Syntax {
                path: Some(p.to_path_buf()),
                message,
            },
            other => other,
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
