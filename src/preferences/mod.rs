//! How each recipient wants notifications delivered, beyond what they follow: quiet hours
//! (held for a digest, or dropped), spoiler-free texts, and a live ticker edited in place
//! instead of one message per event. Chosen with chat commands and SMS keywords, kept in the
//! store (`chats`), read by the sink workers at delivery time.

mod quiet;

pub use quiet::{Quiet, QuietError};

/// One recipient's choices; the default is what a recipient who chose nothing gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefs {
    /// Quiet hours, when set.
    pub quiet: Option<Quiet>,
    /// Whether texts may give the score away (`spoilers off` sets `false`).
    pub spoilers: bool,
    /// How match events reach the chat.
    pub mode: Mode,
}

impl Default for Prefs {
    fn default() -> Self {
        Self {
            quiet: None,
            spoilers: true,
            mode: Mode::Messages,
        }
    }
}

/// How a chat gets a match's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// One message per event (the default).
    #[default]
    Messages,
    /// One message per match, edited in place with the score and the latest events.
    Ticker,
}

impl Mode {
    /// As stored and typed: `messages`, `ticker`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Messages => "messages",
            Self::Ticker => "ticker",
        }
    }

    /// The mode a word names (`ticker`, `messages`, `message`, `normal`).
    pub fn parse(word: &str) -> Option<Self> {
        match word.trim().to_lowercase().as_str() {
            "ticker" | "live" => Some(Self::Ticker),
            "messages" | "message" | "normal" | "events" => Some(Self::Messages),
            _ => None,
        }
    }
}
