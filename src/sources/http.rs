//! The HTTP transport: credentials, ETag revalidation, client-side request pacing, and the
//! provider's clock from its `Date` header.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::StatusCode;
use reqwest::header::{DATE, ETAG, HeaderMap, HeaderValue, IF_NONE_MATCH};
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;

use super::{Response, SourceError, Transport};

/// How a provider authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    /// No credentials (FIFA).
    None,
    /// A header carrying a token (football-data `X-Auth-Token`, API-Football `x-apisports-key`).
    Header {
        /// Header name.
        name: &'static str,
        /// The token.
        value: SecretString,
    },
    /// Query parameters (LiveScore `key` and `secret`).
    Query(Vec<(&'static str, SecretString)>),
}

/// Fetches from a provider's real API.
#[derive(Debug)]
pub struct HttpTransport {
    client: reqwest::Client,
    base: String,
    auth: Auth,
    limiter: Option<DefaultDirectRateLimiter>,
    /// Last ETag and body per URL, for `If-None-Match` revalidation.
    cache: Mutex<HashMap<String, (HeaderValue, Bytes)>>,
    /// No request before this instant (the provider's quota is spent).
    paused_until: Mutex<Option<Instant>>,
    /// The source id under which the provider's quota headers are reported.
    source: Option<String>,
}

impl HttpTransport {
    /// A transport for the API at `base` (e.g. `https://api.football-data.org/v4`).
    ///
    /// `requests_per_minute` paces requests client-side so a quota is never exceeded in the
    /// first place; `None` leaves pacing to the cadence.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(
        base: &str,
        auth: Auth,
        requests_per_minute: Option<u32>,
    ) -> Result<Self, reqwest::Error> {
        let client = sink_api::http::client()?;
        let limiter = requests_per_minute
            .and_then(NonZeroU32::new)
            .map(|n| RateLimiter::direct(per_minute_quota(n)));
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
            auth,
            limiter,
            cache: Mutex::new(HashMap::new()),
            paused_until: Mutex::new(None),
            source: None,
        })
    }

    /// Reports the provider's quota headers as `herald_provider_quota_remaining{source=id}`.
    #[must_use]
    pub fn metered_as(mut self, id: &str) -> Self {
        self.source = Some(id.to_owned());
        self
    }

    async fn wait_turn(&self) {
        let paused = *self
            .paused_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(until) = paused {
            tokio::time::sleep_until(until).await;
        }
        if let Some(limiter) = &self.limiter {
            limiter.until_ready().await;
        }
    }

    fn cache_key(path: &str, query: &[(&str, String)]) -> String {
        let mut key = path.to_owned();
        for (k, v) in query {
            key.push(if key.contains('?') { '&' } else { '?' });
            key.push_str(k);
            key.push('=');
            key.push_str(v);
        }
        key
    }
}

impl Transport for HttpTransport {
    fn pause(&self, for_: Duration) {
        let until = Instant::now() + for_;
        let mut paused = self
            .paused_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if paused.is_none_or(|p| p < until) {
            *paused = Some(until);
        }
    }

    async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Response, SourceError> {
        self.wait_turn().await;
        let key = Self::cache_key(path, query);
        let mut request = self.client.get(format!("{}{path}", self.base)).query(query);
        match &self.auth {
            Auth::None => {}
            Auth::Header { name, value } => request = request.header(*name, value.expose_secret()),
            Auth::Query(params) => {
                let params: Vec<(&str, &str)> = params
                    .iter()
                    .map(|(k, v)| (*k, v.expose_secret()))
                    .collect();
                request = request.query(&params);
            }
        }
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            .cloned();
        if let Some((etag, _)) = &cached {
            request = request.header(IF_NONE_MATCH, etag.clone());
        }
        let response = request.send().await.map_err(|e| SourceError::Request {
            endpoint: path.to_owned(),
            source: e.without_url(),
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        if let Some(source) = &self.source {
            report_quota(source, &headers);
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            // Whatever the source does with the error (a line-up read only logs it), nothing
            // more is asked of the provider before it said.
            self.pause(super::retry_after(&headers).unwrap_or(Duration::from_secs(60)));
        }
        let now = provider_now(&headers);
        if status == StatusCode::NOT_MODIFIED
            && let Some((_, body)) = cached
        {
            return Ok(Response {
                status: 200,
                headers,
                body,
                now,
            });
        }
        let body = response.bytes().await.map_err(|e| SourceError::Request {
            endpoint: path.to_owned(),
            source: e.without_url(),
        })?;
        if status == StatusCode::OK
            && let Some(etag) = headers.get(ETAG)
        {
            self.cache
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(key, (etag.clone(), body.clone()));
        }
        Ok(Response {
            status: status.as_u16(),
            headers,
            body,
            now,
        })
    }
}

/// A pace that never sends more than `n` requests in any 60 seconds: a burst of a tenth of
/// them (at least one), the rest spread evenly. (A burst of all `n` on top of `n` a minute
/// would allow nearly `2n` in a minute that starts with a full bucket.)
fn per_minute_quota(n: NonZeroU32) -> Quota {
    let burst = NonZeroU32::new((n.get() / 10).max(1)).unwrap_or(NonZeroU32::MIN);
    let spread = (n.get() - burst.get()).max(1);
    Quota::with_period(Duration::from_secs(60) / spread)
        .unwrap_or_else(|| Quota::per_minute(n))
        .allow_burst(burst)
}

/// The quota headers providers send, and the window each counts.
const QUOTA_HEADERS: [(&str, &str); 3] = [
    // football-data.org.
    ("x-requests-available-minute", "minute"),
    // API-Football: per minute, and per day.
    ("x-ratelimit-remaining", "minute"),
    ("x-ratelimit-requests-remaining", "day"),
];

/// Records what the provider says is left of its quota.
fn report_quota(source: &str, headers: &HeaderMap) {
    for (name, window) in QUOTA_HEADERS {
        if let Some(left) = headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            crate::telemetry::quota_remaining(source, window, left);
        }
    }
}

/// The provider's clock: its `Date` header, our clock when it sends none.
fn provider_now(headers: &HeaderMap) -> i64 {
    let at = headers
        .get(DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .unwrap_or_else(SystemTime::now);
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;

    /// Sends as fast as the limiter lets through for three minutes, from a full bucket, and
    /// returns when each request went (ms).
    fn sent(n: u32) -> Vec<u64> {
        let clock = FakeRelativeClock::default();
        let quota = per_minute_quota(NonZeroU32::new(n).unwrap());
        let limiter = RateLimiter::direct_with_clock(quota, clock.clone());
        let mut at = Vec::new();
        for ms in (0..180_000_u64).step_by(10) {
            while limiter.check().is_ok() {
                at.push(ms);
            }
            clock.advance(Duration::from_millis(10));
        }
        at
    }

    #[test]
    fn no_minute_ever_sees_more_than_the_quota() {
        for n in [1, 2, 10, 30, 120] {
            let at = sent(n);
            for (i, start) in at.iter().enumerate() {
                let in_window = at[i..].iter().take_while(|t| **t < start + 60_000).count();
                assert!(
                    in_window <= n as usize,
                    "{n}/min: {in_window} from {start} ms"
                );
            }
            // And the quota is used: all but the burst's share every minute.
            let spread = n - (n / 10).max(1);
            assert!(
                at.len() as u32 >= 3 * spread,
                "{n}/min: only {} in 3 min",
                at.len()
            );
        }
    }
}
