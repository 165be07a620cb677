//! Records successful deliveries in batches: one statement for many, so that settling costs
//! a round trip per batch, not per delivery.
//!
//! A delivery stays claimed until it is recorded, so the next delivery of the same recipient
//! is not claimed before it: per-recipient order holds. A crash before a batch is recorded
//! sends its deliveries again (at least once, never lost); batches are written as soon as the
//! previous one is, so that window is one statement long.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use crate::dispatch::error_chain;
use crate::store::Store;

/// Most deliveries recorded by one batch.
const MAX_BATCH: usize = 1_000;
/// Attempts at recording a batch before its claims are left to expire.
const ATTEMPTS: u32 = 3;

/// A delivery done: its outbox id and the platform's message id.
type Done = (i64, Option<String>);

/// The handle delivery tasks report successes to.
pub(super) struct Settler {
    /// Successes reported and not recorded yet.
    outstanding: Arc<AtomicUsize>,
    tx: std::sync::Mutex<Option<mpsc::UnboundedSender<Done>>>,
    task: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Settler {
    /// Starts recording into `store`; `wake` is notified after each batch (the next
    /// deliveries of those recipients are due now).
    pub(super) fn spawn(store: Store, wake: Arc<Notify>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let outstanding = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(record(store, rx, wake, Arc::clone(&outstanding)));
        Self {
            outstanding,
            tx: std::sync::Mutex::new(Some(tx)),
            task: std::sync::Mutex::new(Some(task)),
        }
    }

    /// Records delivery `id` as done, with the platform's message id.
    pub(super) fn delivered(&self, id: i64, receipt: Option<String>) {
        self.outstanding.fetch_add(1, Ordering::SeqCst);
        let sent = self
            .tx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(|tx| tx.send((id, receipt)));
        if !matches!(sent, Some(Ok(()))) {
            self.outstanding.fetch_sub(1, Ordering::SeqCst);
            tracing::error!(
                id,
                "delivered after the worker stopped; its claim expires and it is sent again"
            );
        }
    }

    /// Whether every reported success is recorded (the recipients' next deliveries are due).
    pub(super) fn idle(&self) -> bool {
        self.outstanding.load(Ordering::SeqCst) == 0
    }

    /// Records what is left and stops.
    pub(super) async fn close(&self) {
        let tx = self
            .tx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        drop(tx);
        let task = self
            .task
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(task) = task
            && let Err(error) = task.await
        {
            tracing::error!(%error, "the settling task failed");
        }
    }
}

async fn record(
    store: Store,
    mut rx: mpsc::UnboundedReceiver<Done>,
    wake: Arc<Notify>,
    outstanding: Arc<AtomicUsize>,
) {
    let mut batch = Vec::new();
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let mut attempt = 1;
        loop {
            match store.delivered(&batch).await {
                Ok(()) => break,
                Err(error) if attempt < ATTEMPTS => {
                    tracing::warn!(error = %error_chain(&error), attempt, "cannot record deliveries; trying again");
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                    attempt += 1;
                }
                Err(error) => {
                    tracing::error!(
                        error = %error_chain(&error),
                        deliveries = batch.len(),
                        "cannot record deliveries; their claims expire and they are sent again"
                    );
                    break;
                }
            }
        }
        outstanding.fetch_sub(batch.len(), Ordering::SeqCst);
        batch.clear();
        wake.notify_one();
    }
}
