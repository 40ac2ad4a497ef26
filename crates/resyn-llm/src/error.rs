//! What can go wrong talking to an endpoint.
//!
//! Every variant that comes from a request says how many attempts were made,
//! so a caller can tell "failed once, not retryable" from "retried until the
//! budget ran out".

use std::time::Duration;

/// Longest body excerpt kept in an error.
pub(crate) const BODY_EXCERPT: usize = 500;

/// Errors of [`crate::Client`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The environment variable meant to hold the API key is unset or empty.
    #[error("environment variable `{var}` (API key) is not set")]
    MissingApiKey {
        /// Variable name.
        var: String,
    },
    /// The configuration cannot work (bad base URL, zero concurrency, ...).
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client")]
    Build(#[source] reqwest::Error),
    /// The server answered with a non-success status.
    #[error("HTTP {status} from {url} after {attempts} attempt(s): {body}")]
    Status {
        /// HTTP status code.
        status: u16,
        /// Excerpt of the response body.
        body: String,
        /// Endpoint URL.
        url: String,
        /// Attempts made.
        attempts: u32,
    },
    /// No complete response within the per-request timeout.
    #[error("request to {url} timed out after {timeout:?} ({attempts} attempt(s))")]
    Timeout {
        /// Endpoint URL.
        url: String,
        /// Per-request timeout.
        timeout: Duration,
        /// Attempts made.
        attempts: u32,
    },
    /// Connecting or sending failed (refused, reset, DNS, TLS, ...).
    #[error("cannot reach {url} ({attempts} attempt(s))")]
    Transport {
        /// Endpoint URL.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// A success status with a body that is not a chat completion.
    #[error("malformed response from {url}: {body}")]
    Malformed {
        /// Endpoint URL.
        url: String,
        /// Excerpt of the body.
        body: String,
        /// Why it did not parse.
        #[source]
        source: serde_json::Error,
    },
    /// A well-formed response with no choices.
    #[error("response from {url} has no choices: {body}")]
    NoChoices {
        /// Endpoint URL.
        url: String,
        /// Excerpt of the body.
        body: String,
    },
}

impl Error {
    /// Attempts made before giving up (0 for configuration errors).
    pub fn attempts(&self) -> u32 {
        match self {
            Self::Status { attempts, .. }
            | Self::Timeout { attempts, .. }
            | Self::Transport { attempts, .. } => *attempts,
            Self::Malformed { .. } | Self::NoChoices { .. } => 1,
            _ => 0,
        }
    }

    /// The HTTP status, when the server sent one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The first `BODY_EXCERPT` bytes of a body as text, cut at a char boundary.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(body);
    let s = s.trim();
    if s.len() <= BODY_EXCERPT {
        return s.to_string();
    }
    let mut end = BODY_EXCERPT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], body.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_cuts_at_char_boundary() {
        let long = "é".repeat(400);
        let e = excerpt(long.as_bytes());
        assert!(e.ends_with("(800 bytes)"), "{e}");
        assert_eq!(excerpt(b"  short \n"), "short");
    }
}
