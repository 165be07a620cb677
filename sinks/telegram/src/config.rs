//! Configuration of the Telegram sink.

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

/// The public Bot API server.
pub(crate) const DEFAULT_ENDPOINT: &str = "https://api.telegram.org";
/// Telegram allows about one message per second in a chat.
pub(crate) const DEFAULT_PER_CHAT_PER_SECOND: u32 = 1;
/// Telegram allows 20 messages per minute in a group.
pub(crate) const DEFAULT_PER_GROUP_PER_MINUTE: u32 = 20;
/// Telegram allows about 30 messages per second per bot.
pub(crate) const DEFAULT_GLOBAL_PER_SECOND: u32 = 30;
/// Long enough to make long polling cheap, short enough to stay under the HTTP client's
/// 17-second timeout and to notice shutdown quickly.
pub(crate) const DEFAULT_POLL_TIMEOUT: Duration = Duration::from_secs(10);

/// `[sinks.<id>]` with `type = "telegram"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The bot token from @BotFather; use `${TELEGRAM_BOT_TOKEN}`.
    #[serde(deserialize_with = "sink_api::secret::required")]
    pub token: SecretString,
    /// The Bot API server.
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// Chats (ids, or `@channel` names) that get every notification the sink's routing lets
    /// through, besides the chats that subscribed with commands.
    #[serde(default)]
    pub chats: Vec<String>,
    /// Read bot commands with `getUpdates`.
    #[serde(default = "yes")]
    pub commands: bool,
    /// Long-poll wait of each `getUpdates` call.
    #[serde(default = "default_poll_timeout", with = "humantime_serde")]
    pub poll_timeout: Duration,
    /// Messages per second to one chat.
    #[serde(default = "default_per_chat")]
    pub per_chat_per_second: u32,
    /// Messages per minute to one group.
    #[serde(default = "default_per_group")]
    pub per_group_per_minute: u32,
    /// Messages per second over all chats.
    #[serde(default = "default_global")]
    pub global_per_second: u32,
}

fn default_endpoint() -> String {
    DEFAULT_ENDPOINT.to_owned()
}

fn yes() -> bool {
    true
}

fn default_poll_timeout() -> Duration {
    DEFAULT_POLL_TIMEOUT
}

fn default_per_chat() -> u32 {
    DEFAULT_PER_CHAT_PER_SECOND
}

fn default_per_group() -> u32 {
    DEFAULT_PER_GROUP_PER_MINUTE
}

fn default_global() -> u32 {
    DEFAULT_GLOBAL_PER_SECOND
}

impl Config {
    /// Checks the values; pure.
    ///
    /// # Errors
    /// The key and what is wrong with it.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if url::Url::parse(&self.endpoint).is_err() {
            return Err(("endpoint", format!("not a URL: {}", self.endpoint)));
        }
        if secrecy::ExposeSecret::expose_secret(&self.token)
            .trim()
            .is_empty()
        {
            return Err(("token", "must not be empty".into()));
        }
        if self.poll_timeout.is_zero() || self.poll_timeout >= Duration::from_secs(17) {
            return Err(("poll_timeout", "must be between 1s and 16s".into()));
        }
        for (key, value) in [
            ("per_chat_per_second", self.per_chat_per_second),
            ("per_group_per_minute", self.per_group_per_minute),
            ("global_per_second", self.global_per_second),
        ] {
            if value == 0 {
                return Err((key, "must be at least 1".into()));
            }
        }
        Ok(())
    }
}
