//! One poller per source: poll, detect, commit, wake the sinks, sleep as the cadence says.
//!
//! A failed or malformed poll is logged and changes nothing: the stored state stays, the next
//! poll compares against it. Where several instances share a database, a lease makes sure one
//! of them polls each source.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::config::Backlog;
use crate::detect::{self, Tracked};
use crate::dispatch::error_chain;
use crate::outbox::Outbox;
use crate::sources::{Cadence, NextPoll, Source, SourceError};
use crate::store::Store;
use crate::telemetry::{self, PollOutcome};

/// Everything a poller needs besides its source.
#[derive(Debug, Clone)]
pub struct PollerContext {
    /// The source id (`[sources.<id>]`); prefixes match ids.
    pub source_id: String,
    /// Where state and events go.
    pub store: Store,
    /// Where a poll's events are queued for the sinks.
    pub outbox: Outbox,
    /// Whether a first poll notifies what already happened.
    pub backlog: Backlog,
    /// How long the polling lease lasts without renewal.
    pub lease_ttl: Duration,
    /// This process's name in leases.
    pub instance: String,
    /// Notified when a dead instance's leases were released: a standby poller tries at once.
    pub freed: Arc<Notify>,
    /// Notified to poll now (a pushed snapshot, a poll asked for over the API); heeded by the
    /// instance that holds the source's lease.
    pub wake: Arc<Notify>,
    /// Cancelled at shutdown.
    pub cancel: CancellationToken,
    /// Notified when the source has nothing more to give (a replay that ended).
    pub finished: Arc<Notify>,
    /// Where `/readyz` reads how this source's polls go.
    pub health: crate::telemetry::Sources,
}

type Start = Box<dyn FnOnce(PollerContext) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// A source ready to be polled.
pub struct PollerEntry {
    /// The source id.
    pub id: String,
    start: Start,
}

impl fmt::Debug for PollerEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PollerEntry")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl PollerEntry {
    /// A poller for `source`.
    pub fn new<S: Source>(id: &str, source: S, cadence: Cadence) -> Self {
        Self {
            id: id.to_owned(),
            start: Box::new(move |ctx| Box::pin(run(source, cadence, ctx))),
        }
    }

    /// The future of this source's poller.
    pub fn start(self, ctx: PollerContext) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        (self.start)(ctx)
    }
}

/// Longest wait after repeated failures.
const MAX_ERROR_BACKOFF: Duration = Duration::from_secs(300);

/// Polls `source` until cancelled or finished.
pub async fn run<S: Source>(source: S, cadence: Cadence, ctx: PollerContext) {
    let span = tracing::info_span!("source", source = %ctx.source_id);
    Poller {
        source,
        cadence,
        ctx,
        tracked: HashMap::new(),
        first_poll: true,
        loaded: false,
    }
    .run()
    .instrument(span)
    .await;
}

struct Poller<S> {
    source: S,
    cadence: Cadence,
    ctx: PollerContext,
    /// The stored state of each match, by qualified id.
    tracked: HashMap<String, Tracked>,
    /// Whether this source has never polled successfully (no row in `sources`).
    first_poll: bool,
    /// Whether `tracked` reflects the store (reloaded whenever the lease is (re)gained).
    loaded: bool,
}

impl<S: Source> Poller<S> {
    async fn run(mut self) {
        let lease = format!("poller:{}", self.ctx.source_id);
        let lease_ttl = self.ctx.lease_ttl;
        let mut failures: u32 = 0;
        loop {
            if self.ctx.cancel.is_cancelled() {
                break;
            }
            let delay = match self
                .ctx
                .store
                .acquire_lease(&lease, &self.ctx.instance, lease_ttl)
                .await
            {
                Ok(false) => {
                    self.ctx.health.standby(&self.ctx.source_id);
                    if self.loaded {
                        tracing::info!("another instance holds this source's lease; standing by");
                    }
                    self.loaded = false;
                    (lease_ttl / 3).min(Duration::from_secs(30))
                }
                Ok(true) => match self.poll_once().await {
                    Ok(Some(delay)) => {
                        failures = 0;
                        self.ctx.health.succeeded(&self.ctx.source_id, delay);
                        delay
                    }
                    Ok(None) => {
                        self.ctx.health.finished(&self.ctx.source_id);
                        tracing::info!("source finished");
                        self.ctx.finished.notify_one();
                        break;
                    }
                    Err(PollFailure::Cancelled) => break,
                    Err(PollFailure::Source(error)) => {
                        failures += 1;
                        self.ctx
                            .health
                            .failed(&self.ctx.source_id, error_chain(&error));
                        tracing::warn!(error = %error_chain(&error), failures, "poll failed; keeping the previous state");
                        error
                            .retry_after()
                            .unwrap_or_else(|| self.error_backoff(failures))
                    }
                    Err(PollFailure::Store(error)) => {
                        failures += 1;
                        self.ctx
                            .health
                            .failed(&self.ctx.source_id, error_chain(&error));
                        tracing::error!(error = %error_chain(&error), "cannot record the poll; it will be detected again");
                        self.loaded = false;
                        self.error_backoff(failures)
                    }
                },
                Err(error) => {
                    failures += 1;
                    tracing::error!(error = %error_chain(&error), "cannot reach the store");
                    self.error_backoff(failures)
                }
            };
            if !sleep_holding_lease(&self.ctx, delay, &lease, self.loaded).await {
                break;
            }
        }
        if let Err(error) = self
            .ctx
            .store
            .release_lease(&lease, &self.ctx.instance)
            .await
        {
            tracing::warn!(error = %error_chain(&error), "cannot release the poller lease");
        }
    }

    /// The wait after `failures` failed polls in a row: doubling from the live interval, and
    /// never longer than the idle one (nor [`MAX_ERROR_BACKOFF`]): a provider that comes back
    /// is polled again at most one idle interval later.
    fn error_backoff(&self, failures: u32) -> Duration {
        let base = self.cadence.interval_live;
        let longest = self.cadence.interval_idle.max(base).min(MAX_ERROR_BACKOFF);
        base.saturating_mul(2_u32.saturating_pow(failures.min(10)))
            .min(longest)
    }

    async fn load(&mut self) -> Result<(), crate::store::StoreError> {
        let cursor = self.ctx.store.source_cursor(&self.ctx.source_id).await?;
        self.first_poll = cursor.is_none();
        if let Some(Some(cursor)) = &cursor {
            self.source.resume(cursor);
        }
        self.tracked = self
            .ctx
            .store
            .tracked(&self.ctx.source_id)
            .await?
            .into_iter()
            .map(|t| (t.state.id.clone(), t))
            .collect();
        self.loaded = true;
        Ok(())
    }

    /// One poll. `Ok(Some(delay))` to go on, `Ok(None)` when the source is done.
    async fn poll_once(&mut self) -> Result<Option<Duration>, PollFailure> {
        if !self.loaded {
            self.ctx
                .health
                .polling(&self.ctx.source_id, self.cadence.interval_live);
            self.load().await.map_err(PollFailure::Store)?;
        }
        let started = std::time::Instant::now();
        let poll = tokio::select! {
            poll = self.source.poll() => poll,
            () = self.ctx.cancel.cancelled() => return Err(PollFailure::Cancelled),
        };
        let fetched_in = started.elapsed();
        let poll = poll.map_err(|error| {
            let outcome = if error.retry_after().is_some() {
                PollOutcome::RateLimited
            } else {
                PollOutcome::Failed
            };
            telemetry::poll(&self.ctx.source_id, outcome, fetched_in, None);
            PollFailure::Source(error)
        })?;
        let skip_backlog =
            self.first_poll && self.ctx.backlog == Backlog::Skip && self.source.has_backlog();
        let mut changed = Vec::new();
        let mut events = Vec::new();
        for mut state in poll.snapshot.matches.iter().cloned() {
            state.id = format!("{}:{}", self.ctx.source_id, state.id);
            let prev = self.tracked.get(&state.id);
            let (next, new_events) = detect::detect(prev, state);
            if prev != Some(&next) {
                changed.push(next);
            }
            events.extend(new_events);
        }
        if skip_backlog && !events.is_empty() {
            tracing::info!(
                events = events.len(),
                "first poll of this source: recording what already happened without notifying it"
            );
        }
        let committed = self
            .ctx
            .outbox
            .commit_poll(crate::outbox::Poll {
                source: &self.ctx.source_id,
                cursor: poll.cursor.as_deref(),
                changed: &changed,
                events: &events,
                deliver: !skip_backlog,
            })
            .await
            .map_err(|error| {
                telemetry::poll(&self.ctx.source_id, PollOutcome::Failed, fetched_in, None);
                PollFailure::Store(error)
            })?;
        telemetry::poll(
            &self.ctx.source_id,
            PollOutcome::Ok,
            fetched_in,
            Some(started.elapsed()),
        );
        // Events this source had first (a commit may also release another source's).
        let first = committed
            .new_events
            .iter()
            .filter(|e| {
                e.match_id
                    .as_deref()
                    .is_none_or(|m| crate::fusion::first_source(&e.id, m) == self.ctx.source_id)
            })
            .count();
        telemetry::fusion(&self.ctx.source_id, first, &committed.lags_ms);
        for tracked in changed {
            self.tracked.insert(tracked.state.id.clone(), tracked);
        }
        self.first_poll = false;
        for event in &committed.new_events {
            tracing::info!(event_id = %event.id, kind = %event.kind, match_id = event.match_id.as_deref().unwrap_or(""), "event");
        }
        let mut cadence = self.cadence.delay(&poll.snapshot, Some(unix_now()));
        if cadence < self.cadence.interval_break && self.source.spends_quota() {
            match self.ctx.store.carried_elsewhere(&self.ctx.source_id).await {
                Ok(true) => {
                    tracing::debug!(
                        "another source carries these matches; polling at the break pace to keep the quota"
                    );
                    cadence = self.cadence.interval_break;
                }
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(error = %crate::dispatch::error_chain(&error), "cannot tell whether another source carries these matches")
                }
            }
        }
        Ok(match poll.next {
            NextPoll::Cadence => Some(cadence),
            NextPoll::NotBefore(at_least) => Some(cadence.max(at_least)),
            NextPoll::After(exactly) => Some(exactly),
            NextPoll::Done => None,
        })
    }
}

/// Sleeps `delay`, renewing the lease every third of its life so a long idle interval
/// does not hand the source to another instance. Returns `false` when cancelled.
async fn sleep_holding_lease(
    ctx: &PollerContext,
    delay: Duration,
    lease: &str,
    holding: bool,
) -> bool {
    let until = tokio::time::Instant::now() + delay;
    let renew_every = ctx.lease_ttl / 3;
    loop {
        let now = tokio::time::Instant::now();
        if now >= until {
            return true;
        }
        let chunk = (until - now).min(renew_every);
        tokio::select! {
            () = tokio::time::sleep(chunk) => {}
            () = ctx.cancel.cancelled() => return false,
            () = ctx.freed.notified(), if !holding => return true,
            () = ctx.wake.notified(), if holding => return true,
        }
        if holding
            && tokio::time::Instant::now() < until
            && let Err(error) = ctx
                .store
                .acquire_lease(lease, &ctx.instance, ctx.lease_ttl)
                .await
        {
            tracing::warn!(error = %error_chain(&error), "cannot renew the poller lease");
        }
    }
}

enum PollFailure {
    Cancelled,
    Source(SourceError),
    Store(crate::store::StoreError),
}

fn unix_now() -> i64 {
    crate::store::now_ms() / 1000
}
