//! Configuration of the Viber sink.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The REST Bot API.
pub(crate) const DEFAULT_ENDPOINT: &str = "https://chatapi.viber.com/pa";
/// Viber accepts up to 100 messages to one user within an hour without a reply from them
/// (`send_message`'s documented limit; status 12 beyond it). The core cannot see replies, so
/// it keeps to 100 per hour whatever the user does.
pub(crate) const DEFAULT_PER_USER_PER_HOUR: u32 = 100;
/// Viber documents no per-second limit for `send_message`; the one figure it publishes is 500
/// `broadcast_message` requests per 10 seconds (50/s). 20/s stays well under that, and a goal
/// still reaches 1,200 users a minute.
pub(crate) const DEFAULT_GLOBAL_PER_SECOND: u32 = 20;
/// `sender.name` may be at most 28 characters (Viber's `send_message` parameters).
pub(crate) const MAX_SENDER_NAME: usize = 28;

/// `[sinks.<id>]` with `type = "viber"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The bot's authentication token ("app key" in the bot's Edit Info screen); it also keys
    /// the signatures of Viber's callbacks. Use `${VIBER_AUTH_TOKEN}`.
    #[serde(deserialize_with = "sink_api::secret::required")]
    pub auth_token: SecretString,
    /// The name shown as the sender of every message (at most 28 characters).
    pub sender_name: String,
    /// The URL of the sender's avatar picture (Viber recommends 720×720, under 100 kB).
    #[serde(default)]
    pub sender_avatar: Option<String>,
    /// herald's callback route as Viber reaches it (`https://<herald>/webhooks/<sink
    /// id>/callbacks`); when set, herald registers it with `set_webhook` at startup. Viber only
    /// calls HTTPS URLs with a certificate from a trusted CA.
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// The REST Bot API base URL (a test fake in tests); `api_base` is accepted too.
    #[serde(default = "default_endpoint", alias = "api_base")]
    pub endpoint: String,
    /// Messages to one user per hour.
    #[serde(default = "default_per_user")]
    pub per_user_per_hour: u32,
    /// Messages per second over all users.
    #[serde(default = "default_global")]
    pub global_per_second: u32,
}

fn default_endpoint() -> String {
    DEFAULT_ENDPOINT.to_owned()
}

fn default_per_user() -> u32 {
    DEFAULT_PER_USER_PER_HOUR
}

fn default_global() -> u32 {
    DEFAULT_GLOBAL_PER_SECOND
}

/// Whether `url` is an absolute URL with one of `schemes` and a host.
fn url_with_scheme(url: &str, schemes: &[&str]) -> bool {
    url::Url::parse(url).is_ok_and(|u| schemes.contains(&u.scheme()) && u.host().is_some())
}

impl Config {
    /// Checks the values; pure.
    ///
    /// # Errors
    /// The key and what is wrong with it.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.auth_token.expose_secret().trim().is_empty() {
            return Err(("auth_token", "must not be empty".into()));
        }
        let name = self.sender_name.trim();
        if name.is_empty() {
            return Err(("sender_name", "must not be empty".into()));
        }
        if self.sender_name.chars().count() > MAX_SENDER_NAME {
            return Err((
                "sender_name",
                format!("must be at most {MAX_SENDER_NAME} characters (Viber's limit)"),
            ));
        }
        if let Some(avatar) = &self.sender_avatar
            && !url_with_scheme(avatar, &["http", "https"])
        {
            return Err(("sender_avatar", format!("not an http(s) URL: {avatar}")));
        }
        if let Some(webhook) = &self.webhook_url
            && !url_with_scheme(webhook, &["https"])
        {
            return Err((
                "webhook_url",
                format!("Viber only calls https URLs, not {webhook}"),
            ));
        }
        if !url_with_scheme(&self.endpoint, &["http", "https"]) {
            return Err(("endpoint", format!("not an http(s) URL: {}", self.endpoint)));
        }
        for (key, value) in [
            ("per_user_per_hour", self.per_user_per_hour),
            ("global_per_second", self.global_per_second),
        ] {
            if value == 0 {
                return Err((key, "must be at least 1".into()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: serde_json::Value) -> Config {
        let mut table = serde_json::json!({"auth_token": "t0k3n", "sender_name": "herald"});
        if let (Some(t), serde_json::Value::Object(e)) = (table.as_object_mut(), extra) {
            t.extend(e);
        }
        serde_json::from_value(table).unwrap()
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = config(serde_json::json!({}));
        assert_eq!(c.endpoint, DEFAULT_ENDPOINT);
        assert_eq!(c.per_user_per_hour, 100);
        assert_eq!(c.global_per_second, 20);
        assert!(c.webhook_url.is_none() && c.sender_avatar.is_none());
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn api_base_is_another_name_for_endpoint() {
        let c = config(serde_json::json!({"api_base": "http://127.0.0.1:9/pa"}));
        assert_eq!(c.endpoint, "http://127.0.0.1:9/pa");
    }

    #[test]
    fn problems_name_their_key() {
        let key = |extra| config(extra).validate().err().map(|(k, _)| k);
        assert_eq!(
            key(serde_json::json!({"auth_token": " "})),
            Some("auth_token")
        );
        assert_eq!(
            key(serde_json::json!({"sender_name": ""})),
            Some("sender_name")
        );
        assert_eq!(
            key(serde_json::json!({"sender_name": "x".repeat(29)})),
            Some("sender_name")
        );
        assert_eq!(
            key(serde_json::json!({"sender_name": "é".repeat(28)})),
            None
        );
        assert_eq!(
            key(serde_json::json!({"sender_avatar": "avatar.png"})),
            Some("sender_avatar")
        );
        assert_eq!(
            key(serde_json::json!({"webhook_url": "http://herald.example.com/x"})),
            Some("webhook_url")
        );
        assert_eq!(
            key(
                serde_json::json!({"webhook_url": "https://herald.example.com/webhooks/v/callbacks"})
            ),
            None
        );
        assert_eq!(
            key(serde_json::json!({"endpoint": "chatapi"})),
            Some("endpoint")
        );
        assert_eq!(
            key(serde_json::json!({"per_user_per_hour": 0})),
            Some("per_user_per_hour")
        );
        assert_eq!(
            key(serde_json::json!({"global_per_second": 0})),
            Some("global_per_second")
        );
    }

    #[test]
    fn unknown_keys_are_refused_and_the_token_is_not_shown() {
        let err = serde_json::from_value::<Config>(serde_json::json!({
            "auth_token": "t0k3n", "sender_name": "herald", "sendername": "x"
        }))
        .unwrap_err();
        assert!(err.to_string().contains("sendername"), "{err}");
        assert!(!format!("{:?}", config(serde_json::json!({}))).contains("t0k3n"));
    }
}
