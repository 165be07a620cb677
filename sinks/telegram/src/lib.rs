//! Telegram sink: notifications to chats, and bot commands read by long polling.
#![doc = include_str!("../README.md")]

mod client;
mod config;
mod plugin;
mod render;
#[cfg(feature = "test-util")]
pub mod testing;

use std::time::Duration;

use secrecy::SecretString;
use sink_api::{
    Command, Commands, Limits, Notification, Rate, Receipt, Recipient, Sink, SinkError,
};
use teloxide::payloads::{EditMessageTextSetters, GetUpdatesSetters, SendMessageSetters};
use teloxide::requests::Requester;
use teloxide::types::{AllowedUpdate, ChatId, MessageId, ParseMode, UpdateKind};
use teloxide::{ApiError, Bot, RequestError};
use tokio_util::sync::CancellationToken;

pub use client::BuildError;
pub use config::Config;
pub use plugin::Plugin;

/// Delivers to Telegram chats; see the crate docs.
#[derive(Debug, Clone)]
pub struct TelegramSink {
    bot: Bot,
    config: Config,
}

/// A chat id (`-1001234`) or a channel name (`@herald_news`).
fn chat(to: &Recipient) -> teloxide::types::Recipient {
    match to.as_str().parse::<i64>() {
        Ok(id) => teloxide::types::Recipient::Id(ChatId(id)),
        Err(_) => teloxide::types::Recipient::ChannelUsername(to.as_str().to_owned()),
    }
}

impl TelegramSink {
    /// A sink for the bot `config` describes.
    ///
    /// # Errors
    /// A bad endpoint, or an HTTP client that cannot be built.
    pub fn new(config: Config) -> Result<Self, BuildError> {
        Ok(Self {
            bot: client::bot(&config)?,
            config,
        })
    }

    fn token(&self) -> &SecretString {
        &self.config.token
    }

    /// Edits the message `message_id` into `text` (`true` also when it already says that);
    /// `false` when it can no longer be edited (deleted, too old), so the caller posts instead.
    async fn edit(&self, to: &Recipient, message_id: i32, text: &str) -> Result<bool, SinkError> {
        let teloxide::types::Recipient::Id(chat_id) = chat(to) else {
            return Ok(false);
        };
        match self
            .bot
            .edit_message_text(chat_id, MessageId(message_id), text)
            .parse_mode(ParseMode::Html)
            .await
        {
            // Already says this (an edit sent again after a restart): nothing to post.
            Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(true),
            Err(RequestError::Api(
                ApiError::MessageToEditNotFound | ApiError::MessageCantBeEdited,
            )) => Ok(false),
            Err(e) => Err(client::classify(&e, self.token())),
        }
    }

    /// Reads commands with `getUpdates` until `shutdown`, hands each to `commands` and sends
    /// the reply to the chat it came from.
    pub async fn listen(&self, commands: Commands, shutdown: CancellationToken) {
        let mut offset: i32 = 0;
        let mut failures: u32 = 0;
        let timeout = u32::try_from(self.config.poll_timeout.as_secs()).unwrap_or(10);
        tracing::info!("reading Telegram commands");
        loop {
            let request = self
                .bot
                .get_updates()
                .offset(offset)
                .timeout(timeout)
                .allowed_updates([AllowedUpdate::Message]);
            let updates = tokio::select! {
                () = shutdown.cancelled() => break,
                updates = request => updates,
            };
            let updates = match updates {
                Ok(updates) => {
                    failures = 0;
                    updates
                }
                Err(error) => {
                    failures += 1;
                    let wait = match &error {
                        RequestError::RetryAfter(s) => s.duration(),
                        _ => Duration::from_secs(u64::from(failures.min(5)) * 2),
                    };
                    tracing::warn!(error = %client::redact(&error.to_string(), self.token()), "getUpdates failed");
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(wait) => continue,
                    }
                }
            };
            for update in updates {
                offset = offset.max(
                    i32::try_from(update.id.0)
                        .unwrap_or(i32::MAX)
                        .saturating_add(1),
                );
                let UpdateKind::Message(message) = update.kind else {
                    continue;
                };
                let Some(text) = message.text() else { continue };
                // In groups only commands are for the bot; in private chats everything is.
                if !text.starts_with('/') && !message.chat.is_private() {
                    continue;
                }
                let from = message.from.as_ref();
                let command = Command {
                    chat: Recipient::new(message.chat.id.0.to_string()),
                    user: from.map(|u| u.username.clone().unwrap_or_else(|| u.id.0.to_string())),
                    text: text.to_owned(),
                    language: from.and_then(|u| u.language_code.clone()),
                };
                let reply = commands.handle(command).await;
                if let Err(error) = self.bot.send_message(message.chat.id, reply.text).await {
                    tracing::warn!(error = %client::redact(&error.to_string(), self.token()), "cannot answer a command");
                }
            }
        }
        tracing::debug!("stopped reading Telegram commands");
    }
}

impl Sink for TelegramSink {
    const KIND: &'static str = "telegram";

    /// Corrections and live tickers edit the message they are about.
    const EDITS: bool = true;

    async fn send(&self, to: &Recipient, msg: &Notification) -> Result<Receipt, SinkError> {
        let text = render::html(msg);
        let edit_of = msg
            .replaces
            .as_ref()
            .and_then(|r| r.receipt.as_deref())
            .and_then(|id| id.parse::<i32>().ok());
        if let Some(message_id) = edit_of
            && text.encode_utf16().count() <= render::MAX_UTF16
            && self.edit(to, message_id, &text).await?
        {
            return Ok(Receipt::with_id(message_id.to_string()));
        }
        let mut first = None;
        for part in render::split(&text, render::MAX_UTF16) {
            let sent = self
                .bot
                .send_message(chat(to), part)
                .parse_mode(ParseMode::Html)
                .await
                .map_err(|e| client::classify(&e, self.token()))?;
            first.get_or_insert(sent.id.0);
        }
        Ok(first
            .map(|id| Receipt::with_id(id.to_string()))
            .unwrap_or_default())
    }

    fn recipients(&self) -> Vec<Recipient> {
        self.config.chats.iter().map(Recipient::new).collect()
    }

    fn limits(&self) -> Limits {
        Limits {
            global: vec![Rate::per_second(self.config.global_per_second)],
            per_recipient: vec![Rate::per_second(self.config.per_chat_per_second)],
            ..Limits::default()
        }
    }

    /// Groups (negative ids) also get Telegram's per-minute group limit.
    fn recipient_limits(&self, to: &Recipient) -> Vec<Rate> {
        let mut rates = vec![Rate::per_second(self.config.per_chat_per_second)];
        if to.as_str().starts_with('-') || to.as_str().starts_with('@') {
            rates.push(Rate::per_minute(self.config.per_group_per_minute));
        }
        rates
    }

    async fn healthcheck(&self) -> Result<(), SinkError> {
        self.bot
            .get_me()
            .await
            .map(|_| ())
            .map_err(|e| client::classify(&e, self.token()))
    }
}
