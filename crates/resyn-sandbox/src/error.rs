//! The error taxonomy of sandboxed environment code.
//!
//! Every variant names the call that failed (`call`, e.g.
//! `generate(seed=3, difficulty=2)`) and carries the evidence an author (or the
//! synthesis pipeline's LLM) needs to fix it: the Python traceback, the exit
//! status or signal, the limit that was hit. Texts coming from the sandbox are
//! capped (tracebacks at 8 KiB, messages at 2 KiB) before they get here.

use std::time::Duration;

use crate::enforcement::Layer;

/// A Python exception raised by environment code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyException {
    /// Exception class name, e.g. `ValueError`.
    pub type_name: String,
    /// `str(exception)`.
    pub message: String,
    /// The formatted traceback (harness frames removed; capped, tail kept).
    pub traceback: String,
}

impl std::fmt::Display for PyException {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.type_name, self.message)?;
        if !self.traceback.is_empty() {
            write!(f, "\n{}", self.traceback.trim_end())?;
        }
        Ok(())
    }
}

/// Why an environment module could not be loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LoadErrorKind {
    /// The file could not be read.
    Read,
    /// The source does not compile.
    Syntax,
    /// An import failed (only the standard library is available).
    Import,
    /// Module-level code raised.
    Exception,
    /// Required names are missing or malformed (`NAME`, `generate`, ...).
    Api,
}

impl std::fmt::Display for LoadErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Read => "unreadable file",
            Self::Syntax => "syntax error",
            Self::Import => "import error",
            Self::Exception => "module code raised",
            Self::Api => "missing or malformed API",
        })
    }
}

/// Errors of the sandbox runtime and of the code it runs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The host cannot provide a layer the policy requires; nothing was run.
    #[error(
        "refusing to run untrusted code: required sandbox layer(s) unavailable: {}\n{hint}",
        missing.iter().map(|l| l.as_str()).collect::<Vec<_>>().join(", ")
    )]
    Unavailable {
        /// The required layers that are not enforced.
        missing: Vec<Layer>,
        /// How to fix the host, or how to opt out.
        hint: String,
    },
    /// No usable Python interpreter.
    #[error("python interpreter: {0}")]
    Python(String),
    /// The sandbox could not start (kept: every use of a
    /// [`crate::LazySandbox`] that failed to start reports it).
    #[error("the sandbox could not start: {0}")]
    Sandbox(#[source] std::sync::Arc<Error>),
    /// An I/O operation of the runtime failed (spawning, pipes).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The module could not be loaded.
    #[error("cannot load `{file}` ({kind}): {message}{}", fmt_tb(traceback))]
    Load {
        /// The module's file name.
        file: String,
        /// What kind of failure.
        kind: LoadErrorKind,
        /// What went wrong.
        message: String,
        /// Python traceback, if any.
        traceback: String,
    },
    /// The call exceeded its wall-clock limit; the worker was killed.
    #[error("{call} exceeded the {}s wall-clock limit; the worker was killed", limit.as_secs_f64())]
    Timeout {
        /// The call.
        call: String,
        /// The limit.
        limit: Duration,
    },
    /// The call ran out of memory (Python `MemoryError` under the address-space limit).
    #[error("{call} ran out of memory (limit {} MiB): {exception}", limit_bytes >> 20)]
    Memory {
        /// The call.
        call: String,
        /// The configured address-space limit.
        limit_bytes: u64,
        /// The `MemoryError` as raised.
        exception: PyException,
    },
    /// Environment code raised an exception.
    #[error("{call} raised {exception}")]
    Exception {
        /// The call.
        call: String,
        /// The exception.
        exception: PyException,
    },
    /// Environment code attempted an operation the sandbox forbids (process
    /// creation, network, writing outside its temporary directory, ...).
    #[error("{call} attempted an operation the sandbox forbids: {exception}")]
    Forbidden {
        /// The call.
        call: String,
        /// The exception the denied operation raised.
        exception: PyException,
    },
    /// The worker process died or exited during the call (`os._exit`,
    /// `sys.exit`, a signal such as SIGSEGV from C-stack overflow or SIGXCPU).
    #[error("{call} crashed the worker: {status}")]
    Crash {
        /// The call.
        call: String,
        /// Exit status, signal, or the `sys.exit` code, in words.
        status: String,
    },
    /// Environment code returned a value of the wrong type or shape.
    #[error("{call} returned an invalid value: {message}")]
    BadReturn {
        /// The call.
        call: String,
        /// What is wrong with it.
        message: String,
    },
    /// Generating the same instance twice gave different results.
    #[error(
        "`{env}`: generate(seed={seed}, difficulty={difficulty}) is not deterministic: {detail}"
    )]
    NonDeterministic {
        /// Environment id.
        env: String,
        /// Seed.
        seed: u64,
        /// Difficulty.
        difficulty: u8,
        /// Which field differs and where.
        detail: String,
    },
    /// The environment is runnable but does not meet the environment contract
    /// (e.g. its reference answer does not verify).
    #[error("`{env}` failed validation: {message}")]
    Invalid {
        /// Environment id.
        env: String,
        /// What is wrong.
        message: String,
    },
    /// The worker broke the protocol (malformed, oversized or unexpected
    /// replies); the worker was killed.
    #[error("{call}: protocol error from the worker: {detail}")]
    Protocol {
        /// The call.
        call: String,
        /// What was wrong with the reply.
        detail: String,
    },
    /// The call was not attempted because earlier items of the same batch
    /// faulted repeatedly.
    #[error("{call} was not attempted: {reason}")]
    Skipped {
        /// The call.
        call: String,
        /// Why.
        reason: String,
        /// The cause was a failure of the runtime ([`Error::is_infra`]).
        infra: bool,
    },
}

fn fmt_tb(tb: &str) -> String {
    if tb.is_empty() {
        String::new()
    } else {
        format!("\n{}", tb.trim_end())
    }
}

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    /// A short machine-readable reason code (`timeout`, `exception`,
    /// `syntax_error`, ...), as validation reports name failures.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Timeout { .. } => "timeout",
            Self::Memory { .. } => "memory",
            Self::Exception { .. } => "exception",
            Self::Forbidden { .. } => "forbidden_operation",
            Self::Crash { .. } => "crash",
            Self::BadReturn { .. } => "bad_return",
            Self::NonDeterministic { .. } => "nondeterministic",
            Self::Protocol { .. } => "protocol",
            Self::Skipped { .. } => "skipped",
            Self::Load { kind, .. } => match kind {
                LoadErrorKind::Syntax => "syntax_error",
                LoadErrorKind::Import => "import_error",
                LoadErrorKind::Api => "api_error",
                LoadErrorKind::Exception => "module_raised",
                _ => "load_error",
            },
            _ => "sandbox_error",
        }
    }

    /// Whether the runtime failed rather than the environment's code (no
    /// usable interpreter, the host refusing the sandbox, a sandbox that
    /// could not start, I/O of the runtime such as a fork refused by a
    /// process limit): nothing can be concluded about the environment.
    pub fn is_infra(&self) -> bool {
        matches!(
            self,
            Self::Unavailable { .. }
                | Self::Python(_)
                | Self::Sandbox(_)
                | Self::Io { .. }
                | Self::Skipped { infra: true, .. }
        )
    }

    /// Whether the worker that produced this error must be discarded.
    pub(crate) fn is_fault(&self) -> bool {
        !matches!(
            self,
            Self::Exception { .. } | Self::BadReturn { .. } | Self::Skipped { .. }
        )
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
