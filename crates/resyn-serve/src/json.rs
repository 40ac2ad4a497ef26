//! [`Json`]: the JSON extractor and response of every route, so that body
//! rejections answer in the [`ApiError`] shape.
//!
//! Bodies over [`INLINE_DECODE_BYTES`] are decoded on the blocking pool, so
//! a large batch never stalls the async runtime. Syntax errors (and
//! truncated bodies) are 400 `malformed_json`; well-formed JSON of the wrong
//! shape is 422 `invalid_request`; a body over the limit is 413; a
//! `Content-Type` other than JSON is 415.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// Bodies up to this size are decoded inline on the async runtime.
pub(crate) const INLINE_DECODE_BYTES: usize = 64 << 10;

/// A JSON body (extractor) or JSON response.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send + 'static,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let mime = v.split(';').next().unwrap_or("").trim();
                mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")
            });
        if json_type == Some(false) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "expected Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large("body_too_large", r.body_text())
            } else {
                ApiError::new(r.status(), "bad_body", r.body_text())
            }
        })?;
        if bytes.len() <= INLINE_DECODE_BYTES {
            return decode(&bytes).map(Json);
        }
        tokio::task::spawn_blocking(move || decode(&bytes))
            .await
            .map_err(ApiError::internal)?
            .map(Json)
    }
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::invalid("invalid_request", e.to_string()),
        _ => ApiError::malformed(format!("body is not valid JSON: {e}")),
    })
}

impl<T: Serialize> Json<T> {
    /// Serialize with this status.
    pub(crate) fn into_response_with(self, status: StatusCode) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => (
                status,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                body,
            )
                .into_response(),
            Err(e) => {
                eprintln!("resyn serve: internal error: response serialization: {e}");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal server error").into_response()
            }
        }
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        self.into_response_with(StatusCode::OK)
    }
}

/// A 200 JSON response serialized now (on the calling thread, e.g. the
/// blocking pool).
pub(crate) fn bytes_response<T: Serialize>(body: &T) -> Response {
    Json(body).into_response()
}
