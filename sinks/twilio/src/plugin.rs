//! The Twilio sink's plug-in: `type = "twilio"`. The SMS signup it can enable is the core's
//! (it owns subscribers); the core wraps this plug-in to add it.

use sink_api::{BoxError, Built, Context, Invalid};

use crate::{Config, TwilioSink, webhook};

/// The Twilio sink, as the core's plugin list names it.
#[derive(Debug)]
pub struct Plugin;

impl sink_api::Plugin for Plugin {
    type Config = Config;
    type Sink = TwilioSink;

    fn validate(config: &Config) -> Result<(), Invalid> {
        Ok(config.validate()?)
    }

    fn paths(config: &Config) -> Vec<&'static str> {
        if config.signup.enabled {
            vec![webhook::INBOUND_PATH, webhook::STATUS_PATH]
        } else {
            Vec::new()
        }
    }

    fn describe(config: &Config) -> String {
        let sender = config
            .messaging_service_sid
            .as_deref()
            .or(config.from.as_deref())
            .unwrap_or_default();
        let signup = if config.signup.enabled { "on" } else { "off" };
        format!(
            "account {} from {sender}, at most {} segments a text, signup {signup}",
            config.account_sid, config.max_segments
        )
    }

    fn check_recipient(_config: &Config, to: &str) -> Result<(), String> {
        match crate::phone::normalize(to, None) {
            Ok(phone) if phone.e164 == to => Ok(()),
            Ok(phone) => Err(format!("write the number in E.164: {}", phone.e164)),
            Err(e) => Err(e.to_string()),
        }
    }

    fn build(config: &Config, _ctx: &Context) -> Result<Built<TwilioSink>, BoxError> {
        Ok(Built::new(TwilioSink::new(config.clone())?))
    }
}
