//! The Socket.IO JavaScript client (v4.8.4, MIT; `assets/LICENSE-socket.io-client`), served by
//! herald itself so that pages need no CDN: at `/socket.io/socket.io.min.js`, and at
//! `/socket.io/socket.io.js` where pages of Node.js room services load it from.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

const CLIENT: &[u8] = include_bytes!("../assets/socket.io.min.js");
const SOURCE_MAP: &[u8] = include_bytes!("../assets/socket.io.min.js.map");

/// The client's routes.
pub(crate) fn routes() -> Router {
    Router::new()
        .route("/socket.io/socket.io.min.js", get(client))
        .route("/socket.io/socket.io.js", get(client))
        .route("/socket.io/socket.io.min.js.map", get(source_map))
}

async fn client() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        CLIENT,
    )
}

async fn source_map() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        SOURCE_MAP,
    )
}
