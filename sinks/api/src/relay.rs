//! Messages between the copies of one sink on every herald instance: what a client says in a
//! room on one instance reaches the clients of that room on all of them.
//!
//! A sink gets its [`Relay`] from [`crate::Context::relay`]. Within one process (SQLite, tests)
//! it is a [`LocalRelay`]; where several instances share PostgreSQL, the core's relay also
//! carries each message through `NOTIFY` to the others. Delivery is at most once and in the
//! order one instance published: the relay is for live talk, not for anything that must not
//! be lost (notifications go through the outbox).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

/// Messages queued per channel for a subscriber that is behind; older ones are dropped for it.
pub const CHANNEL_CAPACITY: usize = 1024;

/// Publishes to, and subscribes to, named channels across herald instances.
pub trait Relay: Send + Sync + fmt::Debug + 'static {
    /// Sends `payload` to every subscriber of `channel` on every instance, this one included.
    /// Never waits: a message that cannot be carried is dropped and logged by the relay.
    fn publish(&self, channel: &str, payload: String);

    /// What is published on `channel` from now on, from any instance.
    fn subscribe(&self, channel: &str) -> broadcast::Receiver<String>;
}

/// A relay within one process.
#[derive(Debug, Clone, Default)]
pub struct LocalRelay {
    channels: Arc<Mutex<HashMap<String, broadcast::Sender<String>>>>,
}

impl LocalRelay {
    /// A relay with no channel yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn sender(&self, channel: &str) -> broadcast::Sender<String> {
        let mut channels = self
            .channels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        channels
            .entry(channel.to_owned())
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .clone()
    }
}

impl Relay for LocalRelay {
    fn publish(&self, channel: &str, payload: String) {
        // No subscriber is not an error: nobody listens on this instance.
        let _unheard = self.sender(channel).send(payload).is_err();
    }

    fn subscribe(&self, channel: &str) -> broadcast::Receiver<String> {
        self.sender(channel).subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_of_a_channel_get_its_messages_in_order_and_no_others() {
        let relay = LocalRelay::new();
        let mut rooms = relay.subscribe("rooms");
        let mut other = relay.subscribe("other");
        relay.publish("rooms", "one".into());
        relay.publish("rooms", "two".into());
        assert_eq!(rooms.recv().await.unwrap(), "one");
        assert_eq!(rooms.recv().await.unwrap(), "two");
        assert!(other.try_recv().is_err());
    }
}
