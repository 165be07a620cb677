//! Configuration of the Discord sink.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// `[sinks.<id>]` with `type = "discord"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The bot token; use `${DISCORD_BOT_TOKEN}`.
    #[serde(deserialize_with = "sink_api::secret::required")]
    pub bot_token: SecretString,
    /// The application id (commands are registered under it).
    pub application_id: u64,
    /// The application's public key (hex), to verify interactions.
    #[serde(deserialize_with = "sink_api::secret::required")]
    pub public_key: SecretString,
    /// Channel ids that get every notification the sink's routing lets through, besides the
    /// channels that subscribed with `/subscribe`.
    #[serde(default)]
    pub channels: Vec<String>,
    /// Register commands in this server only (they appear at once); 0 registers them globally.
    #[serde(default)]
    pub guild_id: u64,
    /// Register the slash commands at startup.
    #[serde(default = "yes")]
    pub register_commands: bool,
    /// Send API requests here instead of discord.com (an HTTP proxy, or a test fake).
    #[serde(default)]
    pub endpoint: Option<String>,
}

fn yes() -> bool {
    true
}

impl Config {
    /// Checks the values; pure.
    ///
    /// # Errors
    /// The key and what is wrong with it.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.bot_token.expose_secret().trim().is_empty() {
            return Err(("bot_token", "must not be empty".into()));
        }
        if self.application_id == 0 {
            return Err(("application_id", "must be the application's id".into()));
        }
        sink_api::verify::ed25519_key(self.public_key.expose_secret())
            .map_err(|m| ("public_key", m))?;
        for channel in &self.channels {
            if channel.parse::<u64>().map_or(true, |id| id == 0) {
                return Err(("channels", format!("`{channel}` is not a channel id")));
            }
        }
        Ok(())
    }
}
