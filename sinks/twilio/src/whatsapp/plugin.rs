//! The WhatsApp sink's plug-in: `type = "whatsapp"`. Its inbound webhook (opt-in, STOP,
//! commands) and the record of who opted in are the core's (they need the store); the core
//! wraps this plug-in to add them.

use sink_api::{BoxError, Built, Context, Invalid};

use super::{WhatsAppConfig, WhatsAppSink};
use crate::webhook;

/// The WhatsApp sink, as the core's plugin list names it.
#[derive(Debug)]
pub struct WhatsAppPlugin;

impl sink_api::Plugin for WhatsAppPlugin {
    type Config = WhatsAppConfig;
    type Sink = WhatsAppSink;

    fn validate(config: &WhatsAppConfig) -> Result<(), Invalid> {
        Ok(config.validate()?)
    }

    fn paths(_config: &WhatsAppConfig) -> Vec<&'static str> {
        vec![webhook::WHATSAPP_PATH, webhook::WHATSAPP_STATUS_PATH]
    }

    fn describe(config: &WhatsAppConfig) -> String {
        format!(
            "account {} from whatsapp:{}, template {} outside the 24-hour window",
            config.account_sid,
            config.sender(),
            config.content_sid
        )
    }

    /// Recipients are E.164 numbers, without the `whatsapp:` prefix.
    fn check_recipient(_config: &WhatsAppConfig, to: &str) -> Result<(), String> {
        crate::phone::check_e164(to)
    }

    fn build(config: &WhatsAppConfig, _ctx: &Context) -> Result<Built<WhatsAppSink>, BoxError> {
        Ok(Built::new(WhatsAppSink::new(config.clone())?))
    }
}

#[cfg(test)]
mod tests {
    use sink_api::Plugin as _;

    use super::*;

    #[test]
    fn recipients_are_e164_numbers() {
        let config: WhatsAppConfig = serde_json::from_value(serde_json::json!({
            "account_sid": "AC0123456789abcdef0123456789abcdef",
            "auth_token": "t",
            "from": "+14155238886",
            "content_sid": "HX0123456789abcdef0123456789abcdef",
        }))
        .unwrap();
        let check = |to: &str| WhatsAppPlugin::check_recipient(&config, to);
        assert_eq!(check("+14155552671"), Ok(()));
        assert_eq!(
            check("+1 (415) 555-2671"),
            Err("write the number in E.164: +14155552671".to_owned())
        );
        assert!(check("whatsapp:+14155552671").is_err());
        assert!(check("4155552671").is_err());
        assert!(check("").is_err());
        assert_eq!(
            WhatsAppPlugin::paths(&config),
            [
                "/webhooks/twilio/whatsapp",
                "/webhooks/twilio/whatsapp/status"
            ]
        );
    }
}
