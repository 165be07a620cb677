//! Webhook sink: each notification is POSTed as JSON to each configured URL, signed per
//! Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
#![doc = include_str!("../README.md")]
//!
//! # Layout
//!
//! | module | what it holds |
//! |---|---|
//! | `lib.rs` | [`WebhookSink`]: the POST and how answers become outcomes |
//! | `config.rs` | [`Config`] and its checks |
//! | `render.rs` | the JSON body, pure |
//! | [`sign`] | signing, message ids and [`sign::verify`] for receivers |
//! | `plugin.rs` | [`Plugin`], the core's entry point |
//! | `testing` | a local receiver that checks signatures on its own (`test-util`) |

mod config;
mod plugin;
mod render;
pub mod sign;
#[cfg(feature = "test-util")]
pub mod testing;

use std::sync::Arc;
use std::time::SystemTime;

use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use secrecy::ExposeSecret;
use sink_api::http::{StatusError, classify_status};
use sink_api::text::truncate;
use sink_api::{Limits, Notification, Rate, Receipt, Recipient, Sink, SinkError};

pub use config::Config;
pub use plugin::Plugin;

use crate::sign::{HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, Secret};

/// The sink could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The secret is not a `whsec_` secret (checked by `validate` first).
    #[error("invalid secret")]
    Secret(#[source] sign::SecretError),
    /// The HTTP client could not be built.
    #[error("cannot build the webhook HTTP client")]
    Client(#[source] reqwest::Error),
}

/// A recipient that is not an http(s) URL: a subscriber added by hand with a typo.
#[derive(Debug, thiserror::Error)]
#[error("the recipient {0}")]
pub struct BadRecipient(&'static str);

/// POSTs signed JSON to webhook URLs; see the crate docs.
#[derive(Debug, Clone)]
pub struct WebhookSink {
    http: reqwest::Client,
    secret: Secret,
    /// The sink instance id, part of every message id.
    instance: Arc<str>,
    config: Arc<Config>,
}

impl WebhookSink {
    /// The sink instance `instance` (`[sinks.<instance>]`) as `config` describes it.
    ///
    /// # Errors
    /// A secret that is not `whsec_…`, or an HTTP client that cannot be built.
    pub fn new(instance: &str, config: Config) -> Result<Self, BuildError> {
        let secret = Secret::parse(config.secret.expose_secret()).map_err(BuildError::Secret)?;
        let http = sink_api::http::client_builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(sink_api::http::CONNECT_TIMEOUT))
            // The spec: a redirect is a failure, the URL should be updated instead. Following
            // one would also turn the POST into a GET.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(BuildError::Client)?;
        Ok(Self {
            http,
            secret,
            instance: Arc::from(instance),
            config: Arc::new(config),
        })
    }

    /// The `webhook-id` of `msg`: the same on every attempt, see [`sign::message_id`].
    pub fn message_id(&self, msg: &Notification) -> String {
        sign::message_id(&self.instance, &msg.event_id)
    }
}

/// What an answer means: 2xx delivered, 410 gone (the receiver wants no more), anything
/// else as [`classify_status`] has it (429 waits for `Retry-After`, 408 and 5xx retry, other
/// statuses, 3xx included, are dead letters).
fn outcome(
    status: StatusCode,
    headers: &reqwest::header::HeaderMap,
    body: &str,
) -> Option<SinkError> {
    if status == StatusCode::GONE {
        return Some(SinkError::gone(StatusError {
            status,
            body: truncate(body, 300),
        }));
    }
    classify_status(status, headers, body)
}

impl Sink for WebhookSink {
    const KIND: &'static str = "webhook";

    async fn send(&self, to: &Recipient, msg: &Notification) -> Result<Receipt, SinkError> {
        let url = config::check_url(to.as_str())
            .map_err(|why| SinkError::permanent(BadRecipient(why)))?;
        let id = self.message_id(msg);
        let body = serde_json::to_vec(&render::payload(&self.instance, &id, msg))
            .map_err(SinkError::permanent)?;
        let timestamp = sign::unix_seconds(SystemTime::now());
        let signature = self.secret.sign(&id, timestamp, &body);
        let request = self
            .http
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(HEADER_ID, &id)
            .header(HEADER_TIMESTAMP, timestamp)
            .header(HEADER_SIGNATURE, signature)
            .body(body);
        let answer = sink_api::http::call(request).await?;
        match outcome(answer.status, &answer.headers, &answer.body) {
            None => Ok(Receipt::with_id(id)),
            Some(err) => Err(err),
        }
    }

    /// The configured URLs; URLs added with `herald subscribers add` come from the store.
    fn recipients(&self) -> Vec<Recipient> {
        self.config.urls.iter().map(Recipient::new).collect()
    }

    fn limits(&self) -> Limits {
        Limits {
            per_recipient: vec![Rate::per_second(self.config.per_url_per_second)],
            ..Limits::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
    use std::time::Duration;

    fn kind(status: u16, retry: Option<&str>) -> String {
        let mut headers = HeaderMap::new();
        if let Some(r) = retry {
            headers.insert(RETRY_AFTER, HeaderValue::from_str(r).unwrap());
        }
        match outcome(StatusCode::from_u16(status).unwrap(), &headers, "no") {
            None => "delivered".into(),
            Some(SinkError::RecipientGone(_)) => "gone".into(),
            Some(SinkError::RateLimited { retry_after }) => format!("wait {retry_after:?}"),
            Some(SinkError::Transient(_)) => "retry".into(),
            Some(SinkError::Permanent(_)) => "dead".into(),
        }
    }

    #[test]
    fn statuses_follow_the_spec() {
        for (status, want) in [
            (200, "delivered"),
            (202, "delivered"),
            (204, "delivered"),
            (301, "dead"),
            (308, "dead"),
            (400, "dead"),
            (401, "dead"),
            (404, "dead"),
            (408, "retry"),
            (410, "gone"),
            (500, "retry"),
            (502, "retry"),
            (503, "retry"),
            (504, "retry"),
        ] {
            assert_eq!(kind(status, None), want, "{status}");
        }
        assert_eq!(
            kind(429, Some("7")),
            format!("wait {:?}", Some(Duration::from_secs(7)))
        );
        assert_eq!(kind(429, None), "wait None");
    }
}
