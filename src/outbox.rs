//! The one way deliveries are queued: commit through the store (a poll's states and events,
//! or published messages, with their outbox rows in one transaction), then wake the worker of
//! every sink that got some. The poller and the publish API both go through it.
//!
//! Published messages are group-committed: one task records them, and every message that
//! arrives while a transaction is being committed goes into the next one, so a burst of
//! publishes costs a few transactions, not one each, and each caller is answered only once
//! its message is durable.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::detect::Tracked;
use crate::model::Event;
use crate::routing::Route;
use crate::signal::Wakers;
use crate::store::{Committed, Store, StoreError};

/// Most published messages committed by one transaction.
const MAX_GROUP: usize = 512;
/// Yields in a row that bring no publish before a group is committed.
const QUIET_YIELDS: usize = 2;
/// Published messages waiting for the committing task before callers wait for room.
const QUEUE: usize = 4_096;

type Reply = oneshot::Sender<Result<Committed, Arc<StoreError>>>;

/// The store, the routing of every sink, and each sink's wake-up; cheap to clone.
#[derive(Debug, Clone)]
pub struct Outbox {
    store: Store,
    routes: Arc<Vec<Route>>,
    wakers: Wakers,
    publishes: mpsc::Sender<(Event, Reply)>,
}

/// Why a message could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The store refused the transaction that carried it; nothing of it was recorded.
    #[error("cannot record the message")]
    Store(#[source] Arc<StoreError>),
    /// herald is shutting down.
    #[error("herald is shutting down")]
    Closed,
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
    /// Queues through `store` by `routes`, waking `wakers`. Starts the task that commits
    /// published messages (it ends when the last clone is dropped).
    pub fn new(store: Store, routes: Arc<Vec<Route>>, wakers: Wakers) -> Self {
        let (publishes, rx) = mpsc::channel(QUEUE);
        tokio::spawn(commit_publishes(
            store.clone(),
            Arc::clone(&routes),
            wakers.clone(),
            rx,
        ));
        Self {
            store,
            routes,
            wakers,
            publishes,
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
        self.wakers.wake(committed.sinks.iter().map(String::as_str));
        Ok(committed)
    }

    /// Records a free-form message and queues it; returns once it is durable.
    ///
    /// # Errors
    /// The store refused the transaction, or herald is shutting down; nothing is recorded.
    pub async fn publish(&self, event: Event) -> Result<Committed, PublishError> {
        let (reply, answer) = oneshot::channel();
        self.publishes
            .send((event, reply))
            .await
            .map_err(|_| PublishError::Closed)?;
        answer
            .await
            .map_err(|_| PublishError::Closed)?
            .map_err(PublishError::Store)
    }
}

/// Commits published messages in groups until every [`Outbox`] is dropped.
async fn commit_publishes(
    store: Store,
    routes: Arc<Vec<Route>>,
    wakers: Wakers,
    mut rx: mpsc::Receiver<(Event, Reply)>,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = rx.recv().await {
        group.push(first);
        // Let the requests being handled right now reach the queue: they join this group.
        // While that brings more, give way again: requests answered together come back
        // together, a little apart.
        let mut quiet = 0;
        while quiet < QUIET_YIELDS && group.len() < MAX_GROUP {
            tokio::task::yield_now().await;
            let before = group.len();
            while group.len() < MAX_GROUP
                && let Ok(next) = rx.try_recv()
            {
                group.push(next);
            }
            quiet = if group.len() > before { 0 } else { quiet + 1 };
        }
        let (events, replies): (Vec<Event>, Vec<Reply>) = group.drain(..).unzip();
        match store.publish(&events, &routes).await {
            Ok(committed) => {
                wakers.wake(
                    committed
                        .iter()
                        .flat_map(|c| c.sinks.iter().map(String::as_str)),
                );
                for (reply, committed) in replies.into_iter().zip(committed) {
                    // A caller that went away still had its message recorded.
                    let _gone = reply.send(Ok(committed));
                }
            }
            Err(error) => {
                let error = Arc::new(error);
                for reply in replies {
                    let _gone = reply.send(Err(Arc::clone(&error)));
                }
            }
        }
    }
}
