//! The outbox: deliveries queued per sink and recipient, claimed, settled, retried, dead,
//! and read back (receipts for corrections, the SSE history, dead letters).

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
    /// The next delivery of every recipient of `sink` that is due and not claimed, oldest
    /// first. Only the head of each recipient's queue is returned: per-recipient order.
    ///
    /// # Errors
    /// Database errors, or an event payload that does not parse.
    pub async fn due(&self, sink: &str, limit: usize) -> Result<Vec<Queued>, StoreError> {
        let now = now_ms();
        let rows: Vec<QueuedRow> = sqlx::query_as(sql!(
            "SELECT o.id, o.recipient, o.locale, o.attempts, e.payload, e.created_at \
             FROM outbox o JOIN events e ON e.seq = o.event_seq \
             WHERE o.id IN (SELECT MIN(id) FROM outbox WHERE sink = $1 AND status = {PENDING} GROUP BY recipient) \
             AND o.next_attempt_at <= $2 AND (o.claimed_until IS NULL OR o.claimed_until < $2) \
             ORDER BY o.id LIMIT $3"
        ))
        .bind(sink)
        .bind(now)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Queued::try_from).collect()
    }

    /// When the earliest pending delivery of `sink` is due (ms), if any.
    ///
    /// # Errors
    /// Database errors.
    pub async fn next_due_at(&self, sink: &str) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(sql!(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE sink = $1 AND status = {PENDING}"
        ))
        .bind(sink)
        .fetch_one(&self.pool)
        .await?)
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

    /// Reserves delivery `id` for `holder` for `ttl`; `false` if someone else has it.
    ///
    /// # Errors
    /// Database errors.
    pub async fn claim(&self, id: i64, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        let now = now_ms();
        let result = sqlx::query(sql!(
            "UPDATE outbox SET claimed_by = $1, claimed_until = $2, updated_at = $3 \
             WHERE id = $4 AND status = {PENDING} AND (claimed_until IS NULL OR claimed_until < $3)"
        ))
        .bind(holder)
        .bind(now + ms(ttl))
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// After `holder` claimed the head of a recipient's queue, claims up to `limit` deliveries
    /// queued behind it for the same recipient and returns them in order: a run that can be
    /// sent without going back to the database between deliveries.
    ///
    /// # Errors
    /// Database errors, or an event payload that does not parse.
    pub async fn claim_following(
        &self,
        sink: &str,
        head: &Queued,
        holder: &str,
        ttl: Duration,
        limit: usize,
    ) -> Result<Vec<Queued>, StoreError> {
        let now = now_ms();
        let recipient = head.recipient.as_str();
        sqlx::query(sql!(
            "UPDATE outbox SET claimed_by = $1, claimed_until = $2, updated_at = $3 WHERE id IN \
             (SELECT id FROM outbox WHERE sink = $4 AND recipient = $5 AND status = {PENDING} AND id > $6 \
             AND (claimed_until IS NULL OR claimed_until < $3) ORDER BY id LIMIT $7)"
        ))
        .bind(holder)
        .bind(now + ms(ttl))
        .bind(now)
        .bind(sink)
        .bind(recipient)
        .bind(head.id)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .execute(&self.pool)
        .await?;
        let rows: Vec<QueuedRow> = sqlx::query_as(sql!(
            "SELECT o.id, o.recipient, o.locale, o.attempts, e.payload, e.created_at \
             FROM outbox o JOIN events e ON e.seq = o.event_seq \
             WHERE o.sink = $1 AND o.recipient = $2 AND o.status = {PENDING} AND o.id > $3 AND o.claimed_by = $4 \
             ORDER BY o.id"
        ))
        .bind(sink)
        .bind(recipient)
        .bind(head.id)
        .bind(holder)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Queued::try_from).collect()
    }

    /// Marks deliveries done that have no platform message id.
    ///
    /// # Errors
    /// Database errors.
    pub async fn delivered_many(&self, ids: &[i64]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "UPDATE outbox SET status = {DELIVERED}, receipt = NULL, claimed_by = NULL, claimed_until = NULL, \
             last_error = NULL, updated_at = $1 WHERE id IN ({})",
            placeholders(2, ids.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now_ms());
        for id in ids {
            query = query.bind(*id);
        }
        query.execute(&self.pool).await?;
        Ok(())
    }

    /// Gives claimed deliveries back without attempting them (the run stopped early).
    ///
    /// # Errors
    /// Database errors.
    pub async fn release(&self, ids: &[i64]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE status = {PENDING} AND id IN ({})",
            placeholders(1, ids.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(*id);
        }
        query.execute(&self.pool).await?;
        Ok(())
    }

    /// Marks delivery `id` done, with the platform's message id.
    ///
    /// # Errors
    /// Database errors.
    pub async fn delivered(&self, id: i64, receipt: Option<&str>) -> Result<(), StoreError> {
        sqlx::query(sql!(
            "UPDATE outbox SET status = {DELIVERED}, receipt = $1, claimed_by = NULL, claimed_until = NULL, \
             last_error = NULL, updated_at = $2 WHERE id = $3"
        ))
        .bind(receipt)
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
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
        .execute(&self.pool)
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

    /// Marks a delivery as deliberately not sent, with the reason.
    ///
    /// # Errors
    /// Database errors.
    pub async fn skip(&self, id: i64, reason: &str) -> Result<(), StoreError> {
        self.settle(id, SKIPPED, None, reason).await
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
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// How many deliveries `sink` made to `recipient` since `since_ms`.
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
            "SELECT COUNT(*) FROM outbox WHERE sink = $1 AND status = {DELIVERED} AND recipient = $2 \
             AND updated_at >= $3"
        ))
        .bind(sink)
        .bind(recipient)
        .bind(since_ms)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Releases the claims `holder` still has (deliveries cut short at shutdown), so they are
    /// due again at once for the next start or another instance.
    ///
    /// # Errors
    /// Database errors.
    pub async fn release_claims(&self, holder: &str) -> Result<u64, StoreError> {
        let result = sqlx::query(sql!(
            "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = $1 AND status = {PENDING}"
        ))
        .bind(holder)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected())
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

    /// The last `limit` deliveries made by `sink`, oldest first (to seed the SSE history).
    ///
    /// # Errors
    /// Database errors, or an event payload that does not parse.
    pub async fn recent_delivered(
        &self,
        sink: &str,
        limit: usize,
    ) -> Result<Vec<Queued>, StoreError> {
        let rows: Vec<QueuedRow> = sqlx::query_as(sql!(
            "SELECT o.id, o.recipient, o.locale, o.attempts, e.payload, e.created_at \
             FROM outbox o JOIN events e ON e.seq = o.event_seq \
             WHERE o.sink = $1 AND o.status = {DELIVERED} ORDER BY o.updated_at DESC, o.id DESC LIMIT $2"
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
        Ok(query.execute(&self.pool).await?.rows_affected())
    }
}

/// `$first, $first+1, …` for `count` bound values (only numbers are ever spliced into SQL).
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
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
fn parse_event(payload: &str) -> Result<Event, StoreError> {
    serde_json::from_str(payload).map_err(|source| StoreError::Corrupt {
        what: "event payload",
        source,
    })
}
