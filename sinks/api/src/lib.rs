//! The contract between herald's core and its sinks.
#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod commands;
#[cfg(feature = "http")]
pub mod http;
mod limits;
mod notification;
pub mod plugin;
pub mod relay;
pub mod secret;
#[cfg(feature = "test-util")]
pub mod testing;
pub mod text;
#[cfg(feature = "verify")]
pub mod verify;

use std::future::Future;
use std::time::Duration;

pub use commands::{Command, CommandHandler, Commands, Reply};
pub use limits::{Limits, Rate};
pub use notification::{Notification, Receipt, Recipient, Replaces, SpoilerFree};
pub use plugin::{Built, Context, History, Invalid, Plugin};
pub use relay::{LocalRelay, Relay};

/// A boxed error that crosses the sink boundary as the cause of a [`SinkError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One platform that herald delivers notifications to.
///
/// Async methods return `impl Future + Send` rather than using `async_trait`: the core is generic
/// over each sink type (one worker per sink instance), so the trait never needs to be a `dyn`.
pub trait Sink: Send + Sync + 'static {
    /// The name of the platform, as used in config (`type = "…"`) and logs.
    const KIND: &'static str;

    /// How this sink's deliveries are made when several herald instances share a store:
    /// [`Delivery::PointToPoint`] (the default) sends each delivery once, from the one
    /// instance that delivers the sink; [`Delivery::Broadcast`] hands every notification to the sink on
    /// every instance, for the clients connected to that instance.
    const DELIVERY: Delivery = Delivery::PointToPoint;

    /// Whether [`Sink::send`] edits the message named by a notification's
    /// [`Replaces::receipt`] in place (Telegram, Slack, Discord). A chat of such a sink can
    /// follow matches as a live ticker: one message per match, edited as it goes.
    const EDITS: bool = false;

    /// Delivers one notification to one recipient. No retries, sleeps or rate limiting here:
    /// the core owns that policy and acts on the returned [`SinkError`].
    fn send(
        &self,
        to: &Recipient,
        msg: &Notification,
    ) -> impl Future<Output = Result<Receipt, SinkError>> + Send;

    /// Checks that the platform is reachable and the credentials work. Called once at startup;
    /// a failure is logged, it does not stop herald.
    fn healthcheck(&self) -> impl Future<Output = Result<(), SinkError>> + Send {
        async { Ok(()) }
    }

    /// Recipients this sink instance always delivers to, from its own config (a broadcast stream,
    /// fixed channels). Subscribers who signed up through commands come from the store instead.
    fn recipients(&self) -> Vec<Recipient> {
        Vec::new()
    }

    /// The platform's rate limits; the core waits for them before calling [`Sink::send`].
    fn limits(&self) -> Limits {
        Limits::default()
    }

    /// How many units of the global rates `msg` uses: SMS is limited in segments, and a
    /// two-segment message takes two. Defaults to 1.
    fn cost(&self, msg: &Notification) -> u32 {
        let _ = msg;
        1
    }

    /// Whether the platform charges per message (SMS, WhatsApp), so that several
    /// notifications queued for one recipient at once (a backlog after an outage, a slow
    /// lane) are better merged into one message. Defaults to `false`: each notification is
    /// its own message.
    fn merges(&self) -> bool {
        false
    }

    /// For a sink that [`merges`](Sink::merges): whether `msg` (notifications merged into
    /// one) goes out whole in one message, within the sink's own cap (`max_segments`), rather
    /// than cut. The core merges no more than fits. Defaults to `true`.
    fn fits(&self, msg: &Notification) -> bool {
        let _ = msg;
        true
    }

    /// The per-recipient rates for one recipient, when they differ between recipients (a
    /// Telegram group is slower than a private chat). Defaults to `limits().per_recipient`.
    fn recipient_limits(&self, to: &Recipient) -> Vec<Rate> {
        let _ = to;
        self.limits().per_recipient
    }
}

/// How a sink's deliveries are shared out between herald instances (see [`Sink::DELIVERY`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// A platform message per recipient (a chat, a phone, a webhook): each delivery is sent
    /// once, by the one instance delivering the sink, retried on failure and settled in the
    /// store.
    PointToPoint,
    /// Clients connected to the instance itself (a stream, a room): every instance serves
    /// every notification to its own clients, in store order, under the same id everywhere.
    /// [`Sink::send`] is called once per notification on each instance, with the sink's one
    /// configured recipient; it must not block, and an error only means that the sink is
    /// closed (shutdown), as there is no retry per client.
    Broadcast,
}

/// Why a delivery failed, classified so the core knows what to do next.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The platform asked us to slow down. The core retries after `retry_after` (or its own
    /// backoff when the platform did not say), without counting it as a failed attempt.
    #[error("rate limited by the platform")]
    RateLimited {
        /// How long the platform asked us to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// A failure that may pass: network errors, timeouts, 5xx. Retried with backoff.
    #[error("transient failure")]
    Transient(#[source] BoxError),
    /// A failure that will not pass by retrying: bad request, bad credentials. Dead-lettered.
    #[error("permanent failure")]
    Permanent(#[source] BoxError),
    /// The recipient can no longer be reached (bot blocked, number unsubscribed). Dead-lettered,
    /// and the core pauses the subscription that routes to this recipient.
    #[error("recipient is gone")]
    RecipientGone(#[source] BoxError),
}

/// An error and its causes on one line: `permanent failure: HTTP 400: bad chat id`.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl SinkError {
    /// A transient error from anything that can be turned into a [`BoxError`].
    pub fn transient(err: impl Into<BoxError>) -> Self {
        Self::Transient(err.into())
    }

    /// A permanent error from anything that can be turned into a [`BoxError`].
    pub fn permanent(err: impl Into<BoxError>) -> Self {
        Self::Permanent(err.into())
    }

    /// The recipient can never be reached (blocked the bot, left, does not exist): the core
    /// pauses its subscriptions.
    pub fn gone(err: impl Into<BoxError>) -> Self {
        Self::RecipientGone(err.into())
    }

    /// Whether retrying the same delivery later can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Transient(_))
    }
}
