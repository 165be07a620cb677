//! The console sink's plug-in: `type = "console"`.

use sink_api::{BoxError, Built, Context};

use crate::{Config, ConsoleSink, Format};

/// The console sink, as the core's plugin list names it.
#[derive(Debug)]
pub struct Plugin;

impl sink_api::Plugin for Plugin {
    type Config = Config;
    type Sink = ConsoleSink;

    fn describe(config: &Config) -> String {
        match config.format {
            Format::Text => "text lines".to_owned(),
            Format::Json => "JSON lines".to_owned(),
        }
    }

    fn check_recipient(_config: &Config, to: &str) -> Result<(), String> {
        if to == sink_api::Recipient::BROADCAST {
            Ok(())
        } else {
            Err("this sink has one audience of its own: leave `to` out".to_owned())
        }
    }

    fn build(config: &Config, _ctx: &Context) -> Result<Built<ConsoleSink>, BoxError> {
        Ok(Built::new(ConsoleSink::new(config.clone())))
    }
}
