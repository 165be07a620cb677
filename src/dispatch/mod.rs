//! Delivery to point-to-point sinks: one worker per sink instance reads its queue from the
//! outbox in batches and calls the sink; successes are recorded in batches by the settler.
//! (Broadcast sinks are followed instead: [`crate::broadcast`].)
//!
//! With instances sharing PostgreSQL, one of them at a time delivers a sink: the holder of
//! the sink's lease (`deliver:<sink id>`); the others stand by and take over when it stops or
//! dies. One sender per sink keeps every recipient's order and the platform's rate limits
//! (Telegram's 30 messages/s are the bot's, whatever the number of instances) without a claim
//! written to each delivery: what the worker has in hand it knows itself (`held`). A dead
//! holder's unrecorded deliveries are sent again by the next one: at least once, never lost.
//!
//! The worker owns every policy so that sinks only speak their platform:
//! - **order**: only the head of each recipient's queue is taken, and one delivery per
//!   recipient is in flight; different recipients proceed in parallel;
//! - **limits**: the sink's declared rates are waited for before each send;
//! - **time**: each send is bounded by `send_timeout`, so a hanging platform becomes a retry,
//!   never a stuck worker; every sink has its own worker, so one sink never delays another;
//! - **retries**: transient failures back off exponentially with jitter, `RateLimited` waits
//!   as long as the platform asked, permanent failures become dead letters, and a recipient
//!   the platform says is gone has its subscriptions paused;
//! - **shutdown**: on drain the worker finishes what is due, then exits; what it could not
//!   finish stays in the outbox for the next start.

mod held;
mod limiters;
mod modes;
mod settle;
mod texts;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
pub use sink_api::error_chain;
use sink_api::{Notification, Receipt, Replaces, Sink, SinkError};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use held::Held;
use limiters::Limiters;
use settle::Settler;
use texts::Texts;

use crate::config::DispatchConfig;
use crate::render::Renderer;
use crate::store::{Next, Queued, Store, StoreError};
use crate::telemetry::{self, Outcome};

/// Longest run of one recipient's queue taken at once.
const MAX_RUN: usize = 256;

/// With deliveries in flight, the outbox is read again only once at least this share of
/// `max_in_flight` is free: reads go in batches, not one statement per finished delivery.
const REFILL_AT: usize = 4;

/// Everything a worker needs besides its sink.
#[derive(Debug, Clone)]
pub struct WorkerContext {
    /// The sink instance id (`[sinks.<id>]`).
    pub sink_id: String,
    /// The outbox.
    pub store: Store,
    /// Templates.
    pub renderer: Arc<Renderer>,
    /// Retry and timeout policy.
    pub config: DispatchConfig,
    /// This process's name in leases.
    pub instance: String,
    /// Notified when deliveries may be due for this sink: queued here or on another
    /// instance, settled (the next of a recipient's queue moves up), released, or swept.
    pub wake: Arc<Notify>,
    /// Cancelled at shutdown: finish what is due, then stop.
    pub drain: CancellationToken,
    /// Broadcast sinks: the newest outbox id their history already holds (where their
    /// follower starts). Unused by point-to-point sinks.
    pub served_up_to: i64,
    /// Point-to-point sinks with instances sharing the store (PostgreSQL): the lease under
    /// which one instance at a time delivers the sink. `None`: this instance alone (SQLite).
    pub lease: Option<crate::exclusive::Lease>,
    /// The wall clock quiet hours are read against.
    pub clock: crate::clock::Clock,
}

/// Runs the worker of one sink instance until it is drained.
pub async fn run<S: Sink>(sink: S, ctx: WorkerContext) {
    let span = tracing::info_span!("sink", sink = %ctx.sink_id, kind = S::KIND);
    async move {
        match tokio::time::timeout(ctx.config.send_timeout, sink.healthcheck()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(
                error = %error_chain(&error),
                "healthcheck failed; deliveries will be retried"
            ),
            Err(_) => tracing::warn!("healthcheck timed out; deliveries will be retried"),
        }
        let limits = sink.limits();
        // A recipient with its own rate limit is slow by design: take its deliveries one at a
        // time, so that a run does not wait there while others could go. Where the platform
        // charges per message, what is queued goes merged: one message for the run.
        let max_run = if sink.merges() {
            modes::MAX_SHAPED
        } else if limits.per_recipient.is_empty() {
            MAX_RUN
        } else {
            1
        };
        let held = Held::default();
        let settler = Settler::spawn(ctx.store.clone(), Arc::clone(&ctx.wake), held.clone());
        let lease = ctx.lease.clone();
        let shared = Arc::new(Shared {
            limiters: Limiters::new(&limits),
            daily_cap: limits.daily_per_recipient,
            sink,
            ctx,
            max_run,
            refusals: std::sync::Mutex::new(HashMap::new()),
            settler,
            held,
            retry_at: std::sync::Mutex::new(None),
            texts: Texts::default(),
        });
        match lease {
            // Instances sharing the store: one of them delivers this sink at a time.
            Some(lease) => {
                let name = format!("deliver:{}", shared.ctx.sink_id);
                let worker = Arc::clone(&shared);
                let span = tracing::Span::current();
                let task: sink_api::plugin::Task = Arc::new(move |lost| {
                    Box::pin(worker_loop(Arc::clone(&worker), lost).instrument(span.clone()))
                });
                crate::exclusive::run(lease, name, task, shared.ctx.drain.clone()).await;
            }
            None => worker_loop(Arc::clone(&shared), CancellationToken::new()).await,
        }
        // Whatever was delivered is recorded before the worker ends.
        shared.settler.close().await;
        tracing::debug!("worker stopped");
    }
    .instrument(span)
    .await;
}

struct Shared<S> {
    sink: S,
    ctx: WorkerContext,
    limiters: Limiters,
    /// At most this many deliveries per recipient in 24 hours.
    daily_cap: Option<std::num::NonZeroU32>,
    /// Longest run of one recipient's queue sent at once (see `deliver_run`).
    max_run: usize,
    /// Permanent platform failures in a row, per recipient, since its last success.
    refusals: std::sync::Mutex<HashMap<String, u32>>,
    /// Where successful deliveries are recorded, in batches.
    settler: Settler,
    /// The deliveries handed out and not recorded yet.
    held: Held,
    /// The earliest retry this worker scheduled that it has not looked for yet.
    retry_at: std::sync::Mutex<Option<tokio::time::Instant>>,
    /// Notifications rendered for the events being delivered.
    texts: Texts,
}

/// Delivers until drained, or until `lost` is cancelled: the sink's lease went to another
/// instance (deliveries in flight are stopped at once, the new holder sends what was not
/// recorded), or the worker is being drained (`lost` is cancelled with `ctx.drain`).
async fn worker_loop<S: Sink>(shared: Arc<Shared<S>>, lost: CancellationToken) {
    let ctx = &shared.ctx;
    let mut in_flight: JoinSet<()> = JoinSet::new();
    let mut deadline: Option<tokio::time::Instant> = None;
    // Where the next read starts in the queue (see `fill`).
    let mut floor = 0;
    let refill_room = (ctx.config.max_in_flight / REFILL_AT).max(1);
    // Whether the outbox may hold due deliveries this worker has not taken: set by a wake,
    // a retry coming due, or a batch that came back full.
    let mut woken = true;
    // The settler's batch count when the last read started: a batch recorded after it may
    // have moved a recipient's queue on that the read still saw as busy.
    let mut read_after = shared.settler.batches();
    loop {
        // Finished deliveries free their room before it is counted.
        while let Some(done) = in_flight.try_join_next() {
            ended(done);
        }
        let draining = deadline.is_some();
        // Sent and not yet recorded counts too, beyond a batch's worth: while the store is
        // slower to record than the platform to take, the worker waits for the settler (which
        // wakes it) instead of reading ever more of the queue past what it holds.
        let unrecorded = shared.held.len().saturating_sub(ctx.config.max_in_flight);
        let room = ctx
            .config
            .max_in_flight
            .saturating_sub(in_flight.len().max(unrecorded));
        if woken && room > 0 && (in_flight.is_empty() || room >= refill_room) {
            read_after = shared.settler.batches();
            woken = match fill(&shared, &mut in_flight, &mut floor, room).await {
                Ok(started) => started == room,
                Err(error) => {
                    tracing::error!(error = %error_chain(&error), "cannot read the outbox; trying again in a second");
                    shared.retry_in(Duration::from_secs(1));
                    false
                }
            };
            continue;
        }
        // Done draining once nothing is due, in flight or waiting to be recorded (recording
        // moves a recipient's queue on, and wakes this loop), and the last read saw every
        // recording: one that landed while it ran is read again first.
        if draining && !woken && in_flight.is_empty() && shared.settler.idle() {
            if shared.settler.batches() == read_after {
                break;
            }
            woken = true;
            continue;
        }
        let retry_at = shared.take_retry_at();
        tokio::select! {
            Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                ended(done);
                // A run ended: what it left (a dead letter, a retry, a tail let go) moved its
                // recipient's queue on. (Successes wake when the settler has recorded them.)
                woken = true;
            }
            () = ctx.wake.notified() => woken = true,
            () = sleep_until(retry_at) => woken = true,
            // Cancelled with the drain too: draining wins (it may be seen first, or alone).
            () = lost.cancelled(), if !draining && !ctx.drain.is_cancelled() => {
                if !ctx.drain.is_cancelled() {
                    tracing::warn!(left = in_flight.len(), "another instance delivers this sink now; stopping deliveries in flight");
                    in_flight.abort_all();
                    break;
                }
            }
            () = ctx.drain.cancelled(), if !draining => {
                deadline = Some(tokio::time::Instant::now() + ctx.config.shutdown_grace);
                woken = true;
            }
            () = sleep_until(deadline), if draining => {
                tracing::warn!(left = in_flight.len(), "shutdown grace period over; stopping deliveries in flight");
                in_flight.abort_all();
                break;
            }
        }
        if let Some(at) = retry_at
            && at > tokio::time::Instant::now()
        {
            // Not fired yet: keep it for the next wait.
            shared.retry_after_instant(at);
        }
    }
    while let Some(done) = in_flight.join_next().await {
        ended(done);
    }
    // What was delivered is recorded before another holder reads the queue.
    shared.settler.flush().await;
    let left = shared.held.len();
    if left > 0 {
        tracing::info!(left, "left unfinished deliveries queued");
    }
}

/// Logs a delivery task that panicked (what it held is let go: it is sent again).
fn ended(done: Result<(), tokio::task::JoinError>) {
    if let Err(error) = done
        && error.is_panic()
    {
        tracing::error!(%error, "a delivery task panicked; its delivery will be retried");
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Takes the due heads of up to `room` recipients, with what is queued behind them for
/// sinks that send runs, and starts one delivery task per recipient. Returns how many started.
async fn fill<S: Sink>(
    shared: &Arc<Shared<S>>,
    in_flight: &mut JoinSet<()>,
    floor: &mut i64,
    room: usize,
) -> Result<usize, StoreError> {
    let ctx = &shared.ctx;
    if room == 0 {
        return Ok(0);
    }
    let (held, sending) = shared.held.snapshot();
    let batch = ctx
        .store
        .next(&Next {
            sink: &ctx.sink_id,
            after: *floor,
            recipients: room,
            run: shared.max_run,
            held: &held,
            sending: &sending,
        })
        .await?;
    let started = batch.runs.len();
    // While the queue drains in full batches, the next read starts at its first pending row,
    // not at every row delivered before it; otherwise at the start, so that a row committed
    // late below that point (or a dead letter queued again) is not left behind.
    *floor = if started == room {
        batch.first_pending.map_or(0, |id| id - 1)
    } else {
        0
    };
    let recipients: Vec<&str> = batch
        .runs
        .iter()
        .map(|run| run[0].recipient.as_str())
        .collect();
    let mut prefs = ctx.store.prefs_of(&ctx.sink_id, &recipients).await?;
    for run in batch.runs {
        let hand = shared
            .held
            .take(run.iter().map(|q| (q.id, q.recipient.as_str())));
        let shared = Arc::clone(shared);
        let prefs = prefs.remove(run[0].recipient.as_str()).unwrap_or_default();
        let span = tracing::debug_span!("delivery", id = run[0].id, recipient = %run[0].recipient, event_id = %run[0].event.id);
        in_flight
            .spawn(async move { deliver_run(&shared, run, hand, &prefs).await }.instrument(span));
    }
    Ok(started)
}

/// Delivers a run of one recipient's queue (in `hand`), one delivery at a time and in order,
/// without going back to the database between them, so a recipient that fell behind catches
/// up in one go. Successes are recorded by the settler in batches. The run stops at the first
/// failure; what is behind it is let go untouched. Runs the recipient's preferences or the
/// platform shape (quiet hours, a ticker, a merged catch-up) go to [`modes`].
async fn deliver_run<S: Sink>(
    shared: &Shared<S>,
    run: Vec<Queued>,
    mut hand: held::Run,
    prefs: &crate::preferences::Prefs,
) {
    let ctx = &shared.ctx;
    let mut budget = daily_budget(shared, &run[0]).await;
    // Over the daily cap, every delivery is skipped below, whatever would shape it.
    if budget != Some(0) && modes::deliver(shared, &run, &mut hand, prefs).await {
        return;
    }
    for queued in run {
        if budget == Some(0) {
            let reason = "skipped: the recipient's daily cap is reached";
            tracing::warn!(recipient = %queued.recipient, "{reason}");
            telemetry::delivery(&ctx.sink_id, Outcome::Skipped);
            if let Err(error) = ctx.store.skip(queued.id, reason).await {
                tracing::error!(error = %error_chain(&error), "cannot record a skipped delivery");
            }
            continue;
        }
        match attempt(shared, &queued, prefs.spoilers).await {
            Ok(receipt) => {
                telemetry::delivered(&ctx.sink_id, queued.event.occurred_at, queued.created_at_ms);
                budget = budget.map(|b| b.saturating_sub(1));
                shared.clear_refusals(&queued.recipient);
                hand.pass_on(queued.id);
                shared.settler.delivered(queued.id, receipt.platform_id);
            }
            Err(failure) => {
                if let Err(error) = record_failure(shared, &queued, failure).await {
                    // Let go unrecorded, it is tried again: at least once, never lost.
                    tracing::error!(error = %error_chain(&error), "cannot record a delivery outcome");
                }
                return;
            }
        }
    }
}

/// How many more messages the run's recipient may get today under the sink's daily cap;
/// `None` without a cap. A store error counts as no cap: the cap saves money, it must not
/// stop deliveries.
async fn daily_budget<S: Sink>(shared: &Shared<S>, head: &Queued) -> Option<u64> {
    let cap = shared.daily_cap?;
    let since = crate::store::now_ms() - 24 * 60 * 60 * 1000;
    let ctx = &shared.ctx;
    match ctx
        .store
        .delivered_since(&ctx.sink_id, head.recipient.as_str(), since)
        .await
    {
        Ok(sent) => Some(u64::from(cap.get()).saturating_sub(u64::try_from(sent).unwrap_or(0))),
        Err(error) => {
            tracing::warn!(error = %error_chain(&error), "cannot count today's deliveries; sending without the cap");
            None
        }
    }
}

/// Records what a failed delivery means: a wait, a retry, a dead letter.
async fn record_failure<S: Sink>(
    shared: &Shared<S>,
    queued: &Queued,
    failure: Failure,
) -> Result<(), StoreError> {
    let ctx = &shared.ctx;
    let attempts = queued.attempts;
    match failure {
        Failure::Sink(SinkError::RateLimited { retry_after }) => {
            let wait = retry_after.map_or_else(
                || backoff(&ctx.config, attempts + 1),
                |d| d + jitter(d / 10),
            );
            tracing::warn!(
                wait_ms = wait.as_millis(),
                "rate limited by the platform; waiting"
            );
            telemetry::delivery(&ctx.sink_id, Outcome::RateLimited);
            ctx.store
                .retry_later(queued.id, attempts, wait, "rate limited")
                .await?;
            // Set after the row: the retry is due no later than this.
            shared.retry_in(wait);
            Ok(())
        }
        failure @ (Failure::Sink(SinkError::Transient(_)) | Failure::Timeout(_)) => {
            let attempts = attempts + 1;
            let error = failure.describe();
            if attempts >= ctx.config.max_attempts {
                tracing::error!(attempts, %error, "delivery failed too often; moved to dead letters");
                telemetry::delivery(&ctx.sink_id, Outcome::Dead);
                ctx.store.dead(queued.id, attempts, &error).await
            } else {
                let wait = backoff(&ctx.config, attempts);
                tracing::warn!(attempts, wait_ms = wait.as_millis(), %error, "delivery failed; will retry");
                telemetry::delivery(&ctx.sink_id, Outcome::Retry);
                ctx.store
                    .retry_later(queued.id, attempts, wait, &error)
                    .await?;
                shared.retry_in(wait);
                Ok(())
            }
        }
        failure @ Failure::Sink(SinkError::RecipientGone(_)) => {
            let error = failure.describe();
            tracing::error!(%error, "recipient is gone; delivery dropped and subscriptions paused");
            telemetry::delivery(&ctx.sink_id, Outcome::Gone);
            // The dead letter first: whoever sees the pause also sees why.
            let dead = ctx.store.dead(queued.id, attempts + 1, &error).await;
            if let Err(e) = ctx
                .store
                .pause_recipient(&ctx.sink_id, queued.recipient.as_str())
                .await
            {
                tracing::error!(error = %error_chain(&e), "cannot pause the recipient's subscriptions");
            }
            dead
        }
        failure @ (Failure::Sink(SinkError::Permanent(_)) | Failure::Render(_)) => {
            let error = failure.describe();
            tracing::error!(%error, "delivery failed permanently; moved to dead letters");
            telemetry::delivery(&ctx.sink_id, Outcome::Dead);
            ctx.store.dead(queued.id, attempts + 1, &error).await?;
            // Only the platform refusing the recipient counts, never a template of ours.
            if matches!(failure, Failure::Sink(_)) && shared.count_refusal(&queued.recipient) {
                pause_unreachable(ctx, queued).await;
            }
            Ok(())
        }
    }
}

impl<S> Shared<S> {
    /// Remembers to look at the outbox again in `wait` (a retry this worker scheduled).
    fn retry_in(&self, wait: Duration) {
        self.retry_after_instant(tokio::time::Instant::now() + wait);
    }

    fn retry_after_instant(&self, at: tokio::time::Instant) {
        let mut next = self
            .retry_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *next = Some(next.map_or(at, |n| n.min(at)));
    }

    /// The earliest scheduled retry, taken (the caller puts it back if it does not fire).
    fn take_retry_at(&self) -> Option<tokio::time::Instant> {
        self.retry_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    fn refusals(&self) -> std::sync::MutexGuard<'_, HashMap<String, u32>> {
        self.refusals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts a permanent refusal of `recipient`; returns whether it reached
    /// `dispatch.pause_after_failures` in a row (the count then starts over). A broadcast
    /// recipient is never counted: it has no subscriptions to pause.
    fn count_refusal(&self, recipient: &sink_api::Recipient) -> bool {
        let limit = self.ctx.config.pause_after_failures;
        if limit == 0 || recipient.is_broadcast() {
            return false;
        }
        let mut refusals = self.refusals();
        let count = refusals.entry(recipient.to_string()).or_default();
        *count += 1;
        if *count < limit {
            return false;
        }
        refusals.remove(recipient.as_str());
        true
    }

    /// A delivery to `recipient` went through: its refusals no longer run in a row.
    fn clear_refusals(&self, recipient: &sink_api::Recipient) {
        if !recipient.is_broadcast() {
            self.refusals().remove(recipient.as_str());
        }
    }
}

/// Pauses a recipient the platform refused `dispatch.pause_after_failures` times in a row:
/// every event would otherwise become one more dead letter.
async fn pause_unreachable(ctx: &WorkerContext, queued: &Queued) {
    let recipient = queued.recipient.as_str();
    match ctx.store.pause_recipient(&ctx.sink_id, recipient).await {
        Ok(paused) => tracing::warn!(
            failures = ctx.config.pause_after_failures,
            paused,
            "the platform refused this recipient every time; subscriptions paused"
        ),
        Err(e) => {
            tracing::error!(error = %error_chain(&e), "cannot pause the recipient's subscriptions");
        }
    }
}

enum Failure {
    Sink(SinkError),
    Timeout(Duration),
    Render(crate::render::RenderError),
}

impl Failure {
    fn describe(&self) -> String {
        match self {
            Self::Sink(e) => error_chain(e),
            Self::Timeout(d) => format!("send timed out after {}s", d.as_secs_f32()),
            Self::Render(e) => error_chain(e),
        }
    }
}

async fn attempt<S: Sink>(
    shared: &Shared<S>,
    queued: &Queued,
    spoilers: bool,
) -> Result<Receipt, Failure> {
    let ctx = &shared.ctx;
    let mut notification = shared
        .texts
        .notification(&ctx.renderer, queued, spoilers)
        .map_err(Failure::Render)?;
    if let Some(original) = &queued.event.corrects {
        notification.replaces = Some(replaces(ctx, queued, original, spoilers).await);
    }
    send_now(shared, queued, &notification).await
}

/// Sends `notification` for `queued`'s recipient once the sink's rates allow, within
/// `send_timeout`.
async fn send_now<S: Sink>(
    shared: &Shared<S>,
    queued: &Queued,
    notification: &Notification,
) -> Result<Receipt, Failure> {
    let ctx = &shared.ctx;
    shared
        .limiters
        .wait(
            &shared.sink.recipient_limits(&queued.recipient),
            queued.recipient.as_str(),
            shared.sink.cost(notification),
        )
        .await;
    match tokio::time::timeout(
        ctx.config.send_timeout,
        shared.sink.send(&queued.recipient, notification),
    )
    .await
    {
        Ok(Ok(receipt)) => Ok(receipt),
        Ok(Err(e)) => Err(Failure::Sink(e)),
        Err(_) => Err(Failure::Timeout(ctx.config.send_timeout)),
    }
}

/// What a correction refers to: the original event, the message this recipient got for it (to
/// edit), and its title as they saw it. Lookups that fail leave the parts out: the sink then
/// posts the correction as a new message.
pub(crate) async fn replaces(
    ctx: &WorkerContext,
    queued: &Queued,
    original: &str,
    spoilers: bool,
) -> Replaces {
    let recipient = queued.recipient.as_str();
    let receipt = ctx
        .store
        .receipt(&ctx.sink_id, recipient, original)
        .await
        .unwrap_or_default();
    let original_title = match ctx.store.event(original).await {
        Ok(Some(event)) => ctx
            .renderer
            .render_for(&event, &queued.locale, spoilers)
            .ok()
            .map(|r| r.title),
        _ => None,
    };
    Replaces {
        event_id: original.to_owned(),
        receipt,
        original_title,
    }
}

/// The notification a sink is given for a queued delivery.
pub fn notification(
    queued: &Queued,
    rendered: crate::render::Rendered,
    replaces: Option<Replaces>,
) -> Notification {
    let event = &queued.event;
    Notification {
        id: queued.id,
        event_id: event.id.clone(),
        kind: event.kind.as_str().to_owned(),
        match_id: event.match_id.clone(),
        topic: event.topic.clone(),
        teams: event.teams(),
        title: rendered.title,
        body: rendered.body,
        locale: queued.locale.clone(),
        data: serde_json::to_value(event).unwrap_or_default(),
        replaces,
        spoiler_free: None,
        created_at_ms: queued.created_at_ms,
    }
}

/// Exponential backoff with jitter: `base * 2^(attempt-1)`, capped, then a random point in
/// its upper half so that many failed deliveries do not retry in lockstep.
pub fn backoff(config: &DispatchConfig, attempt: u32) -> Duration {
    let exp = config
        .backoff_base
        .saturating_mul(2_u32.saturating_pow(attempt.saturating_sub(1).min(30)))
        .min(config.backoff_max);
    exp / 2 + jitter(exp / 2)
}

fn jitter(max: Duration) -> Duration {
    let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
    if nanos == 0 {
        return Duration::ZERO;
    }
    Duration::from_nanos(rand::rng().random_range(0..=nanos))
}

#[cfg(test)]
mod tests;
