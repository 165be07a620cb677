//! Discord sink: embeds in channels, slash commands over the interactions endpoint.
#![doc = include_str!("../README.md")]

mod client;
mod config;
#[doc(hidden)]
pub mod fuzzing;
mod interactions;
mod plugin;
mod render;
#[cfg(feature = "test-util")]
pub mod testing;

use std::sync::Arc;

use serenity::builder::{CreateMessage, EditMessage};
use serenity::http::Http;
use serenity::model::id::{ChannelId, MessageId};
use sink_api::{Notification, Receipt, Recipient, Sink, SinkError};

pub use config::Config;
pub use interactions::{register_commands, router};
pub use plugin::Plugin;

/// Delivers to Discord channels; see the crate docs.
#[derive(Clone)]
pub struct DiscordSink {
    http: Arc<Http>,
    config: Config,
}

impl std::fmt::Debug for DiscordSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordSink")
            .field("application_id", &self.config.application_id)
            .finish_non_exhaustive()
    }
}

/// Why a recipient is not a Discord channel.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a Discord channel id")]
struct NotAChannel(String);

impl DiscordSink {
    /// A sink for the bot `config` describes.
    pub fn new(config: Config) -> Self {
        Self {
            http: client::http(&config),
            config,
        }
    }

    fn channel(to: &Recipient) -> Result<ChannelId, SinkError> {
        to.as_str()
            .parse::<u64>()
            .ok()
            .filter(|id| *id != 0)
            .map(ChannelId::new)
            // No such channel can ever exist: the recipient is gone (its subscriptions pause).
            .ok_or_else(|| SinkError::gone(NotAChannel(to.to_string())))
    }
}

impl Sink for DiscordSink {
    const KIND: &'static str = "discord";

    /// Corrections and live tickers edit the message they are about.
    const EDITS: bool = true;

    async fn send(&self, to: &Recipient, msg: &Notification) -> Result<Receipt, SinkError> {
        let channel = Self::channel(to)?;
        let edit_of = msg
            .replaces
            .as_ref()
            .and_then(|r| r.receipt.as_deref())
            .and_then(|id| id.parse::<u64>().ok())
            .filter(|id| *id != 0);
        if let Some(message) = edit_of {
            let edit = EditMessage::new().embed(render::embed(msg));
            match channel
                .edit_message(&self.http, MessageId::new(message), edit)
                .await
            {
                Ok(edited) => return Ok(Receipt::with_id(edited.id.get().to_string())),
                // Deleted since: post the correction instead.
                Err(serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r)))
                    if r.error.code == 10008 => {}
                Err(e) => return Err(client::classify(&e)),
            }
        }
        let sent = channel
            .send_message(&self.http, CreateMessage::new().embed(render::embed(msg)))
            .await
            .map_err(|e| client::classify(&e))?;
        Ok(Receipt::with_id(sent.id.get().to_string()))
    }

    fn recipients(&self) -> Vec<Recipient> {
        self.config.channels.iter().map(Recipient::new).collect()
    }

    async fn healthcheck(&self) -> Result<(), SinkError> {
        self.http
            .get_current_user()
            .await
            .map(|_| ())
            .map_err(|e| client::classify(&e))
    }
}
