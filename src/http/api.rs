//! Read-only JSON API: the matches herald follows, and a health check.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{AppState, error};
use crate::dispatch::error_chain;

/// How many matches the page lists.
const MATCH_LIMIT: i64 = 50;

/// `GET /api/v1/matches`: live matches first, then the most recently updated.
pub(super) async fn matches(State(state): State<AppState>) -> Response {
    match state.store.matches(MATCH_LIMIT).await {
        Ok(matches) => Json(serde_json::json!({ "matches": matches })).into_response(),
        Err(e) => {
            tracing::error!(error = %error_chain(&e), "cannot list matches");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the store is unavailable",
                None,
            )
        }
    }
}

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
