//! Routes of the World Cup SMS bot tutorial, for its clients: `POST /updates {"message"}`
//! texts every SMS subscriber (scope `publish`). (`POST /subscribe {"number"}`, the signup,
//! is served with the other SMS routes.)

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::answers::{ErrorBody, Update};
use super::publish::json_caller;
use super::{AppState, error};
use crate::config::ApiScope;
use crate::dispatch::error_chain;
use crate::messages::{MessageRequest, SubmitError};

/// `POST /updates`: `{"message": "..."}` to every active subscriber of every Twilio sink.
#[utoipa::path(post, path = "/updates", tag = "sms",
    request_body = Update,
    security(("token" = []), ("basic" = [])),
    responses(
        (status = 202, description = "Queued for every active SMS subscriber.", body = crate::http::answers::Submitted),
        (status = 400, description = "No message.", body = ErrorBody),
        (status = 401, description = "No token, or a wrong one.", body = ErrorBody),
        (status = 403, description = "The token lacks the scope, or no token is configured.", body = ErrorBody),
        (status = 409, description = "No SMS sink is configured.", body = ErrorBody),
    ))]
pub(super) async fn updates(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let caller = match json_caller(&state.auth, &headers, ApiScope::Publish) {
        Ok(caller) => caller,
        Err(refused) => return refused,
    };
    let update: Update = match serde_json::from_slice(&body) {
        Ok(u) => u,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("invalid JSON body: {e} (expected {{\"message\": \"...\"}})"),
                Some("message"),
            );
        }
    };
    let sinks = state.messages.sinks_of_kind("twilio");
    if sinks.is_empty() {
        return error(
            StatusCode::CONFLICT,
            "no SMS sink is configured ([sinks.<id>] type = \"twilio\")",
            None,
        );
    }
    let request = MessageRequest {
        title: None,
        body: update.message.trim().to_owned(),
        send_at: None,
        locale: None,
        recipients: Vec::new(),
        topic: None,
        teams: Vec::new(),
        kinds: Vec::new(),
        subscribers_of: sinks,
    };
    match state.messages.submit(&caller.name, None, request).await {
        Ok(sent) => (StatusCode::ACCEPTED, Json(sent.answer())).into_response(),
        Err(SubmitError::Invalid(invalid)) => {
            // The one field here is the message.
            let field = if invalid.field.as_deref() == Some("body") {
                Some("message")
            } else {
                invalid.field.as_deref()
            };
            error(StatusCode::BAD_REQUEST, &invalid.message, field)
        }
        Err(e) => {
            tracing::error!(error = %error_chain(&e), "cannot send an update");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the store is unavailable; try again",
                None,
            )
        }
    }
}
