//! Commands from Slack, whatever carried them (the Events API over HTTP, or Socket Mode): an
//! event callback or a slash command in, the core's reply out. Each event is handled once.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Deserialize;
use sink_api::{Command, Commands, Recipient};

use crate::SlackSink;

/// Slack expects an answer within 3 s; a slash command's reply must come before that.
const COMMAND_DEADLINE: Duration = Duration::from_millis(2500);
/// Event ids remembered to ignore Slack's retries of events already handled.
const REMEMBERED_EVENTS: usize = 1000;

/// Hands commands to the core and answers them; shared by both transports.
pub(crate) struct Inbound {
    /// The sink instance id, for logs.
    pub(crate) id: String,
    /// Posts replies to mentions, and holds the config.
    pub(crate) sink: SlackSink,
    commands: Commands,
    /// Recent event ids: Slack redelivers an event it thinks was not acknowledged in time.
    seen: Mutex<VecDeque<String>>,
}

/// The fields of an Events API event that decide whether it is a command for herald, as Slack
/// sends them inside an `event_callback` (over HTTP and in Socket Mode's `events_api`).
#[derive(Debug, Deserialize)]
pub(crate) struct Event {
    #[serde(rename = "type")]
    kind: String,
    channel: Option<String>,
    user: Option<String>,
    text: Option<String>,
    channel_type: Option<String>,
    bot_id: Option<String>,
    subtype: Option<String>,
}

/// A slash command (`/herald subscribe France`), from the form Slack posts or from Socket
/// Mode's `slash_commands` payload.
#[derive(Debug, Deserialize)]
pub(crate) struct SlashCommand {
    /// What follows the command.
    #[serde(default)]
    pub(crate) text: String,
    /// Where it was typed; subscriptions made there notify it.
    pub(crate) channel_id: String,
    /// Who typed it.
    pub(crate) user_id: Option<String>,
}

impl Inbound {
    /// Commands for sink instance `id` go to `commands`; replies to mentions go out through
    /// `sink`.
    pub(crate) fn new(id: &str, sink: SlackSink, commands: Commands) -> Arc<Self> {
        Arc::new(Self {
            id: id.to_owned(),
            sink,
            commands,
            seen: Mutex::new(VecDeque::new()),
        })
    }

    /// An event callback's event: a mention of the bot or a direct message is a command,
    /// handled once per `event_id`. Returns at once (Slack wants its acknowledgement within
    /// 3 s); the reply is posted to the channel afterwards.
    pub(crate) fn event(self: &Arc<Self>, event_id: &str, event: Event) {
        if !self.first_time(event_id) {
            tracing::debug!(sink = %self.id, %event_id, "Slack redelivered an event already handled; ignoring it");
            return;
        }
        let Some(command) = event.command() else {
            return;
        };
        let inbound = Arc::clone(self);
        tokio::spawn(async move {
            let channel = command.chat.as_str().to_owned();
            let reply = inbound.commands.handle(command).await;
            if let Err(error) = inbound.sink.post_text(&channel, &reply.text).await {
                tracing::warn!(sink = %inbound.id, error = %sink_api::error_chain(&error), "cannot answer a Slack command");
            }
        });
    }

    /// A slash command's reply, which Slack shows to whoever typed it; a placeholder when the
    /// core takes too long for Slack's deadline.
    pub(crate) async fn slash_command(&self, form: SlashCommand) -> String {
        let command = Command {
            chat: Recipient::new(form.channel_id),
            user: form.user_id,
            text: form.text,
            language: None,
        };
        match tokio::time::timeout(COMMAND_DEADLINE, self.commands.handle(command)).await {
            Ok(reply) => reply.text,
            Err(_) => "Still working on it; try again in a moment.".to_owned(),
        }
    }

    /// Records `event_id`; `false` if it was already handled.
    fn first_time(&self, event_id: &str) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.iter().any(|id| id == event_id) {
            return false;
        }
        if seen.len() >= REMEMBERED_EVENTS {
            seen.pop_front();
        }
        seen.push_back(event_id.to_owned());
        true
    }
}

impl Event {
    /// The command it carries when it is one for herald: a mention, or a person's direct
    /// message to the bot (not a bot's message, nor an edit or a join).
    pub(crate) fn command(self) -> Option<Command> {
        let for_us = self.bot_id.is_none()
            && self.subtype.is_none()
            && (self.kind == "app_mention"
                || (self.kind == "message" && self.channel_type.as_deref() == Some("im")));
        let (true, Some(channel), Some(text)) = (for_us, self.channel, self.text) else {
            return None;
        };
        Some(Command {
            chat: Recipient::new(channel),
            user: self.user,
            text: strip_mentions(&text),
            language: None,
        })
    }
}

/// `<@U024BE7LH> subscribe France` → `subscribe France`.
fn strip_mentions(text: &str) -> String {
    text.split_whitespace()
        .filter(|word| !(word.starts_with("<@") && word.ends_with('>')))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: serde_json::Value) -> Option<Command> {
        serde_json::from_value::<Event>(json).unwrap().command()
    }

    #[test]
    fn mentions_are_stripped() {
        assert_eq!(
            strip_mentions("<@U024BE7LH> subscribe   France"),
            "subscribe France"
        );
    }

    #[test]
    fn mentions_and_direct_messages_are_commands_bots_and_edits_are_not() {
        let mention = event(
            serde_json::json!({"type": "app_mention", "channel": "C1", "user": "U1", "text": "<@UB> list"}),
        );
        assert_eq!(mention.unwrap().text, "list");
        let direct = event(
            serde_json::json!({"type": "message", "channel_type": "im", "channel": "D1", "user": "U1", "text": "help"}),
        );
        assert_eq!(direct.unwrap().chat, Recipient::new("D1"));
        for ignored in [
            serde_json::json!({"type": "message", "channel_type": "channel", "channel": "C1", "user": "U1", "text": "hi"}),
            serde_json::json!({"type": "message", "channel_type": "im", "channel": "D1", "bot_id": "B1", "text": "ok"}),
            serde_json::json!({"type": "message", "channel_type": "im", "channel": "D1", "subtype": "message_changed"}),
            serde_json::json!({"type": "reaction_added", "user": "U1"}),
        ] {
            assert!(event(ignored.clone()).is_none(), "{ignored}");
        }
    }
}
