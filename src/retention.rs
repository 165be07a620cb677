//! `store.retention`: settled deliveries, the events left without any, and finished messages
//! are deleted once they are older than this, in small batches (the writer is shared with
//! deliveries), an hour apart. Pending deliveries are never deleted, whatever their age.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::dispatch::error_chain;
use crate::store::{Purged, Store, now_ms};

/// Rows deleted per statement.
const BATCH: i64 = 1_000;
/// The pause between batches, so that deliveries get the writer in between.
const BETWEEN_BATCHES: Duration = Duration::from_millis(50);
/// How often a pass runs.
const EVERY: Duration = Duration::from_secs(3_600);
/// The first pass, after startup settles.
const FIRST_AFTER: Duration = Duration::from_secs(60);

/// Purges what is older than `retention` every hour until `cancel`.
pub async fn run(store: Store, retention: Duration, cancel: CancellationToken) {
    let mut wait = FIRST_AFTER;
    loop {
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = cancel.cancelled() => return,
        }
        wait = EVERY;
        match pass(&store, retention, &cancel).await {
            Ok(total) if total != Purged::default() => tracing::info!(
                deliveries = total.deliveries,
                events = total.events,
                messages = total.messages,
                "purged what is older than store.retention"
            ),
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(error = %error_chain(&error), "cannot purge old records; trying again in an hour");
            }
        }
    }
}

/// One pass: batches until nothing older than `retention` is left (or `cancel`).
///
/// # Errors
/// The store.
pub async fn pass(
    store: &Store,
    retention: Duration,
    cancel: &CancellationToken,
) -> Result<Purged, crate::store::StoreError> {
    let cutoff = now_ms() - i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
    let mut total = Purged::default();
    while !cancel.is_cancelled() {
        let purged = store.purge_expired(cutoff, BATCH).await?;
        total.deliveries += purged.deliveries;
        total.events += purged.events;
        total.messages += purged.messages;
        if purged == Purged::default() {
            break;
        }
        tokio::time::sleep(BETWEEN_BATCHES).await;
    }
    Ok(total)
}
