//! The shared HTTP client builder and the one mapping from HTTP responses to [`SinkError`].

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::SinkError;
use crate::text::truncate;

/// herald's user agent, sent on every outgoing request.
pub const USER_AGENT: &str = concat!("herald/", env!("CARGO_PKG_VERSION"));

/// How long one request may take, end to end, unless a sink chooses otherwise. Long enough for a
/// slow platform, short enough that a hung connection turns into a retry.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// How long connecting may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A client builder with herald's user agent and timeouts; add platform headers and build.
pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .timeout(DEFAULT_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .pool_idle_timeout(Duration::from_secs(60))
}

/// A client with herald's defaults.
///
/// # Errors
/// When the TLS backend cannot be initialised (no rustls crypto provider installed).
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    client_builder().build()
}

/// Maps an HTTP status to the delivery outcome it means, `None` for success (2xx).
///
/// | status | outcome |
/// |---|---|
/// | 2xx | success |
/// | 429 | `RateLimited`, with `Retry-After` when present |
/// | 408, 425, 5xx | `Transient` |
/// | any other (400, 401, 403, 404, …) | `Permanent` |
pub fn classify_status(status: StatusCode, headers: &HeaderMap, body: &str) -> Option<SinkError> {
    if status.is_success() {
        return None;
    }
    let err = StatusError {
        status,
        body: truncate(body, 300),
    };
    Some(match status.as_u16() {
        429 => SinkError::RateLimited {
            retry_after: retry_after(headers, SystemTime::now()),
        },
        408 | 425 | 500..=599 => SinkError::transient(err),
        _ => SinkError::permanent(err),
    })
}

/// Maps a request that failed before a response arrived. Timeouts and connection errors may
/// pass; a request that could not even be built will not. The URL is removed from the error so
/// credentials in query strings never reach a log.
pub fn classify_request_error(err: reqwest::Error) -> SinkError {
    let permanent = err.is_builder();
    let err = err.without_url();
    if permanent {
        SinkError::permanent(err)
    } else {
        SinkError::transient(err)
    }
}

/// A response read to its end: what the platform answered, for the sink to interpret.
#[derive(Debug)]
pub struct Answered {
    /// The HTTP status.
    pub status: StatusCode,
    /// The response headers (rate-limit headers, `Retry-After`).
    pub headers: HeaderMap,
    /// The body as text.
    pub body: String,
}

/// Sends `request` and reads the whole answer; a request that fails before an answer arrives
/// is classified with [`classify_request_error`].
///
/// # Errors
/// The request failed (network, timeout), or the body could not be read.
pub async fn call(request: reqwest::RequestBuilder) -> Result<Answered, SinkError> {
    let response = request.send().await.map_err(classify_request_error)?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.map_err(classify_request_error)?;
    Ok(Answered {
        status,
        headers,
        body,
    })
}

/// Reads `Retry-After` as delay-seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A non-success HTTP status, with the start of the body for the dead-letter record.
#[derive(Debug, thiserror::Error)]
#[error("HTTP {status}: {body}")]
pub struct StatusError {
    /// The status the platform answered with.
    pub status: StatusCode,
    /// The first few hundred characters of the response body.
    pub body: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(retry: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = retry {
            h.insert(RETRY_AFTER, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn statuses_map_to_outcomes() {
        let cases: &[(u16, &str)] = &[
            (200, "ok"),
            (201, "ok"),
            (204, "ok"),
            (400, "permanent"),
            (401, "permanent"),
            (403, "permanent"),
            (404, "permanent"),
            (408, "transient"),
            (429, "rate_limited"),
            (500, "transient"),
            (502, "transient"),
            (503, "transient"),
        ];
        for &(code, want) in cases {
            let got = match classify_status(StatusCode::from_u16(code).unwrap(), &headers(None), "")
            {
                None => "ok",
                Some(SinkError::RateLimited { .. }) => "rate_limited",
                Some(SinkError::Transient(_)) => "transient",
                Some(SinkError::Permanent(_)) => "permanent",
                Some(SinkError::RecipientGone(_)) => "gone",
            };
            assert_eq!(got, want, "status {code}");
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            retry_after(&headers(Some("7")), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers(Some("1.5")), now),
            Some(Duration::from_millis(1500))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            retry_after(&headers(Some(&later)), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(retry_after(&headers(Some("soon")), now), None);
        assert_eq!(retry_after(&headers(None), now), None);
    }

    #[test]
    fn a_429_carries_its_retry_after() {
        let err = classify_status(StatusCode::TOO_MANY_REQUESTS, &headers(Some("3")), "").unwrap();
        match err {
            SinkError::RateLimited { retry_after } => {
                assert_eq!(retry_after, Some(Duration::from_secs(3)));
            }
            other => panic!("expected RateLimited, got {other:?}"),
        }
    }

    #[test]
    fn long_bodies_are_cut_on_a_char_boundary() {
        let body = "é".repeat(400);
        let err = classify_status(StatusCode::BAD_REQUEST, &headers(None), &body).unwrap();
        let SinkError::Permanent(inner) = err else {
            panic!("expected permanent")
        };
        let text = inner.to_string();
        assert!(text.ends_with('…'));
        // At most 300 characters of the body, the ellipsis included.
        assert_eq!(text.chars().filter(|c| *c == 'é').count(), 299);
    }
}
