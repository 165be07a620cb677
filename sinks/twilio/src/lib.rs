//! Twilio sinks: notifications as SMS to subscribed phone numbers, in as few segments as the
//! text allows, and as WhatsApp messages to numbers that opted in.
#![doc = include_str!("../README.md")]

mod client;
mod config;
pub mod gsm;
pub mod keywords;
pub mod phone;
mod plugin;
pub mod signature;
#[cfg(feature = "test-util")]
pub mod testing;
pub mod twiml;
pub mod webhook;
pub mod whatsapp;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use sink_api::{Limits, Notification, Rate, Receipt, Recipient, Sink, SinkError};

pub use client::{BuildError, TwilioError};
pub use config::{Config, SignupConfig};
pub use plugin::Plugin;
pub use whatsapp::{Session, Sessions, WhatsAppConfig, WhatsAppPlugin, WhatsAppSink};

/// Delivers SMS through one Twilio account; see the crate docs.
#[derive(Debug, Clone)]
pub struct TwilioSink {
    client: client::Client,
    config: Arc<Config>,
}

impl TwilioSink {
    /// A sink for the account `config` describes.
    ///
    /// # Errors
    /// An HTTP client that cannot be built.
    pub fn new(config: Config) -> Result<Self, BuildError> {
        Ok(Self {
            client: client::Client::new()?,
            config: Arc::new(config),
        })
    }

    /// The sink's configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The SMS text of a notification: its title and body, folded into GSM-7 where possible
    /// and cut to `max_segments`.
    pub fn text_of(&self, msg: &Notification) -> String {
        self.prepare(&sink_api::text::title_and_body(msg))
    }

    /// Any text made ready to send: transliterated (when configured) and cut to the cap.
    pub fn prepare(&self, text: &str) -> String {
        gsm::fit(self.folded(text).trim(), self.config.max_segments)
    }

    /// `text` folded into GSM-7 where possible, when `transliterate` is on.
    fn folded(&self, text: &str) -> String {
        if self.config.transliterate {
            gsm::transliterate(text)
        } else {
            text.to_owned()
        }
    }

    /// Texts `body` to `to` (E.164) right away: confirmation codes and welcomes, which are
    /// answers to the subscriber, not notifications.
    ///
    /// # Errors
    /// The delivery outcome, classified.
    pub async fn text(&self, to: &str, body: &str) -> Result<Receipt, SinkError> {
        self.client
            .send(&self.config, to, &self.prepare(body))
            .await
    }

    /// Whether Twilio Lookup says `e164` is a real number.
    ///
    /// # Errors
    /// Lookup could not be asked.
    pub async fn lookup(&self, e164: &str) -> Result<bool, SinkError> {
        self.client.lookup(&self.config, e164).await
    }

    /// Whether `signature` (`X-Twilio-Signature`) is Twilio's for a POST of `params` to `url`.
    pub fn verify(&self, url: &str, params: &[(String, String)], signature: &str) -> bool {
        signature::verify(
            self.config.auth_token.expose_secret(),
            url,
            params,
            signature,
        )
    }
}

impl Sink for TwilioSink {
    const KIND: &'static str = "twilio";

    async fn send(&self, to: &Recipient, msg: &Notification) -> Result<Receipt, SinkError> {
        self.client
            .send(&self.config, to.as_str(), &self.text_of(msg))
            .await
    }

    async fn healthcheck(&self) -> Result<(), SinkError> {
        self.client.fetch_account(self.config.account()).await
    }

    /// One segment every `1 / messages_per_second`, without bursts: Twilio queues what comes
    /// faster, and a queue of SMS is late SMS.
    fn limits(&self) -> Limits {
        let period = Duration::from_secs_f64(1.0 / self.config.messages_per_second);
        Limits {
            global: vec![Rate::new(1, period)],
            per_recipient: Vec::new(),
            daily_per_recipient: NonZeroU32::new(self.config.daily_cap),
        }
    }

    fn cost(&self, msg: &Notification) -> u32 {
        gsm::segments(&self.text_of(msg)).count.max(1)
    }

    /// Every text costs: a backlog goes out merged, as few texts as fit.
    fn merges(&self) -> bool {
        true
    }

    /// Within `max_segments` before any cut.
    fn fits(&self, msg: &Notification) -> bool {
        let text = self.folded(&sink_api::text::title_and_body(msg));
        gsm::segments(text.trim()).count <= self.config.max_segments
    }
}
