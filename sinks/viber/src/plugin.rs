//! The Viber sink's plug-in: `type = "viber"`, with its callback route and, when
//! `webhook_url` is set, the `set_webhook` registration at startup.

use sink_api::text::truncate;
use sink_api::{BoxError, Built, Context, Invalid};

use crate::{Config, ViberSink, callbacks};

/// The Viber sink, as the core's plugin list names it.
#[derive(Debug)]
pub struct Plugin;

impl sink_api::Plugin for Plugin {
    type Config = Config;
    type Sink = ViberSink;

    fn validate(config: &Config) -> Result<(), Invalid> {
        Ok(config.validate()?)
    }

    fn describe(config: &Config) -> String {
        let webhook = config.webhook_url.as_deref().unwrap_or("not set by herald");
        format!(
            "{}, sender \"{}\", webhook {webhook}",
            config.endpoint, config.sender_name
        )
    }

    /// A Viber user id, as callbacks give it (`01234567890A=`).
    fn check_recipient(_config: &Config, to: &str) -> Result<(), String> {
        if callbacks::is_user_id(to) {
            Ok(())
        } else {
            Err(format!(
                "\"{}\" is not a Viber user id (1 to 100 characters of letters, digits, +, / and =)",
                truncate(to, 40)
            ))
        }
    }

    fn build(config: &Config, ctx: &Context) -> Result<Built<ViberSink>, BoxError> {
        let sink = ViberSink::new(config.clone())?;
        let router = crate::router(sink.clone(), ctx.id(), ctx.commands());
        let mut built = Built::new(sink.clone()).router(router);
        if config.webhook_url.is_some() {
            built = built.task("viber webhook", move |stop| {
                let sink = sink.clone();
                async move { sink.register_webhook(stop).await }
            });
        }
        Ok(built)
    }
}

#[cfg(test)]
mod tests {
    use sink_api::Plugin as _;

    use super::*;

    fn config() -> Config {
        serde_json::from_value(serde_json::json!({
            "auth_token": "s3cr3t-token", "sender_name": "herald",
            "webhook_url": "https://herald.example.com/webhooks/viber/callbacks"
        }))
        .unwrap()
    }

    #[test]
    fn recipients_must_be_viber_user_ids() {
        assert_eq!(Plugin::check_recipient(&config(), "01234567890A="), Ok(()));
        let refused = Plugin::check_recipient(&config(), "+1 555 123").unwrap_err();
        assert!(
            refused.contains("\"+1 555 123\" is not a Viber user id"),
            "{refused}"
        );
        assert!(Plugin::check_recipient(&config(), "").is_err());
        let long = Plugin::check_recipient(&config(), &"A".repeat(500)).unwrap_err();
        assert!(long.len() < 200, "{long}");
    }

    #[test]
    fn the_description_names_no_secret() {
        let text = Plugin::describe(&config());
        assert_eq!(
            text,
            "https://chatapi.viber.com/pa, sender \"herald\", webhook https://herald.example.com/webhooks/viber/callbacks"
        );
        assert!(!text.contains("s3cr3t"));
    }

    #[test]
    fn validation_names_the_key() {
        let mut c = config();
        c.sender_name = "a name far longer than Viber allows".into();
        assert_eq!(Plugin::validate(&c).unwrap_err().key, "sender_name");
    }
}
