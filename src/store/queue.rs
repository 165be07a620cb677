//! Reading a point-to-point sink's queue for its worker, and recording what was delivered.
//!
//! A sink's deliveries are sent by one instance at a time, the holder of the sink's lease (see
//! `dispatch`), so reading the queue takes no per-row claim: the worker keeps in memory which
//! rows it has handed out and not yet recorded, and the read skips them. One statement reads
//! the sink's pending rows in id order (index `outbox_pending`); herald picks from them each
//! recipient's oldest row (its head) when it is due and not in hand, and the rows queued right
//! behind it (a run). Picking heads from the rows read, not with a subquery per row, keeps the
//! cost proportional to the rows read whatever the planner believes (with statistics taken
//! before a burst of thousands of rows, a subquery per row walked the whole queue for each:
//! 0.3 s per batch of 64 behind a fan-out to 10,000).
//!
//! The rows come in pages from the start of the queue (or from a point below which nothing is
//! pending), each twice as large as the one before, until enough heads are found: a recipient
//! with a long backlog, or one whose head waits for a retry, does not hide the recipients
//! queued behind it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sink_api::Recipient;

use super::bulk::{self, Column, per_backend};
use super::outbox::Queued;
use super::recent::Recorded;
use super::status::{DELIVERED, PENDING};
use super::{Store, StoreError, now_ms};

/// Rows read in the first page are this many times the recipients wanted (at least
/// [`MIN_PAGE`]): some belong to recipients that wait.
const PAGE_PER_RECIPIENT: usize = 2;
const MIN_PAGE: usize = 128;
/// Most rows read for one batch.
const MAX_SCAN: usize = 65_536;

/// What to read.
#[derive(Debug, Clone, Copy)]
pub struct Next<'a> {
    /// The sink instance.
    pub sink: &'a str,
    /// Where to start reading the queue: an id below which nothing of the sink is pending
    /// (the `first_pending` of a previous batch, less one), or 0.
    pub after: i64,
    /// Most recipients to return deliveries of.
    pub recipients: usize,
    /// Most deliveries per recipient: its head and what is queued right behind it.
    pub run: usize,
    /// Deliveries the caller has in hand (being sent, or sent and not recorded yet): not read.
    pub held: &'a [i64],
    /// Their recipients: nothing of theirs is returned.
    pub sending: &'a HashSet<String>,
}

/// What a read found.
#[derive(Debug)]
pub struct Batch {
    /// Runs of deliveries, each one recipient's, in order, head first.
    pub runs: Vec<Vec<Queued>>,
    /// The first pending row read: nothing before it was pending then.
    pub first_pending: Option<i64>,
}

/// A pending row as the queue is read.
#[derive(sqlx::FromRow)]
struct PendingRow {
    id: i64,
    recipient: String,
    locale: String,
    attempts: i64,
    event_seq: i64,
    next_attempt_at: i64,
    claimed_until: Option<i64>,
}

/// An event's payload, as selected: `seq, payload, created_at`.
#[derive(sqlx::FromRow)]
struct EventRow {
    seq: i64,
    payload: String,
    created_at: i64,
}

impl Store {
    /// The due heads of up to `next.recipients` recipients of `next.sink`, oldest first, each
    /// with up to `next.run - 1` deliveries queued behind it, as runs in order, head first.
    /// Per-recipient order holds: only a recipient's oldest pending delivery starts a run,
    /// and nothing of a recipient is returned while one of its deliveries is held. (Rows
    /// claimed in the store by an herald from before sink leases count as held until their
    /// claim expires.)
    ///
    /// # Errors
    /// Database errors, or an event payload that does not parse.
    pub async fn next(&self, next: &Next<'_>) -> Result<Batch, StoreError> {
        let now = now_ms();
        let mut runs: Vec<Vec<PendingRow>> = Vec::new();
        let mut first_pending = None;
        // Each recipient seen, with the run it is extending (`None`: blocked, or done).
        let mut seen: HashMap<String, Option<usize>> = HashMap::new();
        let mut after = next.after;
        let mut page = (next.recipients * PAGE_PER_RECIPIENT).max(MIN_PAGE);
        let mut scanned = 0;
        let held = bulk::json(&next.held.iter().map(|id| (*id,)).collect::<Vec<_>>());
        loop {
            let statement = per_backend!(|backend| format!(
                "SELECT id, recipient, locale, attempts, event_seq, next_attempt_at, claimed_until \
                 FROM outbox WHERE sink = $1 AND status = {PENDING} AND id > $2 \
                 AND id NOT IN (SELECT c0 FROM ({}) AS h) ORDER BY id LIMIT $3",
                bulk::rows(backend, 4, &[Column::Int])
            ));
            let rows: Vec<PendingRow> = sqlx::query_as(statement.get(self.backend))
                .bind(next.sink)
                .bind(after)
                .bind(i64::try_from(page).unwrap_or(i64::MAX))
                .bind(&held)
                .fetch_all(&self.pool)
                .await?;
            let full = rows.len() == page;
            scanned += rows.len();
            first_pending = first_pending.or(rows.first().map(|r| r.id));
            for row in rows {
                after = row.id;
                let free = row.claimed_until.is_none_or(|until| until < now)
                    && !next.sending.contains(&row.recipient);
                match seen.get_mut(&row.recipient) {
                    None => {
                        let start =
                            runs.len() < next.recipients && free && row.next_attempt_at <= now;
                        let run = start.then_some(runs.len());
                        seen.insert(row.recipient.clone(), run);
                        if start {
                            runs.push(vec![row]);
                        }
                    }
                    Some(extending) => {
                        if let Some(at) = *extending {
                            let run = &mut runs[at];
                            if free && run.len() < next.run {
                                run.push(row);
                            } else {
                                *extending = None;
                            }
                        }
                    }
                }
            }
            if !full || runs.len() >= next.recipients || scanned >= MAX_SCAN {
                break;
            }
            page = (page * 2).min(MAX_SCAN - scanned);
        }
        Ok(Batch {
            runs: self.with_events(runs).await?,
            first_pending,
        })
    }

    /// Up to `limit` pending deliveries of `head`'s recipient queued behind it, in order: what
    /// a digest, a ticker edit or a merged message takes along with its head.
    ///
    /// # Errors
    /// Database errors, or an event payload that does not parse.
    pub async fn queued_behind(
        &self,
        sink: &str,
        head: &Queued,
        limit: usize,
    ) -> Result<Vec<Queued>, StoreError> {
        let rows: Vec<PendingRow> = sqlx::query_as(sql!(
            "SELECT id, recipient, locale, attempts, event_seq, next_attempt_at, claimed_until \
             FROM outbox WHERE sink = $1 AND status = {PENDING} AND recipient = $2 AND id > $3 \
             ORDER BY id LIMIT $4"
        ))
        .bind(sink)
        .bind(head.recipient.as_str())
        .bind(head.id)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        Ok(self
            .with_events(vec![rows])
            .await?
            .pop()
            .unwrap_or_default())
    }

    /// Runs with their events: each event is read and parsed once, and kept for the
    /// batches after it.
    async fn with_events(
        &self,
        runs: Vec<Vec<PendingRow>>,
    ) -> Result<Vec<Vec<Queued>>, StoreError> {
        let mut events: HashMap<i64, Recorded> = HashMap::new();
        let mut missing: Vec<(i64,)> = Vec::new();
        for row in runs.iter().flatten() {
            if events.contains_key(&row.event_seq) || missing.contains(&(row.event_seq,)) {
                continue;
            }
            match self.recent.get(row.event_seq) {
                Some(recorded) => {
                    events.insert(row.event_seq, recorded);
                }
                None => missing.push((row.event_seq,)),
            }
        }
        if !missing.is_empty() {
            let statement = per_backend!(|backend| format!(
                "SELECT seq, payload, created_at FROM events WHERE seq IN (SELECT c0 FROM ({}) AS s)",
                bulk::rows(backend, 1, &[Column::Int])
            ));
            let rows: Vec<EventRow> = sqlx::query_as(statement.get(self.backend))
                .bind(bulk::json(&missing))
                .fetch_all(&self.pool)
                .await?;
            for row in rows {
                let recorded =
                    Arc::new((super::outbox::parse_event(&row.payload)?, row.created_at));
                self.recent.insert(row.seq, Arc::clone(&recorded));
                events.insert(row.seq, recorded);
            }
        }
        runs.into_iter()
            .map(|run| {
                run.into_iter()
                    .map(|r| {
                        let recorded = events.get(&r.event_seq).ok_or(StoreError::Missing {
                            what: "event of a delivery",
                        })?;
                        Ok(Queued {
                            id: r.id,
                            recipient: Recipient::new(r.recipient),
                            locale: r.locale,
                            attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
                            event: recorded.0.clone(),
                            created_at_ms: recorded.1,
                        })
                    })
                    .collect()
            })
            .collect()
    }

    /// Records deliveries as done, with the platform's message id where there is one, in one
    /// statement.
    ///
    /// # Errors
    /// Database errors.
    pub async fn delivered(&self, done: &[(i64, Option<String>)]) -> Result<(), StoreError> {
        if done.is_empty() {
            return Ok(());
        }
        let statement = per_backend!(|backend| format!(
            "UPDATE outbox SET status = {DELIVERED}, receipt = d.c1, last_error = NULL, \
             updated_at = $1 \
             FROM ({}) AS d WHERE outbox.id = d.c0",
            bulk::rows(backend, 2, &[Column::Int, Column::Text])
        ));
        sqlx::query(statement.get(self.backend))
            .bind(now_ms())
            .bind(bulk::json(done))
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(())
    }
}
