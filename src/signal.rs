//! Wake-ups: which sink workers and broadcast followers should look at the outbox now.
//!
//! In one process a commit wakes the sinks it queued for directly. Across instances sharing
//! PostgreSQL, the committing transaction also sends `NOTIFY` on [`CHANNEL`] with the sinks
//! it queued for (delivered at commit, so only committed rows wake anyone), and every
//! instance [`listen`]s: new rows wake the others at once, with no polling. When the listening
//! connection drops, it reconnects and wakes every sink once, a catch-up read for whatever
//! was committed in the gap. A slow [`sweep`] wakes sinks whose retries came due on another
//! instance, and the followers (in case a notification was lost
//! without the connection noticing).

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::dispatch::error_chain;
use crate::relay::{self, StoreRelay};
use crate::store::{Store, now_ms};

/// The PostgreSQL notification channel of new outbox rows; the payload is a JSON array of
/// sink ids.
pub const CHANNEL: &str = "herald_outbox";

/// The wake-up id of the messages scheduler (not a sink id: those cannot start with `#`):
/// a message scheduled on one instance wakes the schedulers of the others.
pub const MESSAGES: &str = "#messages";

/// The wake-up id of the poller of source `source` (not a sink id: those cannot start with
/// `#`): a snapshot pushed to, or a poll asked of, one instance wakes the instance that polls.
pub fn poll_waker(source: &str) -> String {
    format!("{POLL_PREFIX}{source}")
}

/// What starts the wake-up id of every poller.
const POLL_PREFIX: &str = "#poll:";

/// The `application_name` of the listening connection (`pg_stat_activity` shows it).
pub const LISTENER_NAME: &str = "herald-listener";

/// How often the sweep looks: each sweep is one query, plus one per broadcast sink.
pub const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// The payload naming `sinks`.
pub fn payload<'a>(sinks: impl IntoIterator<Item = &'a str>) -> String {
    serde_json::to_string(&sinks.into_iter().collect::<Vec<_>>()).unwrap_or_default()
}

/// The wake-up of every sink of this instance, by sink id (and of the scheduler and the
/// pollers, by their `#` ids); cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Wakers {
    by_sink: Arc<BTreeMap<String, Arc<Notify>>>,
}

impl Wakers {
    /// One wake-up per sink id.
    pub fn new(ids: impl IntoIterator<Item = String>) -> Self {
        Self {
            by_sink: Arc::new(
                ids.into_iter()
                    .map(|id| (id, Arc::new(Notify::new())))
                    .collect(),
            ),
        }
    }

    /// The wake-up of sink `id`.
    pub fn get(&self, id: &str) -> Option<Arc<Notify>> {
        self.by_sink.get(id).cloned()
    }

    /// Wakes the named sinks (unknown ids are ignored: another instance may run more).
    pub fn wake<'a>(&self, sinks: impl IntoIterator<Item = &'a str>) {
        for sink in sinks {
            if let Some(wake) = self.by_sink.get(sink) {
                wake.notify_one();
            }
        }
    }

    /// Wakes every sink and the scheduler, for a catch-up read; not the pollers (a poll of a
    /// metered source costs quota; pushed snapshots are read at least every
    /// [`crate::sources::push::READ_EVERY`] anyway).
    pub fn wake_all(&self) {
        for (id, wake) in self.by_sink.iter() {
            if !id.starts_with(POLL_PREFIX) {
                wake.notify_one();
            }
        }
    }
}

/// Listens for other instances' commits on PostgreSQL at `url` until `cancel`, waking the
/// sinks they name, and hands their relayed messages to `relay`. Reconnects with backoff
/// whenever the connection fails, and wakes every sink after each (re)connection so that
/// nothing committed in between is missed.
pub async fn listen(
    url: String,
    wakers: Wakers,
    relay: Arc<StoreRelay>,
    cancel: CancellationToken,
) {
    let mut failures: u32 = 0;
    loop {
        let connected = tokio::select! {
            connected = connect(&url) => connected,
            () = cancel.cancelled() => return,
        };
        match connected {
            Ok(mut listener) => {
                if failures > 0 {
                    tracing::info!("listening for other instances again; catching up");
                }
                failures = 0;
                wakers.wake_all();
                loop {
                    let next = tokio::select! {
                        next = listener.try_recv() => next,
                        () = cancel.cancelled() => return,
                    };
                    match next {
                        Ok(Some(notification)) if notification.channel() == relay::CHANNEL => {
                            relay.received(notification.payload());
                        }
                        Ok(Some(notification)) => {
                            let sinks: Vec<String> =
                                serde_json::from_str(notification.payload()).unwrap_or_default();
                            wakers.wake(sinks.iter().map(String::as_str));
                        }
                        Ok(None) => {
                            // sqlx has reconnected and listens again.
                            tracing::warn!(
                                "the listening connection dropped and was restored; catching up"
                            );
                            wakers.wake_all();
                        }
                        Err(error) => {
                            tracing::warn!(error = %error_chain(&error), "the listening connection failed");
                            break;
                        }
                    }
                }
            }
            Err(error) => {
                tracing::warn!(error = %error_chain(&error), "cannot listen for other instances; sinks rely on the sweep until it works");
            }
        }
        failures += 1;
        let wait = Duration::from_millis(200 * 2_u64.saturating_pow(failures.min(6)));
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = cancel.cancelled() => return,
        }
    }
}

/// A listening connection of its own (it sits in `LISTEN`, it cannot serve queries).
async fn connect(url: &str) -> Result<PgListener, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?.application_name(LISTENER_NAME);
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await?;
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.listen_all([CHANNEL, relay::CHANNEL]).await?;
    Ok(listener)
}

/// Every [`SWEEP_EVERY`] until `cancel`: wakes the sinks that have due deliveries nobody
/// holds, and every sink in `followers`.
pub async fn sweep(
    store: Store,
    wakers: Wakers,
    followers: Vec<String>,
    cancel: CancellationToken,
) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is immediate; startup already woke everything.
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = cancel.cancelled() => return,
        }
        wakers.wake(followers.iter().map(String::as_str));
        match store.due_sinks().await {
            Ok(due) => {
                let now = now_ms();
                wakers.wake(
                    due.iter()
                        .filter(|(_, at)| *at <= now)
                        .map(|(sink, _)| sink.as_str()),
                );
            }
            Err(error) => {
                tracing::warn!(error = %error_chain(&error), "cannot look for due deliveries");
            }
        }
    }
}
