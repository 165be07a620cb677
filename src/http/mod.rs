//! herald's HTTP server: the live page, the JSON API, the publish endpoint, and whatever the
//! sinks mount (the SSE stream).

pub mod answers;
mod api;
pub mod auth;
pub mod client_ip;
mod compat;
pub mod data;
mod etag;
mod ingest;
mod messages;
pub mod openapi;
pub mod ops;
mod page;
mod publish;
mod request_id;
pub mod serve;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::outbox::Outbox;
use crate::store::Store;

/// Requests bigger than this are refused before they are read, on every route (announcements,
/// signups and webhooks are all short).
pub const MAX_BODY: usize = 64 * 1024;
/// The longest error message echoed back: whatever a client sent, the answer stays small.
const MAX_MESSAGE: usize = 300;

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The store.
    pub store: Store,
    /// Where published messages are queued.
    pub outbox: Outbox,
    /// The messages API.
    pub messages: crate::messages::Messages,
    /// Pushed snapshots and polls on demand.
    pub ingest: crate::ingest::Ingest,
    /// Who may call the protected routes.
    pub auth: auth::Auth,
    /// Metrics and readiness.
    pub ops: ops::Ops,
}

/// The whole router: herald's own routes plus `extra` (sinks' routes), all under one body
/// cap, and every error answered as JSON.
pub fn router(state: AppState, extra: Vec<Router>) -> Router {
    let mut app = Router::new()
        .route("/", get(page::index))
        .route("/healthz", get(api::health))
        .route("/readyz", get(ops::ready))
        .route("/metrics", get(ops::metrics))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/api/v1/competitions", get(data::competitions))
        .route("/api/v1/matches", get(data::matches))
        .route("/api/v1/matches/{id}", get(data::match_detail))
        .route("/api/v1/matches/{id}/events", get(data::match_events))
        .route("/api/v1/teams/{id}", get(data::team))
        .route("/api/v1/publish", post(publish::publish))
        .route(
            "/api/v1/messages",
            post(messages::submit)
                .get(messages::list)
                .delete(messages::purge),
        )
        .route("/updates", post(compat::updates))
        .route("/api/v1/ingest", post(ingest::ingest))
        .route("/api/v1/sources/{id}/poll", post(ingest::poll))
        .route(
            "/api/v1/messages/{id}",
            get(messages::show).delete(messages::cancel),
        )
        .fallback(not_found)
        .with_state(state);
    for r in extra {
        app = app.merge(r);
    }
    app.layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY))
        .layer(axum::middleware::map_response(json_errors))
        .layer(axum::middleware::from_fn(request_id::traced))
}

/// Turns the plain-text errors of axum and of the body limit (405, 413, 415, 400 from an
/// extractor) into `{"error": ...}` like every other answer of the API.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_MESSAGE)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            format!("the request body is larger than {} KiB", MAX_BODY / 1024)
        }
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed on this route".to_owned(),
        _ => text.unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_lowercase()),
    };
    let mut json = error(status, &message, None);
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(value) = parts.headers.get(&name) {
            json.headers_mut().insert(name, value.clone());
        }
    }
    json
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such route", None)
}

/// A JSON error: `{"error": "...", "field": "..."}`.
/// Messages and fields are cut to a few hundred characters: they may quote what the client
/// sent, and an answer never grows with the request.
pub(crate) fn error(status: StatusCode, message: &str, field: Option<&str>) -> Response {
    let body = answers::ErrorBody {
        error: sink_api::text::truncate(message, MAX_MESSAGE),
        field: field.map(|f| sink_api::text::truncate(f, MAX_MESSAGE)),
    };
    (status, axum::Json(body)).into_response()
}
