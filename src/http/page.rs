//! `GET /`: the live page. One static file, no build step: it lists matches from
//! `/api/v1/matches` and follows `/stream`.

use axum::http::header;
use axum::response::IntoResponse;

const INDEX: &str = include_str!("static/index.html");

#[utoipa::path(get, path = "/", tag = "service",
    responses((status = 200, description = "The live page (HTML): matches and the feed.", content_type = "text/html", body = String)))]
pub(super) async fn index() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        INDEX,
    )
}
