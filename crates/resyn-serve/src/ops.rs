//! Operational routes: `GET /health`, `GET /metrics`, and the JSON answers
//! for unknown routes and methods.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::{ApiError, AppState, Json};

/// `{"status": "ok", "version", "environments", "instances", "curriculum", "verifications"}`.
pub(crate) async fn health(State(state): State<AppState>) -> impl IntoResponse {
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "environments": state.scorer.registry().len(),
        "instances": state.instances.len(),
        "curriculum": state.curriculum.is_some(),
        "verifications": state.metrics.verifications(),
    }))
}

/// Prometheus text exposition.
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such route (POST /verify, POST /openrlhf, POST /get_reward, POST /curriculum/draw, \
         POST /curriculum/report, GET /curriculum, GET /health, GET /metrics)",
    )
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this route",
    )
}
