//! Deliveries shaped by the recipient's preferences and the platform: quiet hours (held until
//! the window ends, then one digest; some kinds dropped), live tickers (one message per match,
//! edited in place, edits paced) and merged catch-ups where the platform charges per message.
//! Plain deliveries (one message per event) stay in `deliver_run`.
//!
//! Each shape sends one message for several outbox rows: they are all recorded with its
//! receipt, or, when it fails, the head's failure is recorded as usual and the rest stay
//! queued (the next attempt shapes them again).

use sink_api::{Notification, Replaces, Sink};

use super::held::Run;
use super::{Failure, Shared, record_failure, send_now};
use crate::model::EventKind;
use crate::preferences::{Mode, Prefs, Quiet};
use crate::render::{Rendered, TICKER_LINES, TickerView};
use crate::store::{Queued, StoreError, now_ms};
use crate::telemetry::{self, Outcome};

/// Most deliveries one digest, ticker edit or merged message takes.
pub(super) const MAX_SHAPED: usize = 64;

/// Delivers `run` (one recipient's, head first, within its daily cap) if the recipient's
/// preferences or the platform shape it; `false` when it is a plain run, left to the caller.
pub(super) async fn deliver<S: Sink>(
    shared: &Shared<S>,
    run: &[Queued],
    hand: &mut Run,
    prefs: &Prefs,
) -> bool {
    let ctx = &shared.ctx;
    let head = &run[0];
    let outcome = if let Some(quiet) = &prefs.quiet
        && let Some(end) = quiet.ends_after(ctx.clock.now())
    {
        hold_for_quiet(shared, run, hand, quiet, ctx.clock.system_ms(end)).await
    } else if let Some(quiet) = &prefs.quiet
        && let Some(end) = quiet.ends_after(ctx.clock.at(head.created_at_ms))
    {
        // Queued inside a window that is over: what it held goes as one digest.
        let inside = |q: &Queued| quiet.ends_after(ctx.clock.at(q.created_at_ms)) == Some(end);
        digest(shared, run, hand, quiet, inside, prefs.spoilers).await
    } else if S::EDITS
        && prefs.mode == Mode::Ticker
        && head.event.match_id.is_some()
        && head.event.kind != EventKind::Announcement
    {
        ticker(shared, run, hand, prefs.spoilers).await
    } else if shared.sink.merges() && run.len() > 1 {
        merged(shared, run.to_vec(), hand, false, prefs.spoilers).await
    } else {
        return false;
    };
    if let Err(error) = outcome {
        // Let go unrecorded, it is tried again: at least once, never lost.
        tracing::error!(error = %super::error_chain(&error), "cannot record a delivery outcome");
    }
    true
}

/// Inside quiet hours: the kinds the recipient drops are skipped; the first other delivery
/// waits for the end of the window (and everything queued behind it with it).
async fn hold_for_quiet<S: Sink>(
    shared: &Shared<S>,
    run: &[Queued],
    hand: &mut Run,
    quiet: &Quiet,
    until_ms: i64,
) -> Result<(), StoreError> {
    let ctx = &shared.ctx;
    for queued in run {
        if quiet.drops(queued.event.kind) {
            skip_dropped(shared, queued, hand).await?;
            continue;
        }
        ctx.store.hold(queued.id, until_ms, "quiet hours").await?;
        shared.retry_in(wait_until(until_ms));
        tracing::debug!(id = queued.id, until_ms, "held for the end of quiet hours");
        return Ok(());
    }
    Ok(())
}

async fn skip_dropped<S: Sink>(
    shared: &Shared<S>,
    queued: &Queued,
    hand: &mut Run,
) -> Result<(), StoreError> {
    telemetry::delivery(&shared.ctx.sink_id, Outcome::Skipped);
    shared
        .ctx
        .store
        .skip(queued.id, "dropped: quiet hours")
        .await?;
    hand.pass_on(queued.id);
    shared.held.release([queued.id]);
    Ok(())
}

/// The deliveries held by a quiet window that ended, as one message; the dropped kinds
/// among them skipped.
async fn digest<S: Sink>(
    shared: &Shared<S>,
    run: &[Queued],
    hand: &mut Run,
    quiet: &Quiet,
    inside: impl Fn(&Queued) -> bool,
    spoilers: bool,
) -> Result<(), StoreError> {
    let items = gather(shared, run, hand, &inside).await?;
    let mut kept = Vec::new();
    for queued in items {
        if quiet.drops(queued.event.kind) {
            skip_dropped(shared, &queued, hand).await?;
        } else {
            kept.push(queued);
        }
    }
    if kept.is_empty() {
        return Ok(());
    }
    merged(shared, kept, hand, true, spoilers).await
}

/// `run` and the deliveries queued behind it that `belongs` takes, in order, up to the
/// first that it does not, at most [`MAX_SHAPED`]; the ones read here are taken in `hand`.
async fn gather<S: Sink>(
    shared: &Shared<S>,
    run: &[Queued],
    hand: &mut Run,
    belongs: &impl Fn(&Queued) -> bool,
) -> Result<Vec<Queued>, StoreError> {
    let mut items: Vec<Queued> = run.iter().take_while(|q| belongs(q)).cloned().collect();
    let mut behind = Vec::new();
    if items.len() == run.len() && items.len() < MAX_SHAPED {
        let last = &run[run.len() - 1];
        behind = shared
            .ctx
            .store
            .queued_behind(&shared.ctx.sink_id, last, MAX_SHAPED - items.len())
            .await?;
        behind = behind.into_iter().take_while(|q| belongs(q)).collect();
    }
    hand.absorb(
        shared
            .held
            .take(behind.iter().map(|q| (q.id, q.recipient.as_str()))),
    );
    items.extend(behind);
    Ok(items)
}

/// `items` as one message: a digest (`quiet`) or a merged catch-up, as many as fit in one
/// message where the platform charges per message (the rest stay queued).
async fn merged<S: Sink>(
    shared: &Shared<S>,
    mut items: Vec<Queued>,
    hand: &mut Run,
    quiet: bool,
    spoilers: bool,
) -> Result<(), StoreError> {
    let ctx = &shared.ctx;
    let head = items[0].clone();
    let notification = loop {
        let events: Vec<_> = items.iter().map(|q| q.event.clone()).collect();
        let rendered = match ctx.renderer.digest(&events, &head.locale, quiet, spoilers) {
            Ok(rendered) => rendered,
            Err(e) => return record_failure(shared, &head, Failure::Render(e)).await,
        };
        let notification = shaped(&items, rendered, "digest", None);
        if items.len() == 1 || !shared.sink.merges() || shared.sink.fits(&notification) {
            break notification;
        }
        items.pop();
    };
    send_shaped(shared, &items, hand, &notification)
        .await
        .map(|_| ())
}

/// A match's events for a ticker chat: one message per match, edited in place. An edit
/// waits until `dispatch.ticker_interval` has passed since the last one, so the events that
/// come meanwhile go in one edit.
async fn ticker<S: Sink>(
    shared: &Shared<S>,
    run: &[Queued],
    hand: &mut Run,
    spoilers: bool,
) -> Result<(), StoreError> {
    let ctx = &shared.ctx;
    let head = &run[0];
    let match_id = head.event.match_id.clone().unwrap_or_default();
    let recipient = head.recipient.as_str();
    let mut ticker = ctx.store.ticker(&ctx.sink_id, recipient, &match_id).await?;
    let pace = i64::try_from(ctx.config.ticker_interval.as_millis()).unwrap_or(i64::MAX);
    let due = ticker.updated_at_ms.saturating_add(pace);
    if ticker.receipt.is_some() && due > now_ms() {
        ctx.store.hold(head.id, due, "ticker pace").await?;
        shared.retry_in(wait_until(due));
        return Ok(());
    }
    let same_match = |q: &Queued| {
        q.event.match_id.as_deref() == Some(match_id.as_str())
            && q.event.kind != EventKind::Announcement
    };
    let items = gather(shared, run, hand, &same_match).await?;
    let mut state = ticker.state.clone();
    for queued in &items {
        match ctx
            .renderer
            .render_for(&queued.event, &head.locale, spoilers)
        {
            Ok(rendered) => state.lines.push(rendered.title),
            Err(e) => return record_failure(shared, queued, Failure::Render(e)).await,
        }
        state.score = queued.event.score.or(state.score);
        state.finished |= queued.event.kind == EventKind::FullTime;
    }
    let excess = state.lines.len().saturating_sub(TICKER_LINES);
    state.lines.drain(..excess);
    let last = &items[items.len() - 1];
    let mut event = last.event.clone();
    event.score = state.score;
    let mut view = TickerView::after(&event, spoilers, state.lines.clone());
    view.finished |= state.finished;
    let rendered = match ctx.renderer.ticker(&view, &head.locale) {
        Ok(rendered) => rendered,
        Err(e) => return record_failure(shared, head, Failure::Render(e)).await,
    };
    let replaces = ticker.receipt.clone().map(|receipt| Replaces {
        event_id: format!("ticker:{match_id}"),
        receipt: Some(receipt),
        original_title: None,
    });
    let notification = shaped(&items, rendered, "ticker", replaces);
    let sent = send_shaped(shared, &items, hand, &notification).await?;
    if let Some(receipt) = sent {
        ticker.receipt = receipt.or(ticker.receipt);
        ticker.state = state;
        ticker.updated_at_ms = now_ms();
        ctx.store
            .save_ticker(&ctx.sink_id, recipient, &match_id, &ticker)
            .await?;
    }
    Ok(())
}

/// The notification of a message made of `items` (the last one gives its id and data).
fn shaped(
    items: &[Queued],
    rendered: Rendered,
    kind: &str,
    replaces: Option<Replaces>,
) -> Notification {
    let last = &items[items.len() - 1];
    let mut notification = super::notification(last, rendered, replaces);
    notification.kind = kind.to_owned();
    notification.data = serde_json::json!({
        "events": items.iter().map(|q| q.event.id.as_str()).collect::<Vec<_>>(),
    });
    notification
}

/// Sends one message for `items`; records them all delivered with its receipt
/// (`Some(platform id)`), or the head's failure (`None`).
async fn send_shaped<S: Sink>(
    shared: &Shared<S>,
    items: &[Queued],
    hand: &mut Run,
    notification: &Notification,
) -> Result<Option<Option<String>>, StoreError> {
    let ctx = &shared.ctx;
    let head = &items[0];
    match send_now(shared, head, notification).await {
        Ok(receipt) => {
            shared.clear_refusals(&head.recipient);
            for queued in items {
                telemetry::delivered(&ctx.sink_id, queued.event.occurred_at, queued.created_at_ms);
                hand.pass_on(queued.id);
                shared
                    .settler
                    .delivered(queued.id, receipt.platform_id.clone());
            }
            Ok(Some(receipt.platform_id))
        }
        Err(failure) => record_failure(shared, head, failure).await.map(|()| None),
    }
}

/// How long until `at_ms` (system time), for the worker's own wake-up.
fn wait_until(at_ms: i64) -> std::time::Duration {
    std::time::Duration::from_millis(u64::try_from(at_ms - now_ms()).unwrap_or(0))
}
