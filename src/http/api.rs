//! The health check.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{AppState, error};
use crate::dispatch::error_chain;

/// `GET /healthz`: 200 when the store answers.
#[utoipa::path(get, path = "/healthz", tag = "service",
    responses(
        (status = 200, description = "The store answers.", body = super::answers::Health),
        (status = 503, description = "The store does not answer.", body = super::answers::ErrorBody),
    ))]
pub(super) async fn health(State(state): State<AppState>) -> Response {
    match state.store.matches(1).await {
        Ok(_) => Json(super::answers::Health { status: "ok" }).into_response(),
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
