//! Configuration of the Slack sink.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The Web API.
pub(crate) const DEFAULT_ENDPOINT: &str = "https://slack.com/api";
/// Slack allows about one message per second per channel.
pub(crate) const DEFAULT_PER_CHANNEL_PER_SECOND: u32 = 1;
/// How every app-level token starts; a bot token (`xoxb-`) cannot open Socket Mode connections.
const APP_TOKEN_PREFIX: &str = "xapp-";

/// `[sinks.<id>]` with `type = "slack"`.
///
/// Commands arrive over the Events API when `signing_secret` is set (Slack calls herald's
/// HTTP server), over Socket Mode when `app_token` is set (herald calls Slack: no public URL),
/// or both; with neither, the sink only posts notifications.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The bot token (`xoxb-…`); use `${SLACK_BOT_TOKEN}`.
    #[serde(deserialize_with = "sink_api::secret::required")]
    pub bot_token: SecretString,
    /// The app's signing secret, to verify the Events API and slash command requests Slack
    /// sends to herald's HTTP server; use `${SLACK_SIGNING_SECRET}`. Without it those routes
    /// are not served.
    #[serde(default, deserialize_with = "sink_api::secret::optional")]
    pub signing_secret: Option<SecretString>,
    /// An app-level token (`xapp-…`, scope `connections:write`) to receive commands over
    /// Socket Mode instead of a public URL; use `${SLACK_APP_TOKEN}`.
    #[serde(default, deserialize_with = "sink_api::secret::optional")]
    pub app_token: Option<SecretString>,
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
    /// Checks the values; pure. Neither `signing_secret` nor `app_token` is allowed: the sink
    /// then only posts notifications.
    ///
    /// # Errors
    /// The key and what is wrong with it (never its value).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if url::Url::parse(&self.endpoint).is_err() {
            return Err(("endpoint", format!("not a URL: {}", self.endpoint)));
        }
        let secrets = [
            ("bot_token", Some(&self.bot_token)),
            ("signing_secret", self.signing_secret.as_ref()),
            ("app_token", self.app_token.as_ref()),
        ];
        for (key, secret) in secrets {
            if secret.is_some_and(|s| s.expose_secret().trim().is_empty()) {
                return Err((key, "must not be empty".into()));
            }
        }
        if let Some(app_token) = &self.app_token
            && !app_token.expose_secret().starts_with(APP_TOKEN_PREFIX)
        {
            return Err((
                "app_token",
                "must be an app-level token (xapp-…), made under Basic Information → App-Level \
                 Tokens with the connections:write scope"
                    .into(),
            ));
        }
        if self.per_channel_per_second == 0 {
            return Err(("per_channel_per_second", "must be at least 1".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(signing_secret: Option<&str>, app_token: Option<&str>) -> Config {
        Config {
            bot_token: SecretString::from("xoxb-1"),
            signing_secret: signing_secret.map(SecretString::from),
            app_token: app_token.map(SecretString::from),
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            channels: vec![],
            per_channel_per_second: DEFAULT_PER_CHANNEL_PER_SECOND,
        }
    }

    #[test]
    fn commands_over_http_socket_mode_both_or_none_are_valid() {
        assert_eq!(config(Some("s"), None).validate(), Ok(()));
        assert_eq!(config(None, Some("xapp-1-A1-2-abc")).validate(), Ok(()));
        assert_eq!(
            config(Some("s"), Some("xapp-1-A1-2-abc")).validate(),
            Ok(())
        );
        // Notifications only.
        assert_eq!(config(None, None).validate(), Ok(()));
    }

    #[test]
    fn a_bad_app_token_or_an_empty_secret_is_refused_without_its_value() {
        let (key, message) = config(None, Some("xoxb-a-bot-token"))
            .validate()
            .unwrap_err();
        assert_eq!(key, "app_token");
        assert!(message.contains("xapp-"), "{message}");
        assert!(!message.contains("xoxb-a-bot-token"), "{message}");
        assert_eq!(
            config(None, Some(" ")).validate().unwrap_err().0,
            "app_token"
        );
        assert_eq!(
            config(Some(""), None).validate().unwrap_err().0,
            "signing_secret"
        );
    }

    #[test]
    fn both_secrets_are_optional_in_the_file() {
        let config: Config = serde_json::from_value(serde_json::json!({"bot_token": "xoxb-1"}))
            .expect("a notifications-only config");
        assert!(config.signing_secret.is_none() && config.app_token.is_none());
    }
}
