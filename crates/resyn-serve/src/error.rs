//! Errors: [`Error`] for setting the server up, [`ApiError`] for requests.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Why the server state could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two loaded instances share an id but differ.
    #[error("instance id {0} appears twice with different content")]
    DuplicateInstance(String),
    /// A loaded instance names an environment the scorer lacks.
    #[error("instance {id}: unknown environment `{env}`")]
    UnknownEnvironment {
        /// Instance id.
        id: String,
        /// Environment id.
        env: String,
    },
    /// A limit or the reward config is invalid.
    #[error("invalid server config: {0}")]
    Config(String),
}

/// An error answered to a client: a status and `{"error": {"code", "message"}}`.
///
/// Client errors (4xx), timeouts and environments that cannot run (503)
/// carry their message; other internal errors (500) answer a generic
/// message and log the details to stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine-readable code, e.g. `malformed_json`.
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400: the body is not JSON.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed_json", message)
    }

    /// 422: JSON of the wrong shape or with values that cannot be used.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 413: body or batch over a limit.
    pub fn too_large(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, code, message)
    }

    /// 503: the request did not finish in time.
    pub fn timeout(limit: std::time::Duration) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!("request did not finish within {limit:?}; retry, or send smaller batches"),
        )
    }

    /// 503: an environment cannot run on this machine (its sandbox or a
    /// worker could not start); no reward was given for the batch.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "environment_unavailable",
            message,
        )
    }

    /// 500: logged in full, answered generically.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        eprintln!("resyn serve: internal error: {detail}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal server error (details in the server log)",
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        crate::json::Json(body).into_response_with(self.status)
    }
}
