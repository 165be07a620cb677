//! The one way deliveries are queued: commit through the store (a poll's states and events,
//! or a published message, with their outbox rows in one transaction), then wake the worker of
//! every sink that got some. The poller and the publish API both go through it.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::Notify;

use crate::detect::Tracked;
use crate::model::Event;
use crate::routing::Route;
use crate::store::{Committed, Store, StoreError};

/// The store, the routing of every sink, and each sink worker's wake-up; cheap to clone.
#[derive(Debug, Clone)]
pub struct Outbox {
    store: Store,
    routes: Arc<Vec<Route>>,
    wakers: Arc<BTreeMap<String, Arc<Notify>>>,
}

/// One poll, as [`Outbox::commit_poll`] records it.
#[derive(Debug)]
pub struct Poll<'a> {
    /// The source id.
    pub source: &'a str,
    /// The source's resume cursor after this poll.
    pub cursor: Option<&'a str>,
    /// Match states that changed.
    pub changed: &'a [Tracked],
    /// Events detected.
    pub events: &'a [Event],
    /// Whether the events are delivered (`false`: recorded silently, a first poll's backlog).
    pub deliver: bool,
}

impl Outbox {
    /// Queues through `store` by `routes`, waking `wakers` (by sink id).
    pub fn new(
        store: Store,
        routes: Arc<Vec<Route>>,
        wakers: Arc<BTreeMap<String, Arc<Notify>>>,
    ) -> Self {
        Self {
            store,
            routes,
            wakers,
        }
    }

    /// Records a poll and queues its new events.
    ///
    /// # Errors
    /// Database errors; nothing is recorded then.
    pub async fn commit_poll(&self, poll: Poll<'_>) -> Result<Committed, StoreError> {
        let committed = self
            .store
            .commit_poll(
                poll.source,
                poll.cursor,
                poll.changed,
                poll.events,
                poll.deliver,
                &self.routes,
            )
            .await?;
        self.wake(&committed);
        Ok(committed)
    }

    /// Records a free-form message and queues it.
    ///
    /// # Errors
    /// Database errors; nothing is recorded then.
    pub async fn publish(&self, event: &Event) -> Result<Committed, StoreError> {
        let committed = self.store.publish(event, &self.routes).await?;
        self.wake(&committed);
        Ok(committed)
    }

    fn wake(&self, committed: &Committed) {
        for sink in &committed.sinks {
            if let Some(wake) = self.wakers.get(sink) {
                wake.notify_one();
            }
        }
    }
}
