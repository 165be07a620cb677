//! Inbound: bot commands from chat users (`/subscribe France`), handed by the sinks that have
//! them to the core, which owns subscriptions and answers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::Recipient;

/// A command a user sent to the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Where it came from, and where notifications for it go (a chat, a channel).
    pub chat: Recipient,
    /// Who sent it, in the platform's terms, for logs.
    pub user: Option<String>,
    /// The command text without the platform's decoration (`/`, `@bot`): `subscribe France`.
    pub text: String,
    /// The user's language as the platform reports it (`pt-br`), a hint for the reply.
    pub language: Option<String>,
}

/// The core's answer to a command, plain text in the chat's locale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The text to send back.
    pub text: String,
}

/// Handles commands; implemented by the core, called by sinks.
pub trait CommandHandler: Send + Sync + 'static {
    /// Handles one command and returns the reply. Never fails: problems become replies.
    fn handle(&self, command: Command) -> Pin<Box<dyn Future<Output = Reply> + Send + '_>>;
}

/// A shared command handler, as sinks hold it.
pub type Commands = Arc<dyn CommandHandler>;
