//! Records successful deliveries in batches: one statement for many, so that settling costs
//! a round trip per batch, not per delivery.
//!
//! A delivery stays in hand until it is recorded, so the next delivery of the same recipient
//! is not taken before it: per-recipient order holds. A crash before a batch is recorded
//! sends its deliveries again (at least once, never lost); batches are written as soon as the
//! previous one is, so that window is one statement long. A batch the store refuses is tried
//! again, its recipients waiting, until it is recorded or the worker stops.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use super::held::Held;
use crate::dispatch::error_chain;
use crate::store::Store;

/// Most deliveries recorded by one batch.
const MAX_BATCH: usize = 1_000;
/// Attempts at recording a batch once the worker is stopping, before it is left unrecorded
/// (sent again by the next holder of the sink).
const ATTEMPTS_WHEN_STOPPING: u32 = 3;
/// Longest wait between attempts at recording a batch.
const MAX_WAIT: Duration = Duration::from_secs(5);

/// A delivery done: its outbox id and the platform's message id.
type Done = (i64, Option<String>);

/// The handle delivery tasks report successes to.
pub(super) struct Settler {
    /// Successes reported and not recorded yet.
    outstanding: Arc<AtomicUsize>,
    /// Batches recorded (or given up) so far.
    batches: Arc<AtomicU64>,
    /// Notified after each batch.
    recorded: Arc<Notify>,
    tx: std::sync::Mutex<Option<mpsc::UnboundedSender<Done>>>,
    task: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Settler {
    /// Starts recording into `store`, letting each recorded delivery go from `held`; `wake`
    /// is notified after each batch (the next deliveries of those recipients are due now).
    pub(super) fn spawn(store: Store, wake: Arc<Notify>, held: Held) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let outstanding = Arc::new(AtomicUsize::new(0));
        let batches = Arc::new(AtomicU64::new(0));
        let recorded = Arc::new(Notify::new());
        let task = tokio::spawn(record(
            store,
            rx,
            Recorded {
                wake,
                held,
                outstanding: Arc::clone(&outstanding),
                batches: Arc::clone(&batches),
                recorded: Arc::clone(&recorded),
            },
        ));
        Self {
            outstanding,
            batches,
            recorded,
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
            tracing::error!(id, "delivered after the worker stopped; it is sent again");
        }
    }

    /// Whether every reported success is recorded (the recipients' next deliveries are due).
    pub(super) fn idle(&self) -> bool {
        self.outstanding.load(Ordering::SeqCst) == 0
    }

    /// How many batches have been recorded (or given up) so far.
    pub(super) fn batches(&self) -> u64 {
        self.batches.load(Ordering::SeqCst)
    }

    /// Waits until every success reported so far is recorded.
    pub(super) async fn flush(&self) {
        loop {
            let recorded = self.recorded.notified();
            if self.idle() {
                return;
            }
            recorded.await;
        }
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

/// Who hears of a recorded batch.
struct Recorded {
    /// The worker: the recipients' next deliveries are due.
    wake: Arc<Notify>,
    /// The deliveries in hand: these are no longer.
    held: Held,
    /// Successes reported and not recorded yet.
    outstanding: Arc<AtomicUsize>,
    /// [`Settler::batches`].
    batches: Arc<AtomicU64>,
    /// [`Settler::flush`].
    recorded: Arc<Notify>,
}

async fn record(store: Store, mut rx: mpsc::UnboundedReceiver<Done>, after: Recorded) {
    let mut batch = Vec::new();
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // Let the deliveries finishing right now report: they join this batch.
        tokio::task::yield_now().await;
        while batch.len() < MAX_BATCH
            && let Ok(done) = rx.try_recv()
        {
            batch.push(done);
        }
        let mut attempt: u32 = 1;
        loop {
            match store.delivered(&batch).await {
                Ok(()) => break,
                Err(error) if !rx.is_closed() || attempt < ATTEMPTS_WHEN_STOPPING => {
                    tracing::warn!(error = %error_chain(&error), attempt, "cannot record deliveries; trying again");
                    let wait = Duration::from_millis(100 * u64::from(attempt.min(50)));
                    tokio::time::sleep(wait.min(MAX_WAIT)).await;
                    attempt += 1;
                }
                Err(error) => {
                    tracing::error!(
                        error = %error_chain(&error),
                        deliveries = batch.len(),
                        "cannot record deliveries; they will be sent again"
                    );
                    break;
                }
            }
        }
        after.held.release(batch.iter().map(|(id, _)| *id));
        after.batches.fetch_add(1, Ordering::SeqCst);
        after.outstanding.fetch_sub(batch.len(), Ordering::SeqCst);
        batch.clear();
        after.recorded.notify_waiters();
        after.wake.notify_one();
    }
}
