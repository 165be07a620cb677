//! The Slack sink's plug-in: `type = "slack"`, with its Events API and slash-command routes
//! when it has a signing secret, and its Socket Mode task when it has an app token.

use std::sync::Arc;

use sink_api::{BoxError, Built, Context, Invalid};

use crate::inbound::Inbound;
use crate::{Config, SlackSink, events, socket_mode};

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
        let commands = match (config.signing_secret.is_some(), config.app_token.is_some()) {
            (true, true) => "commands over the Events API and Socket Mode",
            (true, false) => "commands over the Events API",
            (false, true) => "commands over Socket Mode",
            (false, false) => "no commands",
        };
        format!(
            "{}, {} configured channels, {commands}",
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
        let inbound = Inbound::new(ctx.id(), sink.clone(), ctx.commands());
        let mut built = Built::new(sink);
        if config.signing_secret.is_some() {
            built = built.router(events::routes(Arc::clone(&inbound)));
        }
        if config.app_token.is_some() {
            built = built.task("slack socket mode", move |stop| {
                socket_mode::run(Arc::clone(&inbound), stop)
            });
        }
        Ok(built)
    }
}
