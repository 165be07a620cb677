//! The Slack sink's plug-in: `type = "slack"`, with its Events API and slash-command routes.

use sink_api::{BoxError, Built, Context, Invalid};

use crate::{Config, SlackSink};

/// The Slack sink, as the core's plugin list names it.
#[derive(Debug)]
pub struct Plugin;

impl sink_api::Plugin for Plugin {
    type Config = Config;
    type Sink = SlackSink;

    fn validate(config: &Config) -> Result<(), Invalid> {
        Ok(config.validate()?)
    }

    fn describe(config: &Config) -> String {
        format!(
            "{}, {} configured channels",
            config.endpoint,
            config.channels.len()
        )
    }

    fn build(config: &Config, ctx: &Context) -> Result<Built<SlackSink>, BoxError> {
        let sink = SlackSink::new(config.clone())?;
        let router = crate::router(sink.clone(), ctx.id(), ctx.commands());
        Ok(Built::new(sink).router(router))
    }
}
