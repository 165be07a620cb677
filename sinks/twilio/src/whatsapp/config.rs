//! Configuration of the WhatsApp sink: the Twilio account, the WhatsApp sender, and the approved
//! template sent outside the 24-hour customer-service window with what fills its variables.

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde::Deserialize;

use crate::client::Account;
use crate::config::{check_account, check_url, default_endpoint};

/// Text-only messages per second from one WhatsApp sender: Twilio's default throughput (it
/// raises it to 50 on request; faster sends wait in Twilio's queue, and late goals are worth
/// little).
const DEFAULT_MPS: f64 = 10.0;

/// The longest template variable value herald sends: Twilio's recommended maximum (longer ones
/// risk the template's 1,024-character limit on WhatsApp).
pub(crate) const MAX_VARIABLE_CHARS: usize = 250;

/// `[sinks.<id>]` with `type = "whatsapp"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatsAppConfig {
    /// The account SID (`AC…`); use `${TWILIO_ACCOUNT_SID}`.
    pub account_sid: String,
    /// The auth token: signs requests to Twilio and verifies Twilio's webhooks; use
    /// `${TWILIO_AUTH_TOKEN}`.
    #[serde(deserialize_with = "sink_api::secret::required")]
    pub auth_token: SecretString,
    /// The REST API server (`api_base` is accepted as another name for it).
    #[serde(default = "default_endpoint", alias = "api_base")]
    pub endpoint: String,
    /// The WhatsApp-enabled sender, E.164 (`+14155238886`); sent as `whatsapp:+14155238886`.
    pub from: String,
    /// The approved Content template (`HX…`, 34 characters) sent instead of free-form text to
    /// numbers whose last message is older than 24 hours: WhatsApp refuses anything else there.
    pub content_sid: String,
    /// What fills each variable of the template: its key (`"1"`, as in `{{1}}`) → a field of
    /// the notification (`title`, `body`, `text`, `kind`, `topic`, `teams`, `home`, `away`).
    #[serde(default = "default_variables")]
    pub content_variables: BTreeMap<String, Field>,
    /// URL Twilio reports delivery status to (`StatusCallback`), if any: herald's
    /// `/webhooks/twilio/whatsapp/status` pauses numbers that cannot get WhatsApp messages.
    pub status_callback: Option<String>,
    /// Messages per second over all recipients (the sender's throughput).
    #[serde(default = "default_mps")]
    pub messages_per_second: f64,
    /// herald's public base URL as Twilio reaches it (`https://herald.example.com`), used to
    /// verify webhook signatures behind a proxy; without it the request's `Host` is used.
    pub public_url: Option<String>,
}

/// A field of a notification that fills a template variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The headline (`GOAL! France 1-0 Croatia`).
    Title,
    /// The details (`Mbappé (France) 65'`).
    Body,
    /// The headline and the details, on one line.
    Text,
    /// The event kind (`goal`, `red_card`, `announcement`).
    Kind,
    /// The topic of a published announcement.
    Topic,
    /// The teams involved, comma-separated.
    Teams,
    /// The home team.
    Home,
    /// The away team.
    Away,
}

fn default_variables() -> BTreeMap<String, Field> {
    BTreeMap::from([
        ("1".to_owned(), Field::Title),
        ("2".to_owned(), Field::Body),
    ])
}

fn default_mps() -> f64 {
    DEFAULT_MPS
}

impl WhatsAppConfig {
    /// The account the messages are sent from.
    pub(crate) fn account(&self) -> Account<'_> {
        Account {
            endpoint: &self.endpoint,
            sid: &self.account_sid,
            token: &self.auth_token,
        }
    }

    /// The sender, E.164 (without the `whatsapp:` prefix, which is accepted here too).
    pub(crate) fn sender(&self) -> &str {
        super::number(self.from.trim())
    }

    /// Checks the values; pure.
    ///
    /// # Errors
    /// The key and what is wrong with it.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        check_url("endpoint", &self.endpoint)?;
        check_account(&self.account_sid, &self.auth_token)?;
        match crate::phone::normalize(self.sender(), None) {
            Ok(phone) if phone.e164 == self.sender() => {}
            _ => {
                return Err((
                    "from",
                    format!(
                        "not a phone number in E.164 form (e.g. +14155238886): {}",
                        self.from
                    ),
                ));
            }
        }
        let sid = self.content_sid.trim();
        if !(sid.starts_with("HX")
            && sid.len() == 34
            && sid.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            return Err((
                "content_sid",
                "must be a Content template SID (HX followed by 32 characters)".into(),
            ));
        }
        for key in self.content_variables.keys() {
            let valid = (1..=16).contains(&key.len())
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err((
                    "content_variables",
                    format!(
                        "`{key}` is not a template variable (1 to 16 letters, digits or _, e.g. \"1\")"
                    ),
                ));
            }
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
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The minimal config with the keys of the JSON object `extra` replaced or added.
    fn config(extra: &str) -> WhatsAppConfig {
        let mut table = serde_json::json!({
            "account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "t",
            "from": "+14155238886", "content_sid": "HX0123456789abcdef0123456789abcdef",
        });
        let extra: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&format!("{{{}}}", extra.trim_start_matches(','))).unwrap();
        table.as_object_mut().unwrap().extend(extra);
        serde_json::from_value(table).unwrap()
    }

    #[test]
    fn defaults_fill_title_and_body_and_validate() {
        let c = config("");
        assert_eq!(
            c.content_variables,
            BTreeMap::from([("1".into(), Field::Title), ("2".into(), Field::Body)])
        );
        assert_eq!(c.endpoint, "https://api.twilio.com");
        assert!((c.messages_per_second - 10.0).abs() < f64::EPSILON);
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(
            config(r#", "from": "whatsapp:+14155238886""#).validate(),
            Ok(())
        );
        assert_eq!(
            config(r#", "api_base": "http://127.0.0.1:9""#).endpoint,
            "http://127.0.0.1:9"
        );
        assert!(!format!("{c:?}").contains("\"t\""), "the token is redacted");
    }

    #[test]
    fn bad_values_name_their_key() {
        let key = |extra: &str| config(extra).validate().unwrap_err().0;
        assert_eq!(key(r#", "from": "4155238886""#), "from");
        assert_eq!(key(r#", "from": "+1 415 523 8886""#), "from");
        assert_eq!(key(r#", "content_sid": "HX123""#), "content_sid");
        assert_eq!(
            key(r#", "content_sid": "MG0123456789abcdef0123456789abcdef""#),
            "content_sid"
        );
        assert_eq!(
            key(r#", "content_variables": {"first name": "title"}"#),
            "content_variables"
        );
        assert_eq!(key(r#", "account_sid": "nope""#), "account_sid");
        assert_eq!(key(r#", "status_callback": "ftp://x""#), "status_callback");
        assert_eq!(key(r#", "messages_per_second": 0"#), "messages_per_second");
        let unknown = serde_json::from_str::<WhatsAppConfig>(
            r#"{"account_sid": "AC0123456789", "auth_token": "t", "from": "+14155238886",
                "content_sid": "HX0123456789abcdef0123456789abcdef",
                "content_variables": {"1": "score"}}"#,
        )
        .unwrap_err();
        assert!(
            unknown.to_string().contains("unknown variant `score`"),
            "{unknown}"
        );
    }
}
