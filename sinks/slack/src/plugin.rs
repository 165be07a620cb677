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

    fn check_recipient(_config: &Config, to: &str) -> Result<(), String> {
        let mut chars = to.chars();
        let kind_ok = chars.next().is_some_and(|c| matches!(c, 'C' | 'G' | 'D'));
        if !kind_ok
            || !(9..=15).contains(&to.len())
            || !chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Err("a Slack channel id looks like C0123456789 (not a #name)".to_owned());
        }
        Ok(())
    }

    fn build(config: &Config, ctx: &Context) -> Result<Built<SlackSink>, BoxError> {
        let sink = SlackSink::new(config.clone())?;
        let router = crate::router(sink.clone(), ctx.id(), ctx.commands());
        Ok(Built::new(sink).router(router))
    }
}
