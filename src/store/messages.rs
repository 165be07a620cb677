//! Messages of the messages API: recorded with their request, scheduled until `send_at`,
//! released once (an event and its deliveries, in the transaction that marks the message
//! released), cancelled, listed, purged; and the retention purge of settled deliveries and
//! old events.

use std::collections::HashMap;

use super::bulk::{self, Column, per_backend};
use super::matches::record_events;
use super::status::{CANCELLED, DELIVERED, PENDING};
use super::{Backend, Committed, Store, StoreError, now_ms};
use crate::model::Event;
use crate::routing::{Audience, Route};

/// Values of `messages.state`.
mod state {
    pub(super) const SCHEDULED: i64 = 0;
    pub(super) const RELEASED: i64 = 1;
    pub(super) const CANCELLED: i64 = 2;
}

/// Where a message stands before its deliveries are looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageState {
    /// Waiting for `send_at`.
    Scheduled,
    /// Turned into deliveries.
    Released,
    /// Cancelled before it was due.
    Cancelled,
}

/// A `messages` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    /// Order of creation (the list's cursor).
    pub seq: i64,
    /// The public id.
    pub id: String,
    /// The request as JSON, as it was accepted.
    pub request: String,
    state: i64,
    /// When it is due, Unix ms.
    pub send_at: i64,
    /// The event it became, once released.
    pub event_seq: Option<i64>,
    /// Deliveries queued (or, while scheduled, addressed).
    pub deliveries: i64,
    /// When it was cancelled, if it was.
    pub cancelled_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

impl MessageRow {
    /// Its state.
    pub fn state(&self) -> MessageState {
        match self.state {
            state::SCHEDULED => MessageState::Scheduled,
            state::CANCELLED => MessageState::Cancelled,
            _ => MessageState::Released,
        }
    }
}

/// A message to record.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    /// The public id.
    pub id: &'a str,
    /// The request as JSON.
    pub request: &'a str,
    /// The caller's idempotency key (qualified by who called), if any.
    pub idempotency_key: Option<&'a str>,
    /// When it is due, Unix ms.
    pub send_at: i64,
    /// Deliveries addressed (0 when routing decides at release).
    pub deliveries: i64,
}

/// What recording a message did.
#[derive(Debug)]
pub enum Recorded {
    /// A new message: what it queued (nothing yet when scheduled).
    New(Committed),
    /// The idempotency key was used before: the first message.
    Repeat(Box<MessageRow>),
}

/// Where one delivery of a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its first attempt.
    Queued,
    /// Tried and waiting for a retry.
    Sending,
    /// Accepted by the platform.
    Delivered,
    /// Given up on (a dead letter, or skipped over a cap).
    Failed,
    /// Cancelled before it was sent.
    Cancelled,
}

impl DeliveryStatus {
    fn of(status: i64, attempts: i64) -> Self {
        match status {
            PENDING if attempts > 0 => Self::Sending,
            PENDING => Self::Queued,
            DELIVERED => Self::Delivered,
            CANCELLED => Self::Cancelled,
            _ => Self::Failed,
        }
    }

    /// The name the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// One delivery of a message.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    /// The sink instance.
    pub sink: String,
    /// The recipient.
    pub recipient: String,
    status: i64,
    /// Attempts made.
    pub attempts: i64,
    /// The last error, as recorded.
    pub last_error: Option<String>,
    /// The platform's message id.
    pub receipt: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

impl DeliveryRow {
    /// Where it stands.
    pub fn status(&self) -> DeliveryStatus {
        DeliveryStatus::of(self.status, self.attempts)
    }
}

/// How many deliveries of a message stand where.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Waiting for a first attempt.
    pub queued: i64,
    /// Tried, waiting for a retry.
    pub sending: i64,
    /// Delivered.
    pub delivered: i64,
    /// Given up on.
    pub failed: i64,
    /// Cancelled.
    pub cancelled: i64,
}

impl Counts {
    fn add(&mut self, status: DeliveryStatus, n: i64) {
        match status {
            DeliveryStatus::Queued => self.queued += n,
            DeliveryStatus::Sending => self.sending += n,
            DeliveryStatus::Delivered => self.delivered += n,
            DeliveryStatus::Failed => self.failed += n,
            DeliveryStatus::Cancelled => self.cancelled += n,
        }
    }

    /// Deliveries not settled yet.
    pub fn pending(&self) -> i64 {
        self.queued + self.sending
    }
}

/// What a cancellation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelled {
    /// The message was still scheduled: nothing will be sent.
    Scheduled,
    /// This many deliveries were still pending and will not be sent.
    Deliveries(u64),
    /// Nothing was left to cancel.
    Nothing,
}

/// What one retention pass deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Settled outbox rows.
    pub deliveries: u64,
    /// Events without deliveries left.
    pub events: u64,
    /// Finished messages.
    pub messages: u64,
}

/// A count per group, as selected.
#[derive(sqlx::FromRow)]
struct CountRow {
    event_seq: i64,
    status: i64,
    tried: i64,
    n: i64,
}

/// Above any id: the bound of a range that has no end.
const MAX_ID: i64 = i64::MAX;

/// Columns of a message, as selected.
const MESSAGE_COLUMNS: &str = "seq, id, request, state, send_at, event_seq, deliveries, \
     cancelled_at, created_at, updated_at";

impl Store {
    /// Records a message due at `new.send_at`; when it is due now (`release`), also its event
    /// and deliveries to `audience` (in `locale` when given), in the same transaction. A
    /// repeat of an idempotency key records nothing and returns the first message.
    ///
    /// # Errors
    /// Database errors; nothing is recorded then.
    pub async fn record_message(
        &self,
        new: &NewMessage<'_>,
        release: Option<(&Event, &Audience, Option<&str>, &[Route])>,
    ) -> Result<Recorded, StoreError> {
        let now = now_ms();
        let mut conn = self.writer().await?;
        let mut tx = super::begin(&mut conn, self.backend).await?;
        let statement = sql!(
            "INSERT INTO messages (id, request, idempotency_key, state, send_at, deliveries, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT (idempotency_key) DO NOTHING RETURNING seq"
        );
        let seq: Option<i64> = sqlx::query_scalar(statement)
            .bind(new.id)
            .bind(new.request)
            .bind(new.idempotency_key)
            .bind(if release.is_some() {
                state::RELEASED
            } else {
                state::SCHEDULED
            })
            .bind(new.send_at)
            .bind(new.deliveries)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(seq) = seq else {
            tx.rollback().await?;
            let key = new.idempotency_key.unwrap_or_default();
            let first = self.message_by_key(key).await?.ok_or(StoreError::Missing {
                what: "message of an idempotency key",
            })?;
            return Ok(Recorded::Repeat(Box::new(first)));
        };
        let committed = match release {
            Some((event, audience, locale, routes)) => {
                release_in(
                    &mut tx,
                    self.backend,
                    seq,
                    event,
                    audience,
                    locale,
                    routes,
                    now,
                )
                .await?
            }
            None => {
                if self.backend == Backend::Postgres {
                    sqlx::query("SELECT pg_notify($1, $2)")
                        .bind(crate::signal::CHANNEL)
                        .bind(crate::signal::payload([crate::signal::MESSAGES]))
                        .execute(&mut *tx)
                        .await?;
                }
                Committed::default()
            }
        };
        tx.commit().await?;
        Ok(Recorded::New(committed))
    }

    /// Releases scheduled message `seq`: its event and deliveries to `audience`, once (`None`
    /// when another instance released or someone cancelled it first).
    ///
    /// # Errors
    /// Database errors; nothing is recorded then.
    pub async fn release_message(
        &self,
        seq: i64,
        event: &Event,
        audience: &Audience,
        locale: Option<&str>,
        routes: &[Route],
    ) -> Result<Option<Committed>, StoreError> {
        let now = now_ms();
        let mut conn = self.writer().await?;
        let mut tx = super::begin(&mut conn, self.backend).await?;
        let taken = sqlx::query(sql!(
            "UPDATE messages SET state = {RELEASED}, updated_at = $1 \
             WHERE seq = $2 AND state = {SCHEDULED}"
        ))
        .bind(now)
        .bind(seq)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if taken == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let committed = release_in(
            &mut tx,
            self.backend,
            seq,
            event,
            audience,
            locale,
            routes,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Some(committed))
    }

    /// When the next scheduled message is due, Unix ms.
    ///
    /// # Errors
    /// Database errors.
    pub async fn next_due_message(&self) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(sql!(
            "SELECT MIN(send_at) FROM messages WHERE state = {SCHEDULED}"
        ))
        .fetch_one(&self.pool)
        .await?)
    }

    /// Up to `limit` scheduled messages due by now, earliest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn due_messages(&self, limit: i64) -> Result<Vec<MessageRow>, StoreError> {
        Ok(sqlx::query_as(sql!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE state = {SCHEDULED} AND send_at <= $1 \
             ORDER BY send_at LIMIT $2"
        ))
        .bind(now_ms())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The message `id`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn message(&self, id: &str) -> Result<Option<MessageRow>, StoreError> {
        Ok(
            sqlx::query_as(sql!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// The message recorded under idempotency key `key`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn message_by_key(&self, key: &str) -> Result<Option<MessageRow>, StoreError> {
        Ok(sqlx::query_as(sql!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE idempotency_key = $1"
        ))
        .bind(key)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Up to `limit` messages created before the one of `before` (all when `None`), newest
    /// first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn messages_before(
        &self,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<MessageRow>, StoreError> {
        Ok(sqlx::query_as(sql!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE seq < $1 ORDER BY seq DESC LIMIT $2"
        ))
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// How the deliveries of each of `events` stand.
    ///
    /// # Errors
    /// Database errors.
    pub async fn delivery_counts(
        &self,
        events: &[i64],
    ) -> Result<HashMap<i64, Counts>, StoreError> {
        let mut out: HashMap<i64, Counts> = HashMap::new();
        if events.is_empty() {
            return Ok(out);
        }
        let statement = per_backend!(|backend| format!(
            "SELECT event_seq, status, CASE WHEN attempts > 0 THEN 1 ELSE 0 END AS tried, \
             COUNT(*) AS n FROM outbox WHERE event_seq IN (SELECT c0 FROM ({}) AS e) \
             GROUP BY event_seq, status, CASE WHEN attempts > 0 THEN 1 ELSE 0 END",
            bulk::rows(backend, 1, &[Column::Int])
        ));
        let rows: Vec<CountRow> = sqlx::query_as(statement.get(self.backend))
            .bind(bulk::json(
                &events.iter().map(|e| (*e,)).collect::<Vec<_>>(),
            ))
            .fetch_all(&self.pool)
            .await?;
        for row in rows {
            out.entry(row.event_seq)
                .or_default()
                .add(DeliveryStatus::of(row.status, row.tried), row.n);
        }
        Ok(out)
    }

    /// Every delivery of event `event_seq`, in the order queued.
    ///
    /// # Errors
    /// Database errors.
    pub async fn message_deliveries(&self, event_seq: i64) -> Result<Vec<DeliveryRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT sink, recipient, status, attempts, last_error, receipt, created_at, updated_at \
             FROM outbox WHERE event_seq = $1 ORDER BY id",
        )
        .bind(event_seq)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Cancels message `seq`: still scheduled, it is never released; released, its pending
    /// deliveries are never sent (one already handed to the platform is not recalled).
    ///
    /// # Errors
    /// Database errors.
    pub async fn cancel_message(&self, seq: i64) -> Result<Cancelled, StoreError> {
        let now = now_ms();
        let mut conn = self.writer().await?;
        let mut tx = super::begin(&mut conn, self.backend).await?;
        let scheduled = sqlx::query(sql!(
            "UPDATE messages SET state = {CANCELLED_MESSAGE}, cancelled_at = $1, updated_at = $1 \
             WHERE seq = $2 AND state = {SCHEDULED}"
        ))
        .bind(now)
        .bind(seq)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if scheduled == 1 {
            tx.commit().await?;
            return Ok(Cancelled::Scheduled);
        }
        let cancelled = sqlx::query(sql!(
            "UPDATE outbox SET status = {CANCELLED}, last_error = 'cancelled', updated_at = $1 \
             WHERE status = {PENDING} AND event_seq = \
             (SELECT event_seq FROM messages WHERE seq = $2)"
        ))
        .bind(now)
        .bind(seq)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if cancelled > 0 {
            sqlx::query("UPDATE messages SET cancelled_at = $1, updated_at = $1 WHERE seq = $2")
                .bind(now)
                .bind(seq)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(if cancelled > 0 {
            Cancelled::Deliveries(cancelled)
        } else {
            Cancelled::Nothing
        })
    }

    /// Deletes finished messages (`seq`, `event_seq`) and their settled deliveries (a
    /// pending one is never deleted); returns how many messages went.
    ///
    /// # Errors
    /// Database errors.
    pub async fn delete_messages(
        &self,
        messages: &[(i64, Option<i64>)],
    ) -> Result<u64, StoreError> {
        if messages.is_empty() {
            return Ok(0);
        }
        let rows = bulk::json(messages);
        let mut conn = self.writer().await?;
        let mut tx = super::begin(&mut conn, self.backend).await?;
        let deliveries = per_backend!(|backend| format!(
            "DELETE FROM outbox WHERE status <> {PENDING} \
             AND event_seq IN (SELECT c1 FROM ({}) AS m WHERE c1 IS NOT NULL)",
            bulk::rows(backend, 1, &[Column::Int, Column::Int])
        ));
        sqlx::query(deliveries.get(self.backend))
            .bind(&rows)
            .execute(&mut *tx)
            .await?;
        let statement = per_backend!(|backend| format!(
            "DELETE FROM messages WHERE seq IN (SELECT c0 FROM ({}) AS m)",
            bulk::rows(backend, 1, &[Column::Int, Column::Int])
        ));
        let deleted = sqlx::query(statement.get(self.backend))
            .bind(&rows)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(deleted)
    }

    /// One batch of the retention purge: up to `batch` settled deliveries created before
    /// `cutoff` (Unix ms; pending ones stay whatever their age), then the events created
    /// before it that have no delivery left, then finished messages created before it.
    /// Reads in id order from the oldest, so each batch is one short index range.
    ///
    /// # Errors
    /// Database errors.
    pub async fn purge_expired(&self, cutoff: i64, batch: i64) -> Result<Purged, StoreError> {
        let mut purged = Purged::default();
        let mut conn = self.writer().await?;
        // Rows are in creation order (near enough): the old ones are the ids below the
        // first young one, found by walking the key from the start.
        purged.deliveries = sqlx::query(sql!(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE id < COALESCE(\
             (SELECT MIN(id) FROM outbox WHERE created_at >= $1), {MAX_ID}) \
             AND created_at < $1 AND status <> {PENDING} ORDER BY id LIMIT $2)"
        ))
        .bind(cutoff)
        .bind(batch)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        purged.events = sqlx::query(sql!(
            "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE seq < COALESCE(\
             (SELECT MIN(seq) FROM events WHERE created_at >= $1), {MAX_ID}) \
             AND created_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.event_seq = events.seq) \
             ORDER BY seq LIMIT $2)"
        ))
        .bind(cutoff)
        .bind(batch)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        purged.messages = sqlx::query(sql!(
            "DELETE FROM messages WHERE seq IN (SELECT seq FROM messages WHERE created_at < $1 \
             AND state <> {SCHEDULED} AND (event_seq IS NULL OR NOT EXISTS \
             (SELECT 1 FROM outbox WHERE outbox.event_seq = messages.event_seq \
             AND outbox.status = {PENDING})) ORDER BY seq LIMIT $2)"
        ))
        .bind(cutoff)
        .bind(batch)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        Ok(purged)
    }
}

use state::{CANCELLED as CANCELLED_MESSAGE, RELEASED, SCHEDULED};

/// Inside `tx`: the event of message `seq` and its deliveries to `audience`; the message
/// notes the event and how many deliveries it got.
#[allow(clippy::too_many_arguments)]
async fn release_in(
    tx: &mut sqlx::AnyConnection,
    backend: Backend,
    seq: i64,
    event: &Event,
    audience: &Audience,
    locale: Option<&str>,
    routes: &[Route],
    now: i64,
) -> Result<Committed, StoreError> {
    let committed = record_events(
        tx,
        backend,
        std::slice::from_ref(event),
        true,
        routes,
        Some((audience, locale)),
        now,
    )
    .await?
    .pop()
    .unwrap_or_default();
    sqlx::query(
        "UPDATE messages SET event_seq = (SELECT seq FROM events WHERE event_id = $1), \
         deliveries = $2, updated_at = $3 WHERE seq = $4",
    )
    .bind(&event.id)
    .bind(i64::try_from(committed.deliveries).unwrap_or(i64::MAX))
    .bind(now)
    .bind(seq)
    .execute(&mut *tx)
    .await?;
    Ok(committed)
}
