//! Configuration of the Slack sink.

use secrecy::SecretString;
use serde::Deserialize;

/// The Web API.
pub(crate) const DEFAULT_ENDPOINT: &str = "https://slack.com/api";
/// Slack allows about one message per second per channel.
pub(crate) const DEFAULT_PER_CHANNEL_PER_SECOND: u32 = 1;

/// `[sinks.<id>]` with `type = "slack"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The bot token (`xoxb-…`); use `${SLACK_BOT_TOKEN}`.
    #[serde(deserialize_with = "sink_api::secret::required")]
    pub bot_token: SecretString,
    /// The app's signing secret, to verify requests from Slack; use `${SLACK_SIGNING_SECRET}`.
    #[serde(deserialize_with = "sink_api::secret::required")]
    pub signing_secret: SecretString,
    /// The Web API base URL.
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// Channel ids that get every notification the sink's routing lets through, besides the
    /// channels that subscribed with commands.
    #[serde(default)]
    pub channels: Vec<String>,
    /// Messages per second to one channel.
    #[serde(default = "default_per_channel")]
    pub per_channel_per_second: u32,
}

fn default_endpoint() -> String {
    DEFAULT_ENDPOINT.to_owned()
}

fn default_per_channel() -> u32 {
    DEFAULT_PER_CHANNEL_PER_SECOND
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
        for (key, secret) in [
            ("bot_token", &self.bot_token),
            ("signing_secret", &self.signing_secret),
        ] {
            if secrecy::ExposeSecret::expose_secret(secret)
                .trim()
                .is_empty()
            {
                return Err((key, "must not be empty".into()));
            }
        }
        if self.per_channel_per_second == 0 {
            return Err(("per_channel_per_second", "must be at least 1".into()));
        }
        Ok(())
    }
}
