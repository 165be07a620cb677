//! The relay between instances: messages a sink publishes (room chat) reach that sink on every
//! herald instance sharing the PostgreSQL database, through `NOTIFY` on [`CHANNEL`], the same
//! signalling that wakes followers (see [`crate::signal`]). On SQLite, which one process owns,
//! the relay is a [`LocalRelay`].
//!
//! Each instance delivers its own messages locally at once and sends them to the others in
//! publish order through one writer task; the listener hands the others' messages to the local
//! subscribers and skips its own (by origin). A message published while the listening
//! connection is down is not seen by the others: the relay carries live talk, at most once.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sink_api::{LocalRelay, Relay};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::dispatch::error_chain;
use crate::store::Store;

/// The PostgreSQL notification channel of relayed messages.
pub const CHANNEL: &str = "herald_relay";

/// PostgreSQL refuses `NOTIFY` payloads of 8000 bytes or more.
const MAX_PAYLOAD: usize = 7_900;

/// Messages waiting for the writer; beyond this, new ones are dropped (and logged).
const QUEUE: usize = 4_096;

/// One relayed message on the wire.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    /// The publishing instance.
    #[serde(rename = "o")]
    origin: String,
    /// The sink's channel.
    #[serde(rename = "c")]
    channel: String,
    /// The sink's message.
    #[serde(rename = "p")]
    payload: String,
}

/// A relay through the store's PostgreSQL database.
#[derive(Debug)]
pub struct StoreRelay {
    origin: String,
    local: LocalRelay,
    queue: mpsc::Sender<String>,
}

/// The task that sends an instance's messages to the others, in order.
#[derive(Debug)]
pub struct Writer {
    store: Store,
    queue: mpsc::Receiver<String>,
}

impl StoreRelay {
    /// The relay of instance `origin`, and the writer to run for it.
    pub fn new(store: Store, origin: &str) -> (Arc<Self>, Writer) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let relay = Arc::new(Self {
            origin: origin.to_owned(),
            local: LocalRelay::new(),
            queue: tx,
        });
        (relay, Writer { store, queue: rx })
    }

    /// A notification on [`CHANNEL`]: another instance's message goes to this one's
    /// subscribers.
    pub fn received(&self, payload: &str) {
        match serde_json::from_str::<Envelope>(payload) {
            Ok(envelope) if envelope.origin != self.origin => {
                self.local.publish(&envelope.channel, envelope.payload);
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "a relayed message that does not parse; ignored"),
        }
    }
}

impl Relay for StoreRelay {
    fn publish(&self, channel: &str, payload: String) {
        let envelope = Envelope {
            origin: self.origin.clone(),
            channel: channel.to_owned(),
            payload,
        };
        let wire = serde_json::to_string(&envelope).unwrap_or_default();
        self.local.publish(channel, envelope.payload);
        if wire.len() > MAX_PAYLOAD {
            tracing::warn!(
                channel,
                bytes = wire.len(),
                "a message too long to relay to the other instances; only this one has it"
            );
        } else if self.queue.try_send(wire).is_err() {
            tracing::warn!(
                channel,
                "the relay to the other instances is behind; a message was dropped"
            );
        }
    }

    fn subscribe(&self, channel: &str) -> tokio::sync::broadcast::Receiver<String> {
        self.local.subscribe(channel)
    }
}

impl Writer {
    /// Sends queued messages until `cancel`.
    pub async fn run(mut self, cancel: CancellationToken) {
        loop {
            let wire = tokio::select! {
                wire = self.queue.recv() => match wire {
                    Some(wire) => wire,
                    None => return,
                },
                () = cancel.cancelled() => return,
            };
            if let Err(error) = self.store.notify_channel(CHANNEL, &wire).await {
                tracing::warn!(error = %error_chain(&error), "cannot relay a message to the other instances");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn own_messages_are_heard_at_once_and_not_again_from_the_database() {
        let config = crate::config::StoreConfig {
            url: "sqlite::memory:".into(),
            ..Default::default()
        };
        let store = Store::connect(&config).await.unwrap();
        let (relay, _writer) = StoreRelay::new(store, "a");
        let mut room = relay.subscribe("rooms");
        relay.publish("rooms", "hello".into());
        assert_eq!(room.recv().await.unwrap(), "hello");
        let own = r#"{"o":"a","c":"rooms","p":"hello"}"#;
        relay.received(own);
        assert!(room.try_recv().is_err(), "its own NOTIFY is skipped");
        relay.received(r#"{"o":"b","c":"rooms","p":"from b"}"#);
        assert_eq!(room.recv().await.unwrap(), "from b");
        relay.received("not json");
        assert!(room.try_recv().is_err());
    }
}
