//! X (Twitter) sink: each notification becomes a post on one account, through `POST /2/tweets`
//! with OAuth 1.0a user context.
#![doc = include_str!("../README.md")]

mod config;
mod plugin;
#[cfg(feature = "test-util")]
pub mod testing;
pub mod text;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{AUTHORIZATION, HeaderMap};
use secrecy::ExposeSecret;
use serde::Deserialize;
use sink_api::http::classify_status;
use sink_api::{Limits, Notification, Rate, Receipt, Recipient, Sink, SinkError};

pub use config::Config;
pub use plugin::Plugin;

/// The HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the X HTTP client")]
pub struct BuildError(#[source] reqwest::Error);

/// X refused a post, with its explanation.
#[derive(Debug, thiserror::Error)]
#[error("X answered {status}: {detail}")]
pub struct XError {
    /// The HTTP status.
    pub status: u16,
    /// X's `detail` (or `title`).
    pub detail: String,
}

/// Posts to one X account; see the crate docs.
#[derive(Debug, Clone)]
pub struct XSink {
    http: reqwest::Client,
    config: Arc<Config>,
}

/// X's answer to a post.
#[derive(Debug, Deserialize)]
struct Created {
    data: CreatedData,
}

#[derive(Debug, Deserialize)]
struct CreatedData {
    id: String,
}

/// X's problem body: `{"detail": "…", "title": "Forbidden", "status": 403, "type": "…"}`.
#[derive(Debug, Default, Deserialize)]
struct Problem {
    detail: Option<String>,
    title: Option<String>,
}

impl XSink {
    /// A sink for the account `config` describes.
    ///
    /// # Errors
    /// An HTTP client that cannot be built.
    pub fn new(config: Config) -> Result<Self, BuildError> {
        Ok(Self {
            http: sink_api::http::client().map_err(BuildError)?,
            config: Arc::new(config),
        })
    }

    /// The text of the post for `msg`: title and body, fitted to 280 weighted characters.
    pub fn text_of(msg: &Notification) -> String {
        text::fit(&sink_api::text::title_and_body(msg), text::MAX_WEIGHT)
    }

    /// Sends a signed request to `path` with an optional JSON body; the answer's body on
    /// success, the failure classified otherwise.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        json: Option<&serde_json::Value>,
    ) -> Result<String, SinkError> {
        let url = format!("{}{path}", self.config.endpoint.trim_end_matches('/'));
        let c = &self.config;
        let token = oauth::Token::from_parts(
            c.api_key.expose_secret(),
            c.api_secret.expose_secret(),
            c.access_token.expose_secret(),
            c.access_token_secret.expose_secret(),
        );
        // A JSON body is not part of an OAuth 1.0a signature: only the method, the URL and
        // the oauth_* parameters are.
        let authorization = if method == reqwest::Method::GET {
            oauth::get(&url, &(), &token, oauth::HMAC_SHA1)
        } else {
            oauth::post(&url, &(), &token, oauth::HMAC_SHA1)
        };
        let mut request = self
            .http
            .request(method, &url)
            .header(AUTHORIZATION, authorization);
        if let Some(json) = json {
            request = request.json(json);
        }
        let answer = sink_api::http::call(request).await?;
        if answer.status.is_success() {
            Ok(answer.body)
        } else {
            Err(classify(answer.status, &answer.headers, &answer.body))
        }
    }
}

/// How long until X lifts a 429: the daily user cap's reset when that is what ran out,
/// the endpoint window's reset otherwise.
fn wait_for_reset(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let reset = if header("x-user-limit-24hour-remaining") == Some("0") {
        header("x-user-limit-24hour-reset")
    } else {
        header("x-rate-limit-reset")
    }?;
    let at = reset.trim().parse::<u64>().ok()?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(at.saturating_sub(now).max(1)))
}

fn classify(status: reqwest::StatusCode, headers: &HeaderMap, body: &str) -> SinkError {
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return SinkError::RateLimited {
            retry_after: wait_for_reset(headers, SystemTime::now())
                .or_else(|| sink_api::http::retry_after(headers, SystemTime::now())),
        };
    }
    let problem: Problem = serde_json::from_str(body).unwrap_or_default();
    let detail = problem
        .detail
        .or(problem.title)
        .unwrap_or_else(|| body.chars().take(200).collect());
    let error = XError {
        status: status.as_u16(),
        detail,
    };
    if status == reqwest::StatusCode::FORBIDDEN && error.detail.contains("duplicate content") {
        // Posting the same text again would fail the same way: log it and move on.
        tracing::warn!("X refused a post as duplicate content; not retried");
        return SinkError::permanent(error);
    }
    match classify_status(status, headers, body) {
        Some(SinkError::Transient(_)) => SinkError::transient(error),
        _ => SinkError::permanent(error),
    }
}

impl Sink for XSink {
    const KIND: &'static str = "x";

    /// Corrections are posted as replies to the corrected post: X cannot edit through the API.
    async fn send(&self, _to: &Recipient, msg: &Notification) -> Result<Receipt, SinkError> {
        let mut body = serde_json::json!({ "text": Self::text_of(msg) });
        if let Some(original) = msg.replaces.as_ref().and_then(|r| r.receipt.as_ref()) {
            body["reply"] = serde_json::json!({ "in_reply_to_tweet_id": original });
        }
        let answer = self
            .call(reqwest::Method::POST, "/2/tweets", Some(&body))
            .await?;
        let created: Created = serde_json::from_str(&answer).map_err(SinkError::transient)?;
        Ok(Receipt::with_id(created.data.id))
    }

    async fn healthcheck(&self) -> Result<(), SinkError> {
        self.call(reqwest::Method::GET, "/2/users/me", None)
            .await
            .map(drop)
    }

    /// One account: every post goes to the same place.
    fn recipients(&self) -> Vec<Recipient> {
        vec![Recipient::broadcast()]
    }

    fn limits(&self) -> Limits {
        let mut global = vec![Rate::new(
            self.config.posts_per_15_minutes,
            Duration::from_secs(15 * 60),
        )];
        if self.config.posts_per_day > 0 {
            global.push(Rate::new(
                self.config.posts_per_day,
                Duration::from_secs(24 * 60 * 60),
            ));
        }
        Limits {
            global,
            ..Limits::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn a_429_waits_for_the_window_or_the_daily_reset() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut h = HeaderMap::new();
        h.insert("x-rate-limit-reset", HeaderValue::from_static("1700000090"));
        assert_eq!(wait_for_reset(&h, now), Some(Duration::from_secs(90)));
        h.insert(
            "x-user-limit-24hour-remaining",
            HeaderValue::from_static("0"),
        );
        h.insert(
            "x-user-limit-24hour-reset",
            HeaderValue::from_static("1700003600"),
        );
        assert_eq!(wait_for_reset(&h, now), Some(Duration::from_secs(3600)));
        assert_eq!(wait_for_reset(&HeaderMap::new(), now), None);
    }

    #[test]
    fn duplicates_are_permanent_and_outages_transient() {
        let dup = r#"{"detail":"You are not allowed to create a Tweet with duplicate content.","type":"about:blank","title":"Forbidden","status":403}"#;
        assert!(matches!(
            classify(reqwest::StatusCode::FORBIDDEN, &HeaderMap::new(), dup),
            SinkError::Permanent(_)
        ));
        assert!(matches!(
            classify(
                reqwest::StatusCode::SERVICE_UNAVAILABLE,
                &HeaderMap::new(),
                ""
            ),
            SinkError::Transient(_)
        ));
        assert!(matches!(
            classify(
                reqwest::StatusCode::UNAUTHORIZED,
                &HeaderMap::new(),
                r#"{"title":"Unauthorized","status":401}"#
            ),
            SinkError::Permanent(_)
        ));
    }
}
