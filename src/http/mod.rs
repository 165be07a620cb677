//! herald's HTTP server: the live page, the JSON API, the publish endpoint, and whatever the
//! sinks mount (the SSE stream).

mod api;
mod page;
mod publish;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use secrecy::SecretString;
use tokio::sync::Notify;

use crate::routing::Route;
use crate::store::Store;

/// Requests bigger than this are refused before they are read (announcements are short).
const MAX_BODY: usize = 64 * 1024;

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The store.
    pub store: Store,
    /// Routing of every sink, for published messages.
    pub routes: Arc<Vec<Route>>,
    /// Wakes sink workers after publishing.
    pub wakers: Arc<BTreeMap<String, Arc<Notify>>>,
    /// The publish endpoint's bearer token; `None` refuses publishing.
    pub admin_token: Option<SecretString>,
}

/// The whole router: herald's own routes plus `extra` (sinks' routes).
pub fn router(state: AppState, extra: Vec<Router>) -> Router {
    let mut app = Router::new()
        .route("/", get(page::index))
        .route("/healthz", get(api::health))
        .route("/api/v1/matches", get(api::matches))
        .route("/api/v1/publish", post(publish::publish))
        .fallback(not_found)
        .with_state(state)
        .layer(DefaultBodyLimit::max(MAX_BODY));
    for r in extra {
        app = app.merge(r);
    }
    app
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such route", None)
}

/// A JSON error: `{"error": "...", "field": "..."}`.
pub(crate) fn error(status: StatusCode, message: &str, field: Option<&str>) -> Response {
    let mut body = serde_json::json!({ "error": message });
    if let Some(field) = field {
        body["field"] = serde_json::Value::String(field.to_owned());
    }
    (status, axum::Json(body)).into_response()
}
