//! Configuration of the Twilio SMS sink and of its subscriber signup.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The public REST API.
pub(crate) const DEFAULT_ENDPOINT: &str = "https://api.twilio.com";
/// The public Lookup API.
pub(crate) const DEFAULT_LOOKUP_ENDPOINT: &str = "https://lookups.twilio.com";

/// `[sinks.<id>]` with `type = "twilio"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The account SID (`AC…`); use `${TWILIO_ACCOUNT_SID}`.
    pub account_sid: String,
    /// The auth token: signs requests to Twilio and verifies Twilio's webhooks; use
    /// `${TWILIO_AUTH_TOKEN}`.
    #[serde(deserialize_with = "sink_api::secret::required")]
    pub auth_token: SecretString,
    /// The REST API server.
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// Send through this Messaging Service (`MG…`); set this or `from`.
    pub messaging_service_sid: Option<String>,
    /// Send from this number (E.164); set this or `messaging_service_sid`.
    pub from: Option<String>,
    /// URL Twilio reports delivery status to (`StatusCallback`), if any.
    pub status_callback: Option<String>,
    /// Segments per second over all messages: 1 for a long code, more for a toll-free number,
    /// a short code or a Messaging Service with several senders.
    #[serde(default = "default_mps")]
    pub messages_per_second: f64,
    /// Longest message, in segments; longer texts are shortened.
    #[serde(default = "default_max_segments")]
    pub max_segments: u32,
    /// Messages per subscriber in any 24 hours; more are skipped. 0 means no cap.
    #[serde(default = "default_daily_cap")]
    pub daily_cap: u32,
    /// Fold accents and drop emoji so texts stay in the cheaper GSM-7 alphabet.
    #[serde(default = "yes")]
    pub transliterate: bool,
    /// herald's public base URL as Twilio reaches it (`https://herald.example.com`), used to
    /// verify webhook signatures behind a proxy; without it the request's `Host` is used.
    pub public_url: Option<String>,
    /// Subscriber signup.
    #[serde(default)]
    pub signup: SignupConfig,
}

/// `[sinks.<id>.signup]`: the web form, the API and the inbound SMS keywords.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignupConfig {
    /// Serve `POST /api/v1/sms/subscribe`, the form on `/` and the inbound webhook.
    pub enabled: bool,
    /// ISO country codes numbers may belong to (`["US", "BR"]`); empty allows every country.
    pub countries: Vec<String>,
    /// Country of numbers typed without `+` and a country code; `None` requires the `+`.
    pub default_country: Option<String>,
    /// How long a confirmation code is valid.
    #[serde(with = "humantime_serde")]
    pub code_ttl: Duration,
    /// Wrong codes before a pending signup is dropped.
    pub max_code_attempts: u32,
    /// Ask Twilio Lookup whether a number is real before texting it (a paid request).
    pub lookup: bool,
    /// The Lookup API server.
    pub lookup_endpoint: String,
    /// Signups per client IP per hour.
    pub per_ip_per_hour: u32,
    /// Signups (codes texted) per phone number per day.
    pub per_number_per_day: u32,
    /// Signups per number prefix (all but the last four digits) per hour, against SMS pumping
    /// through ranges of premium numbers.
    pub per_prefix_per_hour: u32,
    /// Behind a reverse proxy: the header that carries the client's address
    /// (`X-Forwarded-For`), for the per-IP limit. Unset: the peer address is used.
    pub client_ip_header: Option<String>,
    /// Accept numbers that cost extra to text (premium rate, shared cost, satellite and
    /// international networks, unknown types); refused by default against SMS pumping.
    pub allow_costly_numbers: bool,
}

impl Default for SignupConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            countries: Vec::new(),
            default_country: None,
            code_ttl: Duration::from_secs(15 * 60),
            max_code_attempts: 5,
            lookup: false,
            lookup_endpoint: DEFAULT_LOOKUP_ENDPOINT.to_owned(),
            per_ip_per_hour: 5,
            per_number_per_day: 3,
            per_prefix_per_hour: 10,
            client_ip_header: None,
            allow_costly_numbers: false,
        }
    }
}

pub(crate) fn default_endpoint() -> String {
    DEFAULT_ENDPOINT.to_owned()
}

fn default_mps() -> f64 {
    1.0
}

fn default_max_segments() -> u32 {
    3
}

fn default_daily_cap() -> u32 {
    50
}

fn yes() -> bool {
    true
}

pub(crate) fn check_url(key: &'static str, url: &str) -> Result<(), (&'static str, String)> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        _ => Err((key, format!("not an http(s) URL: {url}"))),
    }
}

/// Checks an account SID and its auth token (the SMS and the WhatsApp sink's); pure.
pub(crate) fn check_account(
    account_sid: &str,
    auth_token: &SecretString,
) -> Result<(), (&'static str, String)> {
    if !account_sid.starts_with("AC") || account_sid.len() < 10 {
        return Err(("account_sid", "must be an account SID (AC…)".into()));
    }
    if auth_token.expose_secret().trim().is_empty() {
        return Err(("auth_token", "must not be empty".into()));
    }
    Ok(())
}

impl Config {
    /// The account the SMS are sent from.
    pub(crate) fn account(&self) -> crate::client::Account<'_> {
        crate::client::Account {
            endpoint: &self.endpoint,
            sid: &self.account_sid,
            token: &self.auth_token,
        }
    }

    /// Checks the values; pure.
    ///
    /// # Errors
    /// The key and what is wrong with it.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        check_url("endpoint", &self.endpoint)?;
        check_account(&self.account_sid, &self.auth_token)?;
        match (&self.messaging_service_sid, &self.from) {
            (Some(_), Some(_)) => {
                return Err((
                    "from",
                    "set either from or messaging_service_sid, not both".into(),
                ));
            }
            (None, None) => {
                return Err((
                    "messaging_service_sid",
                    "set messaging_service_sid (MG…) or from (a number)".into(),
                ));
            }
            (Some(mg), None) if !mg.starts_with("MG") => {
                return Err((
                    "messaging_service_sid",
                    "must be a Messaging Service SID (MG…)".into(),
                ));
            }
            (None, Some(from)) if crate::phone::normalize(from, None).is_err() => {
                return Err(("from", format!("not a phone number in E.164 form: {from}")));
            }
            _ => {}
        }
        if let Some(cb) = &self.status_callback {
            check_url("status_callback", cb)?;
        }
        if let Some(url) = &self.public_url {
            check_url("public_url", url)?;
        }
        if !(self.messages_per_second.is_finite() && self.messages_per_second > 0.0) {
            return Err(("messages_per_second", "must be a number above 0".into()));
        }
        if !(1..=10).contains(&self.max_segments) {
            return Err(("max_segments", "must be between 1 and 10".into()));
        }
        let s = &self.signup;
        for code in &s.countries {
            if crate::phone::country(code).is_none() {
                return Err((
                    "signup.countries",
                    format!("`{code}` is not an ISO country code"),
                ));
            }
        }
        if let Some(code) = &s.default_country
            && crate::phone::country(code).is_none()
        {
            return Err((
                "signup.default_country",
                format!("`{code}` is not an ISO country code"),
            ));
        }
        check_url("signup.lookup_endpoint", &s.lookup_endpoint)?;
        if s.code_ttl < Duration::from_secs(60) {
            return Err(("signup.code_ttl", "must be at least 1m".into()));
        }
        for (key, value) in [
            ("signup.max_code_attempts", s.max_code_attempts),
            ("signup.per_ip_per_hour", s.per_ip_per_hour),
            ("signup.per_number_per_day", s.per_number_per_day),
            ("signup.per_prefix_per_hour", s.per_prefix_per_hour),
        ] {
            if value == 0 {
                return Err((key, "must be at least 1".into()));
            }
        }
        Ok(())
    }
}
