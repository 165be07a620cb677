//! The Telegram sink's plug-in: `type = "telegram"`, reading bot commands when enabled.

use sink_api::{BoxError, Built, Context, Invalid};

use crate::{Config, TelegramSink};

/// The Telegram sink, as the core's plugin list names it.
#[derive(Debug)]
pub struct Plugin;

impl sink_api::Plugin for Plugin {
    type Config = Config;
    type Sink = TelegramSink;

    fn validate(config: &Config) -> Result<(), Invalid> {
        Ok(config.validate()?)
    }

    fn describe(config: &Config) -> String {
        let commands = if config.commands { "on" } else { "off" };
        format!(
            "{}, {} configured chats, bot commands {commands}",
            config.endpoint,
            config.chats.len()
        )
    }

    fn check_recipient(_config: &Config, to: &str) -> Result<(), String> {
        let digits = to.strip_prefix('-').unwrap_or(to);
        if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(
                "a Telegram chat id is a number (negative for groups: -1001234567890)".to_owned(),
            );
        }
        Ok(())
    }

    fn build(config: &Config, ctx: &Context) -> Result<Built<TelegramSink>, BoxError> {
        let sink = TelegramSink::new(config.clone())?;
        let mut built = Built::new(sink.clone());
        if config.commands {
            let commands = ctx.commands();
            built = built.task("telegram commands", move |stop| {
                let (sink, commands) = (sink.clone(), commands.clone());
                async move { sink.listen(commands, stop).await }
            });
        }
        Ok(built)
    }
}
