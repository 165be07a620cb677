//! Configuration of the X sink.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The public API server.
pub(crate) const DEFAULT_ENDPOINT: &str = "https://api.x.com";

/// `[sinks.<id>]` with `type = "x"` (or `"twitter"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The app's API key (OAuth consumer key); use `${X_API_KEY}`.
    #[serde(deserialize_with = "sink_api::secret::required")]
    pub api_key: SecretString,
    /// The app's API key secret; use `${X_API_SECRET}`.
    #[serde(deserialize_with = "sink_api::secret::required")]
    pub api_secret: SecretString,
    /// The posting account's access token; use `${X_ACCESS_TOKEN}`.
    #[serde(deserialize_with = "sink_api::secret::required")]
    pub access_token: SecretString,
    /// The posting account's access token secret; use `${X_ACCESS_TOKEN_SECRET}`.
    #[serde(deserialize_with = "sink_api::secret::required")]
    pub access_token_secret: SecretString,
    /// The API server.
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// Posts per 15 minutes (X allows 100 per user on `POST /2/tweets`).
    #[serde(default = "default_per_15_minutes")]
    pub posts_per_15_minutes: u32,
    /// Posts per 24 hours, the plan's daily cap (17 on the free plan); 0 means no cap.
    #[serde(default)]
    pub posts_per_day: u32,
}

fn default_endpoint() -> String {
    DEFAULT_ENDPOINT.to_owned()
}

fn default_per_15_minutes() -> u32 {
    100
}

impl Config {
    /// Checks the values; pure.
    ///
    /// # Errors
    /// The key and what is wrong with it.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        match url::Url::parse(&self.endpoint) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => return Err(("endpoint", format!("not an http(s) URL: {}", self.endpoint))),
        }
        for (key, secret) in [
            ("api_key", &self.api_key),
            ("api_secret", &self.api_secret),
            ("access_token", &self.access_token),
            ("access_token_secret", &self.access_token_secret),
        ] {
            if secret.expose_secret().trim().is_empty() {
                return Err((key, "must not be empty".into()));
            }
        }
        if self.posts_per_15_minutes == 0 {
            return Err(("posts_per_15_minutes", "must be at least 1".into()));
        }
        Ok(())
    }
}
