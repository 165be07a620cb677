//! Viber sink: notifications to users through the REST Bot API, and bot commands through
//! Viber's signed callbacks.
#![doc = include_str!("../README.md")]

mod callbacks;
mod client;
mod config;
mod plugin;
mod render;
#[cfg(feature = "test-util")]
pub mod testing;

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sink_api::plugin::CancellationToken;
use sink_api::{Limits, Notification, Rate, Receipt, Recipient, Sink, SinkError};

pub use callbacks::{Users, UsersFuture, router};
pub use client::{BuildError, ViberError};
pub use config::Config;
pub use plugin::Plugin;

/// How many times `set_webhook` is tried at startup when Viber cannot be reached.
const WEBHOOK_ATTEMPTS: u32 = 5;

/// A second record of users for the same sink.
#[derive(Debug, thiserror::Error)]
#[error("the Viber sink already has its record of users")]
pub struct AlreadyAttached;

/// Delivers to Viber users; see the crate docs.
#[derive(Clone)]
pub struct ViberSink {
    client: Arc<client::Client>,
    config: Arc<Config>,
    /// What callbacks change (pauses, failures); attached by the core after building the sink.
    users: Arc<OnceLock<Arc<dyn Users>>>,
}

impl fmt::Debug for ViberSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ViberSink")
            .field("config", &self.config)
            .field("users", &self.users.get().is_some())
            .finish_non_exhaustive()
    }
}

impl ViberSink {
    /// A sink for the bot `config` describes.
    ///
    /// # Errors
    /// When the HTTP client cannot be built (no TLS provider).
    pub fn new(config: Config) -> Result<Self, BuildError> {
        Ok(Self {
            client: Arc::new(client::Client::new(
                &config.endpoint,
                config.auth_token.clone(),
            )?),
            config: Arc::new(config),
            users: Arc::new(OnceLock::new()),
        })
    }

    /// Gives the sink (and its clones, its callback route among them) the record its callbacks
    /// update: pauses, resumptions and failed deliveries.
    ///
    /// # Errors
    /// When one is attached already.
    pub fn attach(&self, users: Arc<dyn Users>) -> Result<(), AlreadyAttached> {
        self.users.set(users).map_err(|_| AlreadyAttached)
    }

    /// The attached record of users, if any.
    pub(crate) fn users(&self) -> Option<Arc<dyn Users>> {
        self.users.get().cloned()
    }

    /// Its configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A text message from the configured sender, to `receiver` (or, without one, as the
    /// answer to a callback).
    pub(crate) fn message<'a>(
        &'a self,
        receiver: Option<&'a str>,
        text: &'a str,
    ) -> client::Message<'a> {
        client::Message {
            receiver,
            min_api_version: 1,
            sender: client::Sender {
                name: &self.config.sender_name,
                avatar: self.config.sender_avatar.as_deref(),
            },
            kind: "text",
            text,
        }
    }

    /// Sends `text` to the user `receiver`; the message token is the receipt.
    pub(crate) async fn send_text(&self, receiver: &str, text: &str) -> Result<Receipt, SinkError> {
        let answer = self
            .client
            .send(&self.message(Some(receiver), text))
            .await?;
        Ok(answer
            .message_token()
            .map(Receipt::with_id)
            .unwrap_or_default())
    }

    /// Registers `webhook_url` with `set_webhook`; `Ok(false)` when none is configured.
    ///
    /// # Errors
    /// Viber refused it (a URL it cannot reach, a bad token) or could not be reached.
    pub async fn set_webhook(&self) -> Result<bool, SinkError> {
        let Some(url) = self.config.webhook_url.as_deref() else {
            return Ok(false);
        };
        self.client.set_webhook(url).await.map(|()| true)
    }

    /// Registers the webhook at startup, trying again a few times while Viber cannot be
    /// reached; a refusal is logged and ends it. Viber calls the URL back before it answers,
    /// so herald's HTTP server is already listening when this runs.
    pub async fn register_webhook(&self, stop: CancellationToken) {
        for attempt in 1..=WEBHOOK_ATTEMPTS {
            let error = match self.set_webhook().await {
                Ok(true) => {
                    tracing::info!(
                        url = self.config.webhook_url.as_deref(),
                        "Viber webhook set"
                    );
                    return;
                }
                Ok(false) => return,
                Err(error) => error,
            };
            let chain = sink_api::error_chain(&error);
            if !error.is_retryable() || attempt == WEBHOOK_ATTEMPTS {
                tracing::error!(error = %chain, "cannot set the Viber webhook: commands will not arrive until it is set");
                return;
            }
            let wait = match error {
                SinkError::RateLimited {
                    retry_after: Some(wait),
                } => wait,
                _ => Duration::from_secs(2 << attempt),
            };
            tracing::warn!(error = %chain, attempt, "cannot set the Viber webhook yet; trying again");
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}

impl Sink for ViberSink {
    const KIND: &'static str = "viber";

    /// Viber cannot edit a sent message through the API: a correction is a new message.
    async fn send(&self, to: &Recipient, msg: &Notification) -> Result<Receipt, SinkError> {
        self.send_text(to.as_str(), &render::text(msg)).await
    }

    fn limits(&self) -> Limits {
        Limits {
            global: vec![Rate::per_second(self.config.global_per_second)],
            per_recipient: vec![Rate::new(
                self.config.per_user_per_hour,
                Duration::from_secs(60 * 60),
            )],
            ..Limits::default()
        }
    }

    async fn healthcheck(&self) -> Result<(), SinkError> {
        self.client.account_info().await
    }
}
