//! The Socket.IO sink's plug-in: `type = "socketio"`, serving `/socket.io/`.

use std::sync::Arc;

use sink_api::{BoxError, Built, Context, History, Invalid, Notification};

use crate::{Config, SocketIoSink};

/// The Socket.IO sink, as the core's plugin list names it.
#[derive(Debug)]
pub struct Plugin;

impl sink_api::Plugin for Plugin {
    const ALIASES: &'static [&'static str] = &["socket.io"];

    type Config = Config;
    type Sink = SocketIoSink;

    fn validate(config: &Config) -> Result<(), Invalid> {
        config.validate().map_err(Invalid::from)
    }

    fn paths(_config: &Config) -> Vec<&'static str> {
        vec!["/socket.io/"]
    }

    fn describe(config: &Config) -> String {
        format!(
            "/socket.io/ rooms, at most {} clients, {} texts per {} s{}",
            config.max_clients,
            config.text_limit,
            config.text_window.as_secs(),
            if config.token.is_some() {
                ", a token to send text"
            } else {
                ""
            }
        )
    }

    fn build(config: &Config, ctx: &Context) -> Result<Built<SocketIoSink>, BoxError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err("the Socket.IO sink is built within herald's runtime".into());
        }
        let channel = format!("socketio:{}", ctx.id());
        let sink = SocketIoSink::new(config, ctx.relay(), &channel);
        let router = sink.router();
        let closer = Arc::new(sink.clone());
        Ok(Built::new(sink).router(router).history(closer))
    }
}

/// Socket.IO keeps no notifications for late clients (the SSE stream does); the history hook
/// is where herald's shutdown closes every connection.
impl History for SocketIoSink {
    fn capacity(&self) -> usize {
        0
    }

    fn preload(&self, _notifications: Vec<Notification>) {}

    fn close(&self) {
        let sink = self.clone();
        tokio::spawn(async move { sink.close().await });
    }

    fn clients(&self) -> Option<usize> {
        Some(self.rooms.clients())
    }
}
