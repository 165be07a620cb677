//! The OpenAPI 3.1 document of every HTTP endpoint herald serves, generated from the handlers'
//! attributes and the types they answer with, and served at `GET /api/v1/openapi.json`.
//!
//! The routes that sinks mount (the stream, platform webhooks) live in the sink crates; they
//! are described here, by the attributes of the functions at the end of this file.

use std::sync::LazyLock;

use axum::http::HeaderMap;
use axum::response::Response;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::answers::ErrorBody;
use super::{api, compat, data, ingest, messages, ops, page, publish};

/// The document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "herald",
        description = "Live football data turned into notifications delivered everywhere at once: \
            match data, producers' pushes, published and addressed messages, SMS signup, the \
            live stream and the platforms' webhooks."
    ),
    paths(
        page::index,
        api::health,
        ops::ready,
        ops::metrics,
        document,
        data::competitions,
        data::matches,
        data::match_detail,
        data::match_events,
        data::team,
        ingest::ingest,
        ingest::poll,
        publish::publish,
        messages::submit,
        messages::list,
        messages::purge,
        messages::show,
        messages::cancel,
        compat::updates,
        stream,
        socketio_polling,
        socketio_client,
        slack_events,
        slack_commands,
        discord_interactions,
        viber_callbacks,
        twilio_sms,
        twilio_sms_status,
        twilio_whatsapp,
        twilio_whatsapp_status,
    ),
    modifiers(&Security),
    tags(
        (name = "data", description = "Competitions, matches, events and teams; producers' pushes; polls on demand."),
        (name = "messages", description = "Published, addressed, scheduled and tracked messages."),
        (name = "sms", description = "SMS signup (double opt-in) and updates to every subscriber."),
        (name = "stream", description = "The live stream of notifications (Server-Sent Events) and the Socket.IO rooms."),
        (name = "webhooks", description = "What the platforms call: signed, and answered in their formats."),
        (name = "service", description = "The page, liveness, readiness, metrics and this document."),
    )
)]
pub struct ApiDoc;

/// Adds the two ways a token is given: `Authorization: Bearer <token>`, or HTTP Basic with
/// the token's name as user and the token as password.
#[derive(Debug)]
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
    }
}

/// The document with the SMS routes when the Twilio sink is compiled in.
fn build() -> utoipa::openapi::OpenApi {
    #[cfg_attr(not(feature = "twilio"), allow(unused_mut))]
    let mut doc = ApiDoc::openapi();
    #[cfg(feature = "twilio")]
    doc.merge(SmsDoc::openapi());
    doc
}

/// The SMS signup routes (served when a Twilio sink is configured).
#[cfg(feature = "twilio")]
#[derive(Debug, OpenApi)]
#[openapi(paths(
    crate::sms::http::settings,
    crate::sms::http::subscribe,
    crate::sms::http::subscribe_number,
    crate::sms::http::confirm,
))]
struct SmsDoc;

static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(build);

/// The document as JSON.
pub fn json() -> serde_json::Value {
    serde_json::to_value(&*DOCUMENT).unwrap_or_default()
}

/// `GET /api/v1/openapi.json`.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "service",
    responses((status = 200, description = "This document (OpenAPI 3.1).", content_type = "application/json", body = Object)))]
pub(super) async fn document(headers: HeaderMap) -> Response {
    super::etag::json(&headers, &*DOCUMENT)
}

// The routes sinks mount, described where the core can see them.

/// `GET /stream` (sink `sse`): Server-Sent Events. Each event's `id:` is its delivery id
/// (the same on every instance), its `event:` the kind, its `data:` the notification as JSON
/// (id, event_id, kind, match_id, topic, teams, title, body, locale, data, replaces, …).
#[utoipa::path(get, path = "/stream", tag = "stream",
    params(
        ("match" = Option<String>, Query, description = "Only this match (repeatable)."),
        ("team" = Option<String>, Query, description = "Only these teams (repeatable)."),
        ("topic" = Option<String>, Query, description = "Only announcements of this topic (repeatable)."),
        ("kind" = Option<String>, Query, description = "Only these kinds or groups (repeatable)."),
        ("last_event_id" = Option<String>, Query, description = "Resume after this id (for clients that cannot set the header)."),
        ("spoilers" = Option<String>, Query, description = "`off`: match events without the score (text and data)."),
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this id: what was missed is sent first."),
    ),
    responses(
        (status = 200, description = "The stream.", content_type = "text/event-stream", body = String),
        (status = 400, description = "An unknown or malformed parameter.", body = ErrorBody),
        (status = 503, description = "Too many clients.", body = ErrorBody),
    ))]
#[allow(dead_code, reason = "documents a route of the sse sink crate")]
fn stream() {}

/// `/socket.io/` (sink `socketio`): Socket.IO v5 over Engine.IO v4, HTTP long-polling
/// (`GET` receives, `POST` sends) or a WebSocket upgrade of the `GET`. Client events `joined
/// {room, name}`, `text {msg, room?}`, `left {room?}`; server events `status {msg}`,
/// `message {msg}` and `notification` (the stream's JSON) in rooms `all`, `match:<id>`,
/// `team:<name>`, `topic:<topic>`. Its answers are Engine.IO packets, not JSON.
#[utoipa::path(get, path = "/socket.io/", tag = "stream",
    params(
        ("EIO" = String, Query, description = "The Engine.IO protocol: 4."),
        ("transport" = String, Query, description = "`polling` or `websocket`."),
        ("sid" = Option<String>, Query, description = "The session, after the handshake."),
    ),
    responses(
        (status = 200, description = "Engine.IO packets (the handshake `0{\"sid\", …}` first).", content_type = "text/plain", body = String),
        (status = 101, description = "Switched to WebSocket (`transport=websocket`)."),
        (status = 400, description = "An unknown session or transport.", content_type = "text/plain", body = String),
    ))]
#[allow(dead_code, reason = "documents a route of the socketio sink crate")]
fn socketio_polling() {}

/// The Socket.IO JavaScript client (v4.8.4, MIT), served by herald for pages (no CDN); also
/// at `/socket.io/socket.io.js`.
#[utoipa::path(get, path = "/socket.io/socket.io.min.js", tag = "stream",
    responses((status = 200, description = "The client.", content_type = "text/javascript", body = String)))]
#[allow(dead_code, reason = "documents a route of the socketio sink crate")]
fn socketio_client() {}

/// Slack's Events API (`url_verification`, app mentions and direct messages as bot commands),
/// signed with `X-Slack-Signature`.
#[utoipa::path(post, path = "/webhooks/{sink}/events", tag = "webhooks",
    params(("sink" = String, Path, description = "The Slack sink's id.")),
    request_body(content = Object, content_type = "application/json"),
    responses(
        (status = 200, description = "Accepted (the challenge echoed for `url_verification`)."),
        (status = 401, description = "A missing, stale or wrong signature."),
    ))]
#[allow(dead_code, reason = "documents a route of the slack sink crate")]
fn slack_events() {}

/// Slack slash commands (`/herald subscribe France`), signed with `X-Slack-Signature`.
#[utoipa::path(post, path = "/webhooks/{sink}/commands", tag = "webhooks",
    params(("sink" = String, Path, description = "The Slack sink's id.")),
    request_body(content = Object, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The command's answer, as Slack message JSON.", content_type = "application/json", body = Object),
        (status = 401, description = "A missing, stale or wrong signature."),
    ))]
#[allow(dead_code, reason = "documents a route of the slack sink crate")]
fn slack_commands() {}

/// Discord interactions (PING, slash commands), signed with Ed25519
/// (`X-Signature-Ed25519`, `X-Signature-Timestamp`).
#[utoipa::path(post, path = "/webhooks/{sink}/interactions", tag = "webhooks",
    params(("sink" = String, Path, description = "The Discord sink's id.")),
    request_body(content = Object, content_type = "application/json"),
    responses(
        (status = 200, description = "PONG, or the command's answer.", content_type = "application/json", body = Object),
        (status = 401, description = "A missing or wrong signature, or no public key configured."),
    ))]
#[allow(dead_code, reason = "documents a route of the discord sink crate")]
fn discord_interactions() {}

/// Viber callbacks (`conversation_started`, `message`, `subscribed`, `unsubscribed`,
/// `delivered`, `failed`, …), signed with `X-Viber-Content-Signature` (HMAC-SHA256 of the body).
#[utoipa::path(post, path = "/webhooks/{sink}/callbacks", tag = "webhooks",
    params(("sink" = String, Path, description = "The Viber sink's id.")),
    request_body(content = Object, content_type = "application/json"),
    responses(
        (status = 200, description = "Handled (a welcome message as JSON for `conversation_started`)."),
        (status = 403, description = "A missing or wrong signature."),
    ))]
#[allow(dead_code, reason = "documents a route of the viber sink crate")]
fn viber_callbacks() {}

/// Twilio's inbound SMS (subscribe, STOP, START, HELP, a signup code), signed with
/// `X-Twilio-Signature`; answered with TwiML.
#[utoipa::path(post, path = "/webhooks/twilio/sms", tag = "webhooks",
    request_body(content = Object, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The reply, as TwiML.", content_type = "text/xml", body = String),
        (status = 403, description = "A missing or wrong signature."),
        (status = 503, description = "Try again (Twilio retries)."),
    ))]
#[allow(dead_code, reason = "documents a route mounted with the twilio sink")]
fn twilio_sms() {}

/// Twilio's delivery reports of texts; a failure that will not pass pauses the number.
#[utoipa::path(post, path = "/webhooks/twilio/status", tag = "webhooks",
    request_body(content = Object, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 204, description = "Recorded."),
        (status = 403, description = "A missing or wrong signature."),
    ))]
#[allow(dead_code, reason = "documents a route mounted with the twilio sink")]
fn twilio_sms_status() {}

/// Twilio's inbound WhatsApp messages (the SMS commands), signed with `X-Twilio-Signature`;
/// opens the 24-hour window.
#[utoipa::path(post, path = "/webhooks/twilio/whatsapp", tag = "webhooks",
    request_body(content = Object, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The reply, as TwiML.", content_type = "text/xml", body = String),
        (status = 403, description = "A missing or wrong signature."),
    ))]
#[allow(dead_code, reason = "documents a route mounted with the whatsapp sink")]
fn twilio_whatsapp() {}

/// Twilio's delivery reports of WhatsApp messages.
#[utoipa::path(post, path = "/webhooks/twilio/whatsapp/status", tag = "webhooks",
    request_body(content = Object, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 204, description = "Recorded."),
        (status = 403, description = "A missing or wrong signature."),
    ))]
#[allow(dead_code, reason = "documents a route mounted with the whatsapp sink")]
fn twilio_whatsapp_status() {}
