//! The SSE sink's plug-in: `type = "sse"`, serving `GET /stream`.

use std::sync::Arc;

use sink_api::{BoxError, Built, Context, History, Invalid, Notification};

use crate::{Config, Hub, SseSink};

/// The SSE sink, as the core's plugin list names it.
#[derive(Debug)]
pub struct Plugin;

impl sink_api::Plugin for Plugin {
    type Config = Config;
    type Sink = SseSink;

    fn validate(config: &Config) -> Result<(), Invalid> {
        config
            .validate()
            .map_err(|message| Invalid::new("", message))
    }

    fn paths(_config: &Config) -> Vec<&'static str> {
        vec!["/stream"]
    }

    fn describe(config: &Config) -> String {
        format!(
            "GET /stream, {} kept for resume, at most {} clients",
            config.history, config.max_clients
        )
    }

    fn build(config: &Config, _ctx: &Context) -> Result<Built<SseSink>, BoxError> {
        let sink = SseSink::new(config.clone());
        let router = sink.router();
        let history = Arc::new(sink.hub().clone());
        Ok(Built::new(sink).router(router).history(history))
    }
}

impl History for Hub {
    fn capacity(&self) -> usize {
        self.history_capacity()
    }

    fn preload(&self, notifications: Vec<Notification>) {
        Self::preload(self, notifications);
    }

    fn close(&self) {
        Self::close(self);
    }

    fn clients(&self) -> Option<usize> {
        Some(Self::clients(self))
    }
}
