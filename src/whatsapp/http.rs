//! The WhatsApp routes: Twilio's inbound-message webhook (signature-checked, answered with
//! TwiML) and its delivery reports.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use sink_twilio::twiml;
use sink_twilio::webhook::{self, param};

use super::Inbound;
use crate::dispatch::error_chain;

/// The WhatsApp routes of `inbound`.
pub fn router(inbound: Arc<Inbound>) -> Router {
    Router::new()
        .route(webhook::WHATSAPP_PATH, post(message))
        .route(webhook::WHATSAPP_STATUS_PATH, post(status))
        .with_state(inbound)
}

fn forged() -> Response {
    (StatusCode::FORBIDDEN, "invalid X-Twilio-Signature").into_response()
}

/// A 5xx makes Twilio retry the webhook later.
fn try_again() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
}

async fn message(
    State(inbound): State<Arc<Inbound>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(params) = webhook::verified(inbound.whatsapp(), &uri, &headers, &body) else {
        return forged();
    };
    match inbound
        .message(
            param(&params, "From"),
            param(&params, "WaId"),
            param(&params, "Body"),
        )
        .await
    {
        Ok(reply) => (
            [(header::CONTENT_TYPE, twiml::CONTENT_TYPE)],
            twiml::reply(reply.map(|r| inbound.whatsapp().prepare(&r)).as_deref()),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %error_chain(&e), "cannot handle an inbound WhatsApp message");
            try_again()
        }
    }
}

/// A delivery report: a message that failed after Twilio accepted it is a dead letter, and for
/// a reason that will not pass it pauses the number like a refusal at send time would.
async fn status(
    State(inbound): State<Arc<Inbound>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(params) = webhook::verified(inbound.whatsapp(), &uri, &headers, &body) else {
        return forged();
    };
    let status = param(&params, "MessageStatus");
    if matches!(status, "undelivered" | "failed") {
        let (to, code) = (param(&params, "To"), param(&params, "ErrorCode"));
        let sid = param(&params, "MessageSid");
        if let Err(e) = inbound.delivery_failed(to, status, code, sid).await {
            tracing::error!(error = %error_chain(&e), "cannot record a WhatsApp delivery report");
            return try_again();
        }
    }
    StatusCode::NO_CONTENT.into_response()
}
