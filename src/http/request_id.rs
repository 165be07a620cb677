//! A request id on every HTTP request: taken from the caller's `X-Request-Id` when it is a
//! sane token (a proxy's), else made up; it names the request's span, so every log line the
//! request causes carries it, and it is echoed in the answer's `X-Request-Id`.

use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// The header, in and out.
pub(super) const HEADER: &str = "x-request-id";

/// The longest caller-given id kept; a longer or odd one is replaced.
const MAX_LEN: usize = 64;

/// Wraps a request in a span carrying its id, method and path (never the query, which may
/// hold a token), and echoes the id.
pub(super) async fn traced(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_sane(v))
        .map_or_else(new_id, str::to_owned);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::debug!(
            status = response.status().as_u16(),
            ms = started.elapsed().as_millis(),
            "answered"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}

fn is_sane(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// 16 random hex digits.
fn new_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_ids_are_taken_from_the_caller() {
        assert!(is_sane("3f2c-01.a_b"));
        assert!(!is_sane(""));
        assert!(!is_sane("a b"));
        assert!(!is_sane("x\u{e9}"));
        assert!(!is_sane(&"a".repeat(65)));
        assert_eq!(new_id().len(), 16);
    }
}
