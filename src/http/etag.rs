//! `ETag` and `304 Not Modified` for the read API: the tag is a hash of the JSON answer, so a
//! client that polls gets an empty 304 while nothing changed, on any instance.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// `value` as JSON with its `ETag`, or `304` when the request's `If-None-Match` names it.
pub(crate) fn json<T: Serialize>(request: &HeaderMap, value: &T) -> Response {
    let body = match serde_json::to_vec(value) {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "cannot encode an answer");
            return super::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot encode the answer",
                None,
            );
        }
    };
    let digest = Sha256::digest(&body);
    let tag: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    let etag = format!("\"{tag}\"");
    let headers = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, "no-cache".to_owned()),
    ];
    if matches(request.get(header::IF_NONE_MATCH), &etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    (headers, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Whether `If-None-Match` lists `etag` (weak comparison, as RFC 9110 says for it) or is `*`.
fn matches(if_none_match: Option<&HeaderValue>, etag: &str) -> bool {
    let Some(value) = if_none_match.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    value.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_lists_tags_weak_or_strong() {
        let v = |s: &'static str| HeaderValue::from_static(s);
        assert!(matches(Some(&v("\"a\"")), "\"a\""));
        assert!(matches(Some(&v("\"b\", W/\"a\"")), "\"a\""));
        assert!(matches(Some(&v("*")), "\"a\""));
        assert!(!matches(Some(&v("\"b\"")), "\"a\""));
        assert!(!matches(None, "\"a\""));
    }
}
