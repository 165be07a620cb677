//! `POST /api/v1/ingest` (scope `ingest`): a producer's match snapshot, taken in like a poll
//! of a `push` source; and `POST /api/v1/sources/{id}/poll` (scope `admin`): poll a source now.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::publish::is_json;
use super::{AppState, error};
use crate::config::ApiScope;
use crate::dispatch::error_chain;
use crate::ingest::PushError;

/// `POST /api/v1/ingest`: 202 once the snapshot is stored; 400 naming the field, with
/// nothing stored, when it does not hold.
pub(super) async fn ingest(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let caller = match state.auth.authorize(&headers, ApiScope::Ingest) {
        Ok(caller) => caller,
        Err(refused) => return refused,
    };
    if !is_json(&headers) {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body must be JSON (Content-Type: application/json)",
            None,
        );
    }
    match state.ingest.push(&body).await {
        Ok(accepted) => {
            tracing::debug!(producer = %caller.name, match_id = %accepted.match_id, "snapshot pushed");
            (
                StatusCode::ACCEPTED,
                Json(json!({
                    "status": "accepted",
                    "source": accepted.source,
                    "match_id": accepted.match_id,
                    "seq": accepted.seq,
                })),
            )
                .into_response()
        }
        Err(PushError::Invalid(invalid)) => {
            let field = (!invalid.field.is_empty()).then_some(invalid.field.as_str());
            error(StatusCode::BAD_REQUEST, &invalid.message, field)
        }
        Err(e @ PushError::NoPushSource) => error(StatusCode::CONFLICT, &e.to_string(), None),
        Err(PushError::Store(e)) => {
            tracing::error!(error = %error_chain(&e), "cannot store a pushed snapshot");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the store is unavailable; try again",
                None,
            )
        }
    }
}

/// `POST /api/v1/sources/{id}/poll`: 202 once the instance polling the source is asked.
pub(super) async fn poll(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = state.auth.authorize(&headers, ApiScope::Admin) {
        return refused;
    }
    match state.ingest.poll_now(&id).await {
        Ok(true) => (
            StatusCode::ACCEPTED,
            Json(json!({"status": "polling", "source": id})),
        )
            .into_response(),
        Ok(false) => error(StatusCode::NOT_FOUND, "no such source", None),
        Err(e) => {
            tracing::error!(error = %error_chain(&e), "cannot ask for a poll");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the store is unavailable; try again",
                None,
            )
        }
    }
}
