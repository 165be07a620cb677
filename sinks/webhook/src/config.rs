//! Configuration of the webhook sink.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sink_api::Invalid;

use crate::sign::Secret;

/// The middle of the 15–30 s the spec recommends: receivers get time to answer, and it stays
/// below the core's `dispatch.send_timeout` (30 s), so the sink, which knows it was a timeout,
/// reports it rather than the core.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// A webhook receiver is a server of the operator's, not a rate-limited platform: ten a second
/// per URL lets a burst of goals through at once and still spares a small receiver.
pub(crate) const DEFAULT_PER_URL_PER_SECOND: u32 = 10;

/// `[sinks.<id>]` with `type = "webhook"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The signing secret, `whsec_` and the base64 of 24 to 64 random bytes; use
    /// `${WEBHOOK_SECRET}`. Receivers verify `webhook-signature` with it.
    #[serde(deserialize_with = "sink_api::secret::required")]
    pub secret: SecretString,
    /// The http(s) URLs that get every notification this sink's routing lets through, besides
    /// URLs added with `herald subscribers add --sink <id> <url>`. Each URL is one recipient.
    #[serde(default)]
    pub urls: Vec<String>,
    /// How long one POST may take, connecting included; longer is a transient failure.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// POSTs per second to one URL.
    #[serde(default = "default_per_url_per_second")]
    pub per_url_per_second: u32,
}

fn default_timeout() -> Duration {
    DEFAULT_TIMEOUT
}

fn default_per_url_per_second() -> u32 {
    DEFAULT_PER_URL_PER_SECOND
}

/// An http(s) URL with a host, or why not. Never repeats the URL: it may carry a token.
pub(crate) fn check_url(text: &str) -> Result<url::Url, &'static str> {
    let parsed = url::Url::parse(text).map_err(|_| "is not a URL")?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("is not an http(s) URL");
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("has no host");
    }
    Ok(parsed)
}

impl Config {
    /// Checks the values; pure.
    ///
    /// # Errors
    /// The key and what is wrong with it.
    pub fn validate(&self) -> Result<(), Invalid> {
        Secret::parse(self.secret.expose_secret())
            .map_err(|e| Invalid::new("secret", e.to_string()))?;
        for (i, url) in self.urls.iter().enumerate() {
            let n = i + 1;
            if url.trim() != url {
                return Err(Invalid::new(
                    "urls",
                    format!("URL {n} has spaces around it"),
                ));
            }
            check_url(url).map_err(|why| Invalid::new("urls", format!("URL {n} {why}")))?;
            if self
                .urls
                .get(..i)
                .is_some_and(|before| before.contains(url))
            {
                return Err(Invalid::new("urls", format!("URL {n} is listed twice")));
            }
        }
        if self.timeout.is_zero() {
            return Err(Invalid::new("timeout", "must be longer than 0s"));
        }
        if self.per_url_per_second == 0 {
            return Err(Invalid::new("per_url_per_second", "must be at least 1"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

    fn parse(value: serde_json::Value) -> Result<Config, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    fn problem(value: serde_json::Value) -> String {
        parse(value).unwrap().validate().unwrap_err().to_string()
    }

    #[test]
    fn defaults_apply() {
        let c = parse(serde_json::json!({"secret": SECRET})).unwrap();
        assert!(c.urls.is_empty());
        assert_eq!(c.timeout, Duration::from_secs(15));
        assert_eq!(c.per_url_per_second, 10);
        c.validate().unwrap();
        let c = parse(serde_json::json!({
            "secret": SECRET,
            "urls": ["https://a.example/hook", "http://127.0.0.1:8080/in"],
            "timeout": "2s 500ms",
            "per_url_per_second": 1,
        }))
        .unwrap();
        assert_eq!(c.timeout, Duration::from_millis(2500));
        c.validate().unwrap();
    }

    #[test]
    fn bad_values_name_their_key_without_echoing_secrets() {
        let err = problem(serde_json::json!({"secret": "hunter2-hunter2-hunter2-hunter2"}));
        assert_eq!(err, "secret: must start with `whsec_`");
        let err = problem(serde_json::json!({"secret": "whsec_c2hvcnQ="}));
        assert_eq!(err, "secret: must decode to 24 to 64 bytes, not 5");
        let err = problem(serde_json::json!({"secret": "whsec_%%%%"}));
        assert!(err.starts_with("secret: "), "{err}");
        assert!(!err.contains("%%%%"), "{err}");
        let with =
            |urls: serde_json::Value| problem(serde_json::json!({"secret": SECRET, "urls": urls}));
        assert_eq!(
            with(serde_json::json!([
                "https://a.example",
                "ftp://b.example/?token=t0k"
            ])),
            "urls: URL 2 is not an http(s) URL"
        );
        assert_eq!(
            with(serde_json::json!(["not a url"])),
            "urls: URL 1 is not a URL"
        );
        assert_eq!(
            with(serde_json::json!([" https://a.example"])),
            "urls: URL 1 has spaces around it"
        );
        assert_eq!(
            with(serde_json::json!([
                "https://a.example/x",
                "https://a.example/x"
            ])),
            "urls: URL 2 is listed twice"
        );
        assert_eq!(
            problem(serde_json::json!({"secret": SECRET, "timeout": "0s"})),
            "timeout: must be longer than 0s"
        );
        assert_eq!(
            problem(serde_json::json!({"secret": SECRET, "per_url_per_second": 0})),
            "per_url_per_second: must be at least 1"
        );
        let unknown = parse(serde_json::json!({"secret": SECRET, "url": "https://a"})).unwrap_err();
        assert!(unknown.contains("unknown field `url`"), "{unknown}");
    }
}
