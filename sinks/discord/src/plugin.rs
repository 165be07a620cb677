//! The Discord sink's plug-in: `type = "discord"`, with its interactions route and the slash
//! command registration, retried until it works.

use std::time::Duration;

use sink_api::plugin::CancellationToken;
use sink_api::{BoxError, Built, Context, Invalid, error_chain};

use crate::{Config, DiscordSink};

/// The Discord sink, as the core's plugin list names it.
#[derive(Debug)]
pub struct Plugin;

impl sink_api::Plugin for Plugin {
    type Config = Config;
    type Sink = DiscordSink;

    fn validate(config: &Config) -> Result<(), Invalid> {
        Ok(config.validate()?)
    }

    fn describe(config: &Config) -> String {
        let scope = if config.guild_id == 0 {
            "global commands".to_owned()
        } else {
            format!("commands in guild {}", config.guild_id)
        };
        format!(
            "application {}, {} configured channels, {scope}",
            config.application_id,
            config.channels.len()
        )
    }

    fn check_recipient(_config: &Config, to: &str) -> Result<(), String> {
        if !(17..=20).contains(&to.len()) || !to.bytes().all(|b| b.is_ascii_digit()) {
            return Err("a Discord channel id is a number of 17 to 20 digits".to_owned());
        }
        Ok(())
    }

    fn build(config: &Config, ctx: &Context) -> Result<Built<DiscordSink>, BoxError> {
        let sink = DiscordSink::new(config.clone());
        let router = crate::router(&sink, ctx.id(), ctx.commands());
        let mut built = Built::new(sink.clone()).router(router);
        if config.register_commands {
            built = built.task("discord command registration", move |stop| {
                register_until_done(sink.clone(), stop)
            });
        }
        Ok(built)
    }
}

/// The first wait after a failed registration; it doubles up to [`MAX_WAIT`].
const FIRST_WAIT: Duration = Duration::from_secs(2);
const MAX_WAIT: Duration = Duration::from_secs(300);

/// Registers the slash commands, retrying with backoff until it works or herald stops.
async fn register_until_done(sink: DiscordSink, stop: CancellationToken) {
    let mut wait = FIRST_WAIT;
    loop {
        match crate::register_commands(&sink).await {
            Ok(()) => {
                tracing::info!("Discord slash commands registered");
                return;
            }
            Err(error) => {
                tracing::warn!(error = %error_chain(&error), "cannot register Discord slash commands; retrying");
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(MAX_WAIT);
    }
}
