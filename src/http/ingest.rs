//! `POST /api/v1/ingest` (scope `ingest`): a producer's match snapshot, taken in like a poll
//! of a `push` source; and `POST /api/v1/sources/{id}/poll` (scope `admin`): poll a source now.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::answers::{ErrorBody, Ingested, PollRequested};
use super::publish::json_caller;
use super::{AppState, error};
use crate::config::ApiScope;
use crate::dispatch::error_chain;
use crate::ingest::PushError;

/// `POST /api/v1/ingest`: 202 once the snapshot is stored; 400 naming the field, with
/// nothing stored, when it does not hold.
#[utoipa::path(post, path = "/api/v1/ingest", tag = "data",
    request_body = crate::ingest::Push,
    security(("token" = []), ("basic" = [])),
    responses(
        (status = 202, description = "Stored; the push source's poller is woken.", body = Ingested),
        (status = 400, description = "A field that does not hold (its JSON path); nothing stored.", body = ErrorBody),
        (status = 401, description = "No token, or a wrong one.", body = ErrorBody),
        (status = 403, description = "The token lacks the scope, or no token is configured.", body = ErrorBody),
        (status = 409, description = "No push source is configured.", body = ErrorBody),
    ))]
pub(super) async fn ingest(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let caller = match json_caller(&state.auth, &headers, ApiScope::Ingest) {
        Ok(caller) => caller,
        Err(refused) => return refused,
    };
    match state.ingest.push(&body).await {
        Ok(accepted) => {
            tracing::debug!(producer = %caller.name, match_id = %accepted.match_id, "snapshot pushed");
            (
                StatusCode::ACCEPTED,
                Json(Ingested {
                    status: "accepted",
                    source: accepted.source,
                    match_id: accepted.match_id,
                    seq: accepted.seq,
                }),
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
#[utoipa::path(post, path = "/api/v1/sources/{id}/poll", tag = "data",
    params(("id" = String, Path, description = "The source id (`[sources.<id>]`).")),
    security(("token" = []), ("basic" = [])),
    responses(
        (status = 202, description = "The instance polling the source is asked to poll now.", body = PollRequested),
        (status = 401, description = "No token, or a wrong one.", body = ErrorBody),
        (status = 403, description = "The token lacks the scope, or no token is configured.", body = ErrorBody),
        (status = 404, description = "No such source.", body = ErrorBody),
    ))]
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
            Json(PollRequested {
                status: "polling",
                source: id,
            }),
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
