//! `/api/v1/messages`: send or schedule a message to given recipients or by routing keys
//! (scope `publish`), list and inspect messages with each delivery (scope `read`), cancel one
//! (scope `publish`), purge finished ones (scope `admin`).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::answers::{Cancelled, ErrorBody, Purged, Submitted};
use super::publish::json_caller;
use super::{AppState, error};
use crate::config::ApiScope;
use crate::dispatch::error_chain;
use crate::messages::{CancelOutcome, MessageRequest, Status, SubmitError};

/// The header of an idempotent submission.
const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The longest idempotency key.
const MAX_KEY: usize = 200;
/// Messages per page when `limit` is not given.
const DEFAULT_LIMIT: usize = 50;

/// `POST /api/v1/messages`.
#[utoipa::path(post, path = "/api/v1/messages", tag = "messages",
    request_body = MessageRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key and body answers the first answer and queues nothing.")),
    security(("token" = []), ("basic" = [])),
    responses(
        (status = 202, description = "Scheduled or queued.", body = Submitted),
        (status = 200, description = "A repeat of an earlier request with this Idempotency-Key: its answer.", body = Submitted),
        (status = 400, description = "A field that does not hold; nothing stored.", body = ErrorBody),
        (status = 401, description = "No token, or a wrong one.", body = ErrorBody),
        (status = 403, description = "The token lacks the scope, or no token is configured.", body = ErrorBody),
        (status = 422, description = "The Idempotency-Key was used with another body.", body = ErrorBody),
    ))]
pub(super) async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let caller = match json_caller(&state.auth, &headers, ApiScope::Publish) {
        Ok(caller) => caller,
        Err(refused) => return refused,
    };
    let key = match headers.get(IDEMPOTENCY_KEY).map(|v| v.to_str()) {
        None => None,
        Some(Ok(key))
            if !key.trim().is_empty()
                && key.len() <= MAX_KEY
                && key.chars().all(|c| c.is_ascii_graphic() || c == ' ') =>
        {
            Some(key.trim())
        }
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("must be 1 to {MAX_KEY} printable ASCII characters"),
                Some("Idempotency-Key"),
            );
        }
    };
    let request = match MessageRequest::parse(&body) {
        Ok(r) => r,
        Err(invalid) => {
            return error(
                StatusCode::BAD_REQUEST,
                &invalid.message,
                invalid.field.as_deref(),
            );
        }
    };
    match state.messages.submit(&caller.name, key, request).await {
        Ok(submitted) => {
            let status = if submitted.repeat {
                StatusCode::OK
            } else {
                StatusCode::ACCEPTED
            };
            (status, Json(submitted.answer())).into_response()
        }
        Err(SubmitError::Invalid(invalid)) => error(
            StatusCode::BAD_REQUEST,
            &invalid.message,
            invalid.field.as_deref(),
        ),
        Err(e @ SubmitError::KeyReused) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &e.to_string(),
            Some("Idempotency-Key"),
        ),
        Err(SubmitError::Store(e)) => unavailable(&e, "cannot record a message"),
    }
}

/// `GET /api/v1/messages?status=&limit=&cursor=`.
#[utoipa::path(get, path = "/api/v1/messages", tag = "messages",
    params(
        ("status" = Option<String>, Query, description = "`scheduled`, `queued`, `sending`, `delivered`, `failed` or `cancelled`."),
        ("limit" = Option<usize>, Query, description = "Messages per page."),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page."),
    ),
    security(("token" = []), ("basic" = [])),
    responses(
        (status = 200, description = "Messages, newest first.", body = crate::messages::Page),
        (status = 400, description = "A parameter that does not hold.", body = ErrorBody),
        (status = 401, description = "No token, or a wrong one.", body = ErrorBody),
        (status = 403, description = "The token lacks the scope, or no token is configured.", body = ErrorBody),
    ))]
pub(super) async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = state.auth.authorize(&headers, ApiScope::Read) {
        return refused;
    }
    if let Some(unknown) = query
        .keys()
        .find(|k| !["status", "limit", "cursor"].contains(&k.as_str()))
    {
        return error(
            StatusCode::BAD_REQUEST,
            "unknown parameter (use status, limit, cursor)",
            Some(unknown),
        );
    }
    let status = match query.get("status").map(|s| status_of(s, false)) {
        None => None,
        Some(Ok(status)) => Some(status),
        Some(Err(bad)) => return bad.into_response(),
    };
    let limit = match query.get("limit").map(|l| l.parse::<usize>()) {
        None => DEFAULT_LIMIT,
        Some(Ok(l)) if (1..=crate::messages::MAX_LIMIT).contains(&l) => l,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("must be a number from 1 to {}", crate::messages::MAX_LIMIT),
                Some("limit"),
            );
        }
    };
    let cursor = match query.get("cursor").map(|c| c.parse::<i64>()) {
        None => None,
        Some(Ok(c)) if c > 0 => Some(c),
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "must be a next_cursor of a previous page",
                Some("cursor"),
            );
        }
    };
    match state.messages.list(status, limit, cursor).await {
        Ok(page) => Json(page).into_response(),
        Err(e) => unavailable(&e, "cannot list messages"),
    }
}

/// `GET /api/v1/messages/{id}`.
#[utoipa::path(get, path = "/api/v1/messages/{id}", tag = "messages",
    params(("id" = String, Path, description = "The message id (`msg_…`).")),
    security(("token" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The message with each delivery.", body = crate::messages::Detail),
        (status = 401, description = "No token, or a wrong one.", body = ErrorBody),
        (status = 403, description = "The token lacks the scope, or no token is configured.", body = ErrorBody),
        (status = 404, description = "No such message.", body = ErrorBody),
    ))]
pub(super) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(refused) = state.auth.authorize(&headers, ApiScope::Read) {
        return refused;
    }
    match state.messages.show(&id).await {
        Ok(Some(detail)) => Json(detail).into_response(),
        Ok(None) => not_found(),
        Err(e) => unavailable(&e, "cannot read a message"),
    }
}

/// `DELETE /api/v1/messages/{id}`: cancels what is not sent yet.
#[utoipa::path(delete, path = "/api/v1/messages/{id}", tag = "messages",
    params(("id" = String, Path, description = "The message id.")),
    security(("token" = []), ("basic" = [])),
    responses(
        (status = 200, description = "Undelivered deliveries cancelled.", body = Cancelled),
        (status = 401, description = "No token, or a wrong one.", body = ErrorBody),
        (status = 403, description = "The token lacks the scope, or no token is configured.", body = ErrorBody),
        (status = 404, description = "No such message.", body = ErrorBody),
        (status = 409, description = "Everything was already delivered or settled.", body = ErrorBody),
    ))]
pub(super) async fn cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(refused) = state.auth.authorize(&headers, ApiScope::Publish) {
        return refused;
    }
    match state.messages.cancel(&id).await {
        Ok(CancelOutcome::Cancelled(n)) => Json(Cancelled {
            id,
            status: Status::Cancelled.as_str(),
            cancelled: n,
        })
        .into_response(),
        Ok(CancelOutcome::NothingLeft) => error(
            StatusCode::CONFLICT,
            "nothing left to cancel: every delivery of this message was already made or settled",
            None,
        ),
        Ok(CancelOutcome::NotFound) => not_found(),
        Err(e) => unavailable(&e, "cannot cancel a message"),
    }
}

/// `DELETE /api/v1/messages?status=delivered|failed|cancelled`: deletes finished messages.
#[utoipa::path(delete, path = "/api/v1/messages", tag = "messages",
    params(("status" = String, Query, description = "`delivered`, `failed` or `cancelled`: pending messages are never purged.")),
    security(("token" = []), ("basic" = [])),
    responses(
        (status = 200, description = "Finished messages deleted.", body = Purged),
        (status = 400, description = "No status, or one that is not finished.", body = ErrorBody),
        (status = 401, description = "No token, or a wrong one.", body = ErrorBody),
        (status = 403, description = "The token lacks the scope, or no token is configured.", body = ErrorBody),
    ))]
pub(super) async fn purge(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = state.auth.authorize(&headers, ApiScope::Admin) {
        return refused;
    }
    let status = match query.get("status").map(|s| status_of(s, true)) {
        Some(Ok(status)) => status,
        Some(Err(bad)) => return bad.into_response(),
        None => {
            return error(
                StatusCode::BAD_REQUEST,
                "required: which finished messages to purge (delivered, failed or cancelled)",
                Some("status"),
            );
        }
    };
    match state.messages.purge(status).await {
        Ok(purged) => Json(Purged {
            purged,
            status: status.as_str(),
        })
        .into_response(),
        Err(e) => unavailable(&e, "cannot purge messages"),
    }
}

/// The status named `name` (`finished`: only those a purge takes), or the 400 naming them.
fn status_of(name: &str, finished: bool) -> Result<Status, BadStatus> {
    match Status::parse(name) {
        Some(status) if !finished || status.is_finished() => Ok(status),
        _ => Err(BadStatus { finished }),
    }
}

/// A `status` parameter that names no status (of those a purge takes, when `finished`).
struct BadStatus {
    finished: bool,
}

impl IntoResponse for BadStatus {
    fn into_response(self) -> Response {
        let names: Vec<&str> = Status::ALL
            .iter()
            .filter(|s| !self.finished || s.is_finished())
            .map(|s| s.as_str())
            .collect();
        error(
            StatusCode::BAD_REQUEST,
            &format!("must be one of {}", names.join(", ")),
            Some("status"),
        )
    }
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such message", None)
}

fn unavailable(e: &crate::store::StoreError, what: &str) -> Response {
    tracing::error!(error = %error_chain(e), "{what}");
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "the store is unavailable; try again",
        None,
    )
}
