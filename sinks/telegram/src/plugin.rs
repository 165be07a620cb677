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
