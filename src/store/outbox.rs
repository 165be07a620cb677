//! The outbox: deliveries queued per sink and recipient, retried, dead, skipped, and read
//! back (receipts for corrections, the SSE history, dead letters).

use std::time::Duration;

use sink_api::Recipient;

use super::status::{DEAD, DELIVERED, PENDING, SKIPPED};
use super::{Store, StoreError, ms, now_ms};
use crate::model::Event;

/// A delivery waiting to be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    /// Outbox row id: the delivery's sequence number.
    pub id: i64,
    /// Who receives it.
    pub recipient: Recipient,
    /// Locale to render in.
    pub locale: String,
    /// Failed attempts so far.
    pub attempts: u32,
    /// The event.
    pub event: Event,
    /// When the event was recorded (ms).
    pub created_at_ms: i64,
}

/// A delivery that was given up on (read as selected: `o.updated_at AS updated_at_ms`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeadLetter {
    /// Outbox row id.
    pub id: i64,
    /// Sink instance.
    pub sink: String,
    /// Recipient.
    pub recipient: String,
    /// The event id.
    pub event_id: String,
    /// The event kind.
    pub kind: String,
    /// Failed attempts.
    pub attempts: i64,
    /// The last error.
    pub last_error: Option<String>,
    /// When it died (ms).
    pub updated_at_ms: i64,
}

impl Store {
    /// Every sink with pending deliveries that nobody holds, and when the earliest of them is
    /// due (ms): what a sweep wakes (retries that came due).
    ///
    /// # Errors
    /// Database errors.
    pub async fn due_sinks(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows: Vec<DueRow> = sqlx::query_as(sql!(
            "SELECT sink, MIN(next_attempt_at) AS due FROM outbox WHERE status = {PENDING} \
             AND (claimed_until IS NULL OR claimed_until < $1) GROUP BY sink"
        ))
        .bind(now_ms())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| (r.sink, r.due)).collect())
    }

    /// How many deliveries of `sink` are pending.
    ///
    /// # Errors
    /// Database errors.
    pub async fn pending(&self, sink: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(sql!(
            "SELECT COUNT(*) FROM outbox WHERE sink = $1 AND status = {PENDING}"
        ))
        .bind(sink)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Schedules delivery `id` again after `delay`, recording `attempts` and the error.
    ///
    /// # Errors
    /// Database errors.
    pub async fn retry_later(
        &self,
        id: i64,
        attempts: u32,
        delay: Duration,
        error: &str,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        sqlx::query(
            "UPDATE outbox SET attempts = $1, next_attempt_at = $2, last_error = $3, \
             claimed_by = NULL, claimed_until = NULL, updated_at = $4 WHERE id = $5",
        )
        .bind(i64::from(attempts))
        .bind(now + ms(delay))
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// Gives up on delivery `id`: it becomes a dead letter.
    ///
    /// # Errors
    /// Database errors.
    pub async fn dead(&self, id: i64, attempts: u32, error: &str) -> Result<(), StoreError> {
        self.settle(id, DEAD, Some(attempts), error).await
    }

    /// The platform reported after the fact that the delivery of `sink` to `recipient` whose
    /// receipt is `receipt` did not arrive (a callback, a delivery report): it becomes a dead
    /// letter with `error`. Returns whether there was such a delivery; a report about one that
    /// is not recorded as delivered (unknown, or dead already) changes nothing.
    ///
    /// # Errors
    /// Database errors.
    pub async fn dead_after_delivery(
        &self,
        sink: &str,
        recipient: &str,
        receipt: &str,
        error: &str,
    ) -> Result<bool, StoreError> {
        // Delivered rows of one recipient are indexed (`outbox_delivered_to`): the receipt is
        // found among them.
        let changed = sqlx::query(sql!(
            "UPDATE outbox SET status = {DEAD}, last_error = $1, updated_at = $2 \
             WHERE sink = $3 AND recipient = $4 AND receipt = $5 AND status = {DELIVERED}"
        ))
        .bind(error)
        .bind(now_ms())
        .bind(sink)
        .bind(recipient)
        .bind(receipt)
        .execute(&mut *self.writer().await?)
        .await?
        .rows_affected();
        Ok(changed > 0)
    }

    /// Marks a delivery as deliberately not sent, with the reason.
    ///
    /// # Errors
    /// Database errors.
    pub async fn skip(&self, id: i64, reason: &str) -> Result<(), StoreError> {
        self.settle(id, SKIPPED, None, reason).await
    }

    /// The deliveries of `sink` deliberately not sent (a daily cap, a kind dropped in quiet
    /// hours), oldest first: each one's event kind and why.
    ///
    /// # Errors
    /// Database errors.
    pub async fn skipped(&self, sink: &str) -> Result<Vec<(String, String)>, StoreError> {
        let rows: Vec<(String, Option<String>)> = sqlx::query_as(sql!(
            "SELECT e.kind, o.last_error FROM outbox o JOIN events e ON e.seq = o.event_seq \
             WHERE o.sink = $1 AND o.status = {SKIPPED} ORDER BY o.id"
        ))
        .bind(sink)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(kind, why)| (kind, why.unwrap_or_default()))
            .collect())
    }

    /// Ends delivery `id` unsent with `status` (`DEAD` or `SKIPPED`) and why, recording
    /// `attempts` when given.
    async fn settle(
        &self,
        id: i64,
        status: i64,
        attempts: Option<u32>,
        error: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET status = $1, attempts = COALESCE($2, attempts), last_error = $3, \
             claimed_by = NULL, claimed_until = NULL, updated_at = $4 WHERE id = $5",
        )
        .bind(status)
        .bind(attempts.map(i64::from))
        .bind(error)
        .bind(now_ms())
        .bind(id)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// How many messages `sink` sent `recipient` since `since_ms`: deliveries merged into one
    /// message share its receipt and count once.
    ///
    /// # Errors
    /// Database errors.
    pub async fn delivered_since(
        &self,
        sink: &str,
        recipient: &str,
        since_ms: i64,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(sql!(
            "SELECT COUNT(DISTINCT COALESCE(receipt, 'row:' || CAST(id AS TEXT))) FROM outbox \
             WHERE sink = $1 AND status = {DELIVERED} AND recipient = $2 AND updated_at >= $3"
        ))
        .bind(sink)
        .bind(recipient)
        .bind(since_ms)
        .fetch_one(&self.pool)
        .await?)
    }

    /// The platform message id this recipient got for `event_id`, for edits.
    ///
    /// # Errors
    /// Database errors.
    pub async fn receipt(
        &self,
        sink: &str,
        recipient: &str,
        event_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let receipt: Option<Option<String>> = sqlx::query_scalar(sql!(
            "SELECT o.receipt FROM outbox o JOIN events e ON e.seq = o.event_seq \
             WHERE e.event_id = $1 AND o.sink = $2 AND o.recipient = $3 AND o.status = {DELIVERED}"
        ))
        .bind(event_id)
        .bind(sink)
        .bind(recipient)
        .fetch_optional(&self.pool)
        .await?;
        Ok(receipt.flatten())
    }

    /// A recorded event by its id.
    ///
    /// # Errors
    /// Database errors, or a payload that does not parse.
    pub async fn event(&self, event_id: &str) -> Result<Option<Event>, StoreError> {
        let payload: Option<String> =
            sqlx::query_scalar("SELECT payload FROM events WHERE event_id = $1")
                .bind(event_id)
                .fetch_optional(&self.pool)
                .await?;
        payload.as_deref().map(parse_event).transpose()
    }

    /// The last `limit` notifications of broadcast sink `sink`, oldest first: the history a
    /// stream is seeded with at startup.
    ///
    /// # Errors
    /// Database errors, or an event payload that does not parse.
    pub async fn broadcast_recent(
        &self,
        sink: &str,
        limit: usize,
    ) -> Result<Vec<Queued>, StoreError> {
        let rows: Vec<QueuedRow> = sqlx::query_as(sql!(
            "SELECT o.id, o.recipient, o.locale, o.attempts, e.payload, e.created_at \
             FROM outbox o JOIN events e ON e.seq = o.event_seq \
             WHERE o.sink = $1 AND o.status = {DELIVERED} ORDER BY o.id DESC LIMIT $2"
        ))
        .bind(sink)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        let mut out = rows
            .into_iter()
            .map(Queued::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        out.reverse();
        Ok(out)
    }

    /// Up to `limit` notifications of broadcast sink `sink` after id `after`, in id order: what
    /// an instance has not served yet. Ids are in commit order for broadcast rows (see
    /// `record_events`), so nothing committed can later appear behind `after`.
    ///
    /// # Errors
    /// Database errors, or an event payload that does not parse.
    pub async fn broadcast_after(
        &self,
        sink: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<Queued>, StoreError> {
        let rows: Vec<QueuedRow> = sqlx::query_as(sql!(
            "SELECT o.id, o.recipient, o.locale, o.attempts, e.payload, e.created_at \
             FROM outbox o JOIN events e ON e.seq = o.event_seq \
             WHERE o.sink = $1 AND o.status = {DELIVERED} AND o.id > $2 ORDER BY o.id LIMIT $3"
        ))
        .bind(sink)
        .bind(after)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Queued::try_from).collect()
    }

    /// Marks every pending delivery of broadcast sink `sink` as served: rows queued for it
    /// before it was a broadcast sink (an older herald), which its follower has served from
    /// the history or does not need.
    ///
    /// # Errors
    /// Database errors.
    pub async fn settle_broadcast(&self, sink: &str) -> Result<u64, StoreError> {
        Ok(sqlx::query(sql!(
            "UPDATE outbox SET status = {DELIVERED}, claimed_by = NULL, claimed_until = NULL, \
             updated_at = $1 WHERE sink = $2 AND status = {PENDING}"
        ))
        .bind(now_ms())
        .bind(sink)
        .execute(&mut *self.writer().await?)
        .await?
        .rows_affected())
    }

    /// Dead letters, newest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn dead_letters(&self, limit: i64) -> Result<Vec<DeadLetter>, StoreError> {
        Ok(sqlx::query_as(sql!(
            "SELECT o.id, o.sink, o.recipient, e.event_id, e.kind, o.attempts, o.last_error, \
             o.updated_at AS updated_at_ms FROM outbox o JOIN events e ON e.seq = o.event_seq \
             WHERE o.status = {DEAD} ORDER BY o.updated_at DESC, o.id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Queues dead letters again (one, or all with `None`); returns how many.
    ///
    /// # Errors
    /// Database errors.
    pub async fn requeue_dead(&self, id: Option<i64>) -> Result<u64, StoreError> {
        let now = now_ms();
        let query = match id {
            Some(id) => sqlx::query(sql!(
                "UPDATE outbox SET status = {PENDING}, attempts = 0, next_attempt_at = $1, updated_at = $1 \
                 WHERE status = {DEAD} AND id = $2"
            ))
            .bind(now)
            .bind(id),
            None => sqlx::query(sql!(
                "UPDATE outbox SET status = {PENDING}, attempts = 0, next_attempt_at = $1, updated_at = $1 \
                 WHERE status = {DEAD}"
            ))
            .bind(now),
        };
        Ok(query
            .execute(&mut *self.writer().await?)
            .await?
            .rows_affected())
    }
}

/// A sink's earliest due delivery, as selected: `sink, MIN(next_attempt_at) AS due`.
#[derive(sqlx::FromRow)]
struct DueRow {
    sink: String,
    due: i64,
}

/// A delivery with its event, as selected:
/// `o.id, o.recipient, o.locale, o.attempts, e.payload, e.created_at`.
#[derive(sqlx::FromRow)]
struct QueuedRow {
    id: i64,
    recipient: String,
    locale: String,
    attempts: i64,
    /// The event as JSON.
    payload: String,
    created_at: i64,
}

impl TryFrom<QueuedRow> for Queued {
    type Error = StoreError;

    fn try_from(r: QueuedRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: r.id,
            recipient: Recipient::new(r.recipient),
            locale: r.locale,
            attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
            event: parse_event(&r.payload)?,
            created_at_ms: r.created_at,
        })
    }
}

/// An event as stored in `events.payload`.
pub(super) fn parse_event(payload: &str) -> Result<Event, StoreError> {
    serde_json::from_str(payload).map_err(|source| StoreError::Corrupt {
        what: "event payload",
        source,
    })
}
