//! SSE sink: streams notifications to browsers and programs at `GET /stream`.
#![doc = include_str!("../README.md")]

mod config;
#[doc(hidden)]
pub mod fuzzing;
mod hub;
mod plugin;
mod render;
mod stream;

use axum::Router;
use axum::routing::get;
use sink_api::{Delivery, Notification, Receipt, Recipient, Sink, SinkError};

pub use config::Config;
pub use hub::Hub;
pub use plugin::Plugin;

/// Delivers notifications to every connected SSE client through a [`Hub`].
#[derive(Debug, Clone)]
pub struct SseSink {
    hub: Hub,
}

impl SseSink {
    /// A sink with a new, empty hub.
    pub fn new(config: Config) -> Self {
        Self {
            hub: Hub::new(config),
        }
    }

    /// The hub, to mount its routes, preload its history and close it at shutdown.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// The routes serving this sink's stream: `GET /stream`.
    pub fn router<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        Router::new()
            .route("/stream", get(stream::handler))
            .with_state(self.hub.clone())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the SSE hub is closed")]
struct Closed;

impl Sink for SseSink {
    const KIND: &'static str = "sse";
    const DELIVERY: Delivery = Delivery::Broadcast;

    async fn send(&self, _to: &Recipient, msg: &Notification) -> Result<Receipt, SinkError> {
        if self.hub.publish(msg) {
            Ok(Receipt::default())
        } else {
            // Only during shutdown.
            Err(SinkError::transient(Closed))
        }
    }

    fn recipients(&self) -> Vec<Recipient> {
        vec![Recipient::broadcast()]
    }
}
