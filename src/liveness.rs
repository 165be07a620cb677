//! Instance liveness: this process heartbeats in the store, and takes over the work of
//! instances that stopped heartbeating (a `kill -9`, a lost host): their leases (on sources,
//! on delivering sinks, on command readers) are released within `store.instance_timeout`
//! instead of after `store.lease_ttl`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::dispatch::error_chain;
use crate::signal::Wakers;
use crate::store::{Backend, Reaped, Store, StoreError};

/// This instance's place among the instances sharing the store.
#[derive(Debug, Clone)]
pub struct Liveness {
    store: Store,
    instance: String,
    heartbeat: Duration,
    timeout: Duration,
    freed: Arc<Notify>,
}

impl Liveness {
    /// Registers `instance` in the store and releases what dead instances left: on SQLite
    /// (one process per file) everything left by earlier runs, on PostgreSQL what instances
    /// that stopped heartbeating held.
    ///
    /// # Errors
    /// Database errors.
    pub async fn start(
        store: Store,
        instance: String,
        heartbeat: Duration,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        let reaped = match store.backend() {
            Backend::Sqlite => {
                let reaped = store.reset_single_owner().await?;
                store.heartbeat(&instance).await?;
                reaped
            }
            Backend::Postgres => {
                store.heartbeat(&instance).await?;
                store.reap_dead_instances(timeout, true).await?
            }
        };
        log_reaped(reaped);
        Ok(Self {
            store,
            instance,
            heartbeat,
            timeout,
            freed: Arc::new(Notify::new()),
        })
    }

    /// This process's name in leases.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Notified whenever a dead instance's leases were released: standby pollers and sink
    /// workers try again at once.
    pub fn freed(&self) -> Arc<Notify> {
        Arc::clone(&self.freed)
    }

    /// Heartbeats and reaps until `cancel` ([`Liveness::stop`] deregisters, once the leases
    /// are given back); `wakers` are woken when a dead instance's work is
    /// released. On SQLite there is nobody else to watch: it only waits.
    pub async fn run(self, wakers: Wakers, cancel: CancellationToken) {
        if self.store.backend() == Backend::Sqlite {
            cancel.cancelled().await;
            return;
        }
        let mut tick = tokio::time::interval(self.heartbeat);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = cancel.cancelled() => break,
            }
            // One statement per beat while every instance is alive.
            let overdue = match self.store.beat(&self.instance, self.timeout).await {
                Ok((true, overdue)) => overdue,
                Ok((false, overdue)) => {
                    tracing::warn!(
                        "this instance was silent for longer than store.instance_timeout and \
                         another took its work over; deliveries in flight may be sent twice"
                    );
                    if let Err(error) = self.store.heartbeat(&self.instance).await {
                        tracing::warn!(error = %error_chain(&error), "cannot register again");
                    }
                    overdue
                }
                Err(error) => {
                    tracing::warn!(error = %error_chain(&error), "cannot record the heartbeat");
                    continue;
                }
            };
            if !overdue {
                continue;
            }
            match self.store.reap_dead_instances(self.timeout, false).await {
                Ok(reaped) if reaped.any() => {
                    log_reaped(reaped);
                    self.freed.notify_waiters();
                    wakers.wake_all();
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(error = %error_chain(&error), "cannot check other instances");
                }
            }
        }
    }

    /// Forgets this instance (at shutdown, after its leases were given back).
    pub async fn stop(&self) {
        if let Err(error) = self.store.deregister(&self.instance).await {
            tracing::warn!(error = %error_chain(&error), "cannot deregister this instance");
        }
    }
}

fn log_reaped(reaped: Reaped) {
    if reaped.any() {
        tracing::info!(
            instances = reaped.instances,
            claims = reaped.claims,
            leases = reaped.leases,
            "took over the work of instances that stopped"
        );
    }
}
