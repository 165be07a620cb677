//! Sends scheduled messages when they are due. Every instance runs one: it sleeps until the
//! next message is due (or a minute, to notice one scheduled by hand in the database), is
//! woken at once when a message is scheduled (here, or on another instance through
//! PostgreSQL `NOTIFY`), and releases what is due. A message is released once whichever
//! instance gets there first (see `Store::release_message`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::Messages;
use crate::dispatch::error_chain;
use crate::store::now_ms;

/// The longest sleep: an idle instance looks at the schedule once a minute (one query).
const LONGEST_SLEEP: Duration = Duration::from_secs(60);
/// The wait after the store failed.
const AFTER_FAILURE: Duration = Duration::from_secs(1);

/// Runs until `cancel`.
pub async fn run(messages: Messages, wake: Arc<Notify>, cancel: CancellationToken) {
    loop {
        let wait = match next_wait(&messages).await {
            Ok(wait) => wait,
            Err(error) => {
                tracing::warn!(error = %error_chain(&error), "cannot send scheduled messages; trying again");
                AFTER_FAILURE
            }
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = wake.notified() => {}
            () = cancel.cancelled() => return,
        }
    }
}

/// Releases what is due, and returns how long to sleep until the next one. Idle, this is
/// one query.
async fn next_wait(messages: &Messages) -> Result<Duration, crate::store::StoreError> {
    loop {
        let Some(at) = messages.store.next_due_message().await? else {
            return Ok(LONGEST_SLEEP);
        };
        let ms = at - now_ms();
        if ms > 0 {
            let ms = u64::try_from(ms).unwrap_or(u64::MAX);
            return Ok(Duration::from_millis(ms).min(LONGEST_SLEEP));
        }
        if messages.release_due().await? == 0 {
            // Due by this clock, but not released: another instance has it in hand, or our
            // clock runs ahead of the store's. Look again shortly, never in a busy loop.
            return Ok(Duration::from_millis(50));
        }
    }
}
