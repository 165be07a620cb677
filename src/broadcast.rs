//! Broadcast sinks (the SSE stream and the page, rooms): every instance serves every
//! notification to its own clients.
//!
//! Each notification carries its spoiler-free text too, for the clients that hide scores.
//!
//! A broadcast sink's outbox rows are recorded as delivered when they are queued and never
//! taken by a worker. Each instance runs a follower per broadcast sink that reads the rows after the last
//! one it served, in id order, and hands each to the sink once: the row id is the
//! notification's id on every instance, so a client resumes with `Last-Event-ID` on any of
//! them and across restarts. Ids are in commit order for broadcast rows (see the store), so a
//! follower that has passed an id never misses a row committed later. A follower is woken by
//! a commit in its own process, by PostgreSQL `NOTIFY` from the others, and by the sweep.

use std::time::Duration;

use sink_api::{Sink, SpoilerFree};
use tracing::Instrument;

use crate::dispatch::{self, WorkerContext, error_chain};
use crate::store::Queued;
use crate::telemetry::{self, Outcome};

/// Rows read per statement while catching up.
const PAGE: usize = 1_000;

/// Serves `sink`'s notifications after outbox id `ctx.served_up_to` until drained (then
/// serves what is committed by then and stops).
pub async fn follow<S: Sink>(sink: S, ctx: WorkerContext) {
    let span = tracing::info_span!("sink", sink = %ctx.sink_id, kind = S::KIND);
    async move {
        let mut cursor = ctx.served_up_to;
        let mut failures: u32 = 0;
        loop {
            let stop = ctx.drain.is_cancelled();
            match serve_new(&sink, &ctx, &mut cursor).await {
                Ok(()) => failures = 0,
                Err(error) => {
                    failures += 1;
                    tracing::error!(error = %error_chain(&error), "cannot read the outbox; trying again");
                    if stop {
                        break;
                    }
                    let wait = Duration::from_millis(100 * u64::from(failures.min(50)));
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = ctx.drain.cancelled() => {}
                    }
                    continue;
                }
            }
            if stop {
                break;
            }
            tokio::select! {
                () = ctx.wake.notified() => {}
                // One last read for what was committed before the drain.
                () = ctx.drain.cancelled() => {}
            }
        }
        tracing::debug!(served_up_to = cursor, "follower stopped");
    }
    .instrument(span)
    .await;
}

/// Serves every row after `cursor`, moving it on.
async fn serve_new<S: Sink>(
    sink: &S,
    ctx: &WorkerContext,
    cursor: &mut i64,
) -> Result<(), crate::store::StoreError> {
    loop {
        let page = ctx
            .store
            .broadcast_after(&ctx.sink_id, *cursor, PAGE)
            .await?;
        let full = page.len() == PAGE;
        for queued in page {
            *cursor = queued.id;
            serve(sink, ctx, &queued).await;
        }
        if !full {
            return Ok(());
        }
    }
}

/// Hands one notification to the sink. Nothing is retried: a broadcast sink only fails when
/// it is closed, and a template that does not render is logged and skipped.
async fn serve<S: Sink>(sink: &S, ctx: &WorkerContext, queued: &Queued) {
    let rendered = match ctx.renderer.render(&queued.event, &queued.locale) {
        Ok(rendered) => rendered,
        Err(error) => {
            tracing::error!(id = queued.id, error = %error_chain(&error), "cannot render a notification; skipped");
            return;
        }
    };
    let replaces = match &queued.event.corrects {
        Some(original) => Some(dispatch::replaces(ctx, queued, original, true).await),
        None => None,
    };
    let mut notification = dispatch::notification(queued, rendered, replaces);
    notification.spoiler_free = spoiler_free(ctx, queued);
    match tokio::time::timeout(
        ctx.config.send_timeout,
        sink.send(&queued.recipient, &notification),
    )
    .await
    {
        Ok(Ok(_)) => {
            telemetry::delivered(&ctx.sink_id, queued.event.occurred_at, queued.created_at_ms);
        }
        Ok(Err(error)) => {
            telemetry::delivery(&ctx.sink_id, Outcome::Dropped);
            tracing::warn!(id = queued.id, error = %error_chain(&error), "the sink did not take a notification");
        }
        Err(_) => {
            telemetry::delivery(&ctx.sink_id, Outcome::Dropped);
            tracing::warn!(
                id = queued.id,
                "the sink took too long to take a notification"
            );
        }
    }
}

/// The notification without the score, for the clients that hide it (match events only).
fn spoiler_free(ctx: &WorkerContext, queued: &Queued) -> Option<SpoilerFree> {
    queued.event.match_id.as_ref()?;
    match ctx
        .renderer
        .render_for(&queued.event, &queued.locale, false)
    {
        Ok(rendered) => Some(SpoilerFree {
            title: rendered.title,
            body: rendered.body,
            data: serde_json::to_value(queued.event.without_spoilers()).unwrap_or_default(),
        }),
        Err(error) => {
            tracing::error!(id = queued.id, error = %error_chain(&error), "cannot render a notification without spoilers");
            None
        }
    }
}
