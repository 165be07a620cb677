//! The health check.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{AppState, error};
use crate::dispatch::error_chain;

/// `GET /healthz`: 200 when the store answers.
pub(super) async fn health(State(state): State<AppState>) -> Response {
    match state.store.matches(1).await {
        Ok(_) => Json(serde_json::json!({ "status": "ok" })).into_response(),
        Err(e) => {
            tracing::warn!(error = %error_chain(&e), "health check: store unavailable");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the store is unavailable",
                None,
            )
        }
    }
}
