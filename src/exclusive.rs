//! Work that must run once across every instance sharing the store: each runs on the holder
//! of a lease, and another instance starts it when the holder stops or dies. Sink tasks
//! (Telegram's long polling: two readers of one bot would each get, and answer, the same
//! commands) and the delivery of each point-to-point sink (one sender keeps every
//! recipient's order and the platform's rate limits without a claim on every delivery).

use std::sync::Arc;
use std::time::Duration;

use sink_api::plugin::Task;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::dispatch::error_chain;
use crate::store::Store;

/// Who runs what, and for how long a lease holds without renewal.
#[derive(Debug, Clone)]
pub struct Lease {
    /// The store holding the leases.
    pub store: Store,
    /// This process's name in leases.
    pub instance: String,
    /// How long a lease lasts unless renewed (renewed every third of it).
    pub ttl: Duration,
    /// Notified when a dead instance's leases were released: standbys try at once.
    pub freed: Arc<Notify>,
}

/// Runs `task` whenever this instance holds lease `name`, until `stop` or until the task
/// returns (it finished its work, as a registration does). A lease lost (this instance was
/// silent too long and another took over) stops the task; it is started again when the lease
/// comes back.
pub async fn run(lease: Lease, name: String, task: Task, stop: CancellationToken) {
    let standby = (lease.ttl / 3).min(Duration::from_secs(30));
    loop {
        match lease
            .store
            .acquire_lease(&name, &lease.instance, lease.ttl)
            .await
        {
            Ok(true) => {
                let finished = hold(&lease, &name, &task, &stop).await;
                if let Err(error) = lease.store.release_lease(&name, &lease.instance).await {
                    tracing::warn!(error = %error_chain(&error), lease = %name, "cannot release a lease");
                }
                if finished {
                    return;
                }
            }
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(error = %error_chain(&error), lease = %name, "cannot take a lease");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(standby) => {}
            () = lease.freed.notified() => {}
            () = stop.cancelled() => return,
        }
    }
}

/// Runs the task while renewing the lease, also while it winds down after `stop` (a sink
/// worker finishing its deliveries). Returns whether it is over for good (the task returned,
/// or `stop`), `false` when the lease was lost.
async fn hold(lease: &Lease, name: &str, task: &Task, stop: &CancellationToken) -> bool {
    let inner = stop.child_token();
    let mut running = tokio::spawn(task(inner.clone()));
    let mut renew = tokio::time::interval(lease.ttl / 3);
    renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    renew.tick().await;
    let mut renewed = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = &mut running => return true,
            _ = renew.tick() => {}
        }
        let held = match lease
            .store
            .acquire_lease(name, &lease.instance, lease.ttl)
            .await
        {
            Ok(held) => held,
            Err(error) => {
                tracing::warn!(error = %error_chain(&error), lease = %name, "cannot renew a lease");
                // Still ours until it expires.
                renewed.elapsed() < lease.ttl
            }
        };
        if held {
            renewed = tokio::time::Instant::now();
            continue;
        }
        tracing::warn!(lease = %name, "lost a lease to another instance; stopping its task");
        inner.cancel();
        let _stopped = running.await;
        return false;
    }
}
