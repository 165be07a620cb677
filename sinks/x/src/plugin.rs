//! The X sink's plug-in: `type = "x"` (or `"twitter"`).

use sink_api::{BoxError, Built, Context, Invalid};

use crate::{Config, XSink};

/// The X sink, as the core's plugin list names it.
#[derive(Debug)]
pub struct Plugin;

impl sink_api::Plugin for Plugin {
    const ALIASES: &'static [&'static str] = &["twitter"];
    type Config = Config;
    type Sink = XSink;

    fn validate(config: &Config) -> Result<(), Invalid> {
        Ok(config.validate()?)
    }

    fn describe(config: &Config) -> String {
        format!(
            "{}, at most {} posts per 15 minutes and {} per day",
            config.endpoint, config.posts_per_15_minutes, config.posts_per_day
        )
    }

    fn check_recipient(_config: &Config, to: &str) -> Result<(), String> {
        if to == sink_api::Recipient::BROADCAST {
            Ok(())
        } else {
            Err("this sink has one audience of its own: leave `to` out".to_owned())
        }
    }

    fn build(config: &Config, _ctx: &Context) -> Result<Built<XSink>, BoxError> {
        Ok(Built::new(XSink::new(config.clone())?))
    }
}
