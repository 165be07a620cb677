//! The outbox: deliveries queued per sink and recipient, claimed, settled, retried, dead,
//! and read back (receipts for corrections, the SSE history, dead letters).

use std::collections::HashMap;
use std::time::Duration;

use sink_api::Recipient;

use super::status::{DEAD, DELIVERED, PENDING, SKIPPED};
use super::{Backend, Store, StoreError, ms, now_ms};
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
    /// Claims, for `holder` and `ttl`, the head delivery of up to `limit` recipients of
    /// `sink` whose head is due and not claimed, oldest first, and returns them. Only the head
    /// of each recipient's queue is taken: per-recipient order. One statement for the whole
    /// batch, walking the sink's pending rows in id order (index `outbox_sink_order`) and
    /// stopping at `limit`, each row checked for being its recipient's oldest (one probe of
    /// index `outbox_queue`, whatever the statistics say: the form the planner cannot turn into
    /// a scan of the whole queue per row); on PostgreSQL rows another instance is claiming at the same moment are
    /// skipped (`FOR UPDATE SKIP LOCKED`), never waited for or taken twice.
    ///
    /// # Errors
    /// Database errors, or an event payload that does not parse.
    pub async fn claim(
        &self,
        sink: &str,
        holder: &str,
        ttl: Duration,
        limit: usize,
    ) -> Result<Vec<Queued>, StoreError> {
        let now = now_ms();
        let statement = match self.backend {
            Backend::Postgres => &CLAIM.0,
            Backend::Sqlite => &CLAIM.1,
        };
        let rows: Vec<ClaimedRow> = sqlx::query_as(statement.as_str())
            .bind(holder)
            .bind(now + ms(ttl))
            .bind(now)
            .bind(sink)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        self.with_events(rows).await
    }

    /// After `holder` claimed the heads of `recipients`' queues, claims up to `per_recipient`
    /// deliveries queued behind each head and returns them in order: runs that can be sent
    /// without going back to the database between deliveries. Nobody else can claim them:
    /// they sit behind a head `holder` has.
    ///
    /// # Errors
    /// Database errors, or an event payload that does not parse.
    pub async fn claim_following(
        &self,
        sink: &str,
        recipients: &[&str],
        holder: &str,
        ttl: Duration,
        per_recipient: usize,
    ) -> Result<Vec<Queued>, StoreError> {
        let mut out = Vec::new();
        for chunk in recipients.chunks(MAX_BINDS_PER_STATEMENT / 2) {
            let now = now_ms();
            let statement = format!(
                "UPDATE outbox SET claimed_by = $1, claimed_until = $2, updated_at = $3 WHERE id IN \
                 (SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY recipient ORDER BY id) AS rn \
                 FROM outbox WHERE sink = $4 AND status = {PENDING} \
                 AND (claimed_until IS NULL OR claimed_until < $3) AND recipient IN ({})) AS behind \
                 WHERE rn <= $5) \
                 RETURNING id, recipient, locale, attempts, event_seq",
                placeholders(6, chunk.len())
            );
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(statement))
                .bind(holder)
                .bind(now + ms(ttl))
                .bind(now)
                .bind(sink)
                .bind(i64::try_from(per_recipient).unwrap_or(i64::MAX));
            for recipient in chunk {
                query = query.bind(*recipient);
            }
            let rows: Vec<ClaimedRow> = query.fetch_all(&self.pool).await?;
            out.extend(self.with_events(rows).await?);
        }
        Ok(out)
    }

    /// Claimed rows with their events, in id order (`RETURNING` keeps none): each event's
    /// payload is read and parsed once for all the deliveries that share it.
    async fn with_events(&self, mut rows: Vec<ClaimedRow>) -> Result<Vec<Queued>, StoreError> {
        rows.sort_by_key(|r| r.id);
        let mut seqs: Vec<i64> = rows.iter().map(|r| r.event_seq).collect();
        seqs.sort_unstable();
        seqs.dedup();
        let mut events = HashMap::with_capacity(seqs.len());
        for chunk in seqs.chunks(MAX_BINDS_PER_STATEMENT) {
            let statement = format!(
                "SELECT seq, payload, created_at FROM events WHERE seq IN ({})",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query_as::<_, EventRow>(sqlx::AssertSqlSafe(statement));
            for seq in chunk {
                query = query.bind(*seq);
            }
            for row in query.fetch_all(&self.pool).await? {
                events.insert(row.seq, (parse_event(&row.payload)?, row.created_at));
            }
        }
        rows.into_iter()
            .map(|r| {
                let (event, created_at_ms) =
                    events
                        .get(&r.event_seq)
                        .cloned()
                        .ok_or_else(|| StoreError::Missing {
                            what: "event of a delivery",
                        })?;
                Ok(Queued {
                    id: r.id,
                    recipient: Recipient::new(r.recipient),
                    locale: r.locale,
                    attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
                    event,
                    created_at_ms,
                })
            })
            .collect()
    }

    /// Every sink with pending deliveries that nobody holds, and when the earliest of them is
    /// due (ms): what a sweep wakes (retries that came due, claims that expired).
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

    /// Records deliveries as done, with the platform's message id where there is one: one
    /// statement per few hundred deliveries.
    ///
    /// # Errors
    /// Database errors.
    pub async fn delivered(&self, done: &[(i64, Option<String>)]) -> Result<(), StoreError> {
        // Two binds per delivery (its id in the CASE and in the IN list), the receipt a third.
        for chunk in done.chunks(MAX_BINDS_PER_STATEMENT / 3) {
            let now = now_ms();
            let mut cases = String::new();
            let mut next = 2;
            for (_, receipt) in chunk {
                if receipt.is_some() {
                    cases.push_str(&format!(" WHEN ${next} THEN ${}", next + 1));
                    next += 2;
                }
            }
            let receipt = if cases.is_empty() {
                "NULL".to_owned()
            } else {
                format!("CASE id{cases} ELSE NULL END")
            };
            let statement = format!(
                "UPDATE outbox SET status = {DELIVERED}, receipt = {receipt}, claimed_by = NULL, \
                 claimed_until = NULL, last_error = NULL, updated_at = $1 WHERE id IN ({})",
                placeholders(next, chunk.len())
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(statement)).bind(now);
            for (id, receipt) in chunk {
                if let Some(receipt) = receipt {
                    query = query.bind(*id).bind(receipt.as_str());
                }
            }
            for (id, _) in chunk {
                query = query.bind(*id);
            }
            query.execute(&self.pool).await?;
        }
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
        .execute(&self.pool)
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
        Ok(query.execute(&self.pool).await?.rows_affected())
    }
}

/// The claim of [`Store::claim`]: for PostgreSQL, and for SQLite (one writer at a time: the
/// statement is atomic as it is, and it has no row locks to skip).
static CLAIM: std::sync::LazyLock<(String, String)> = std::sync::LazyLock::new(|| {
    let claim = |locking: &str| {
        format!(
            "UPDATE outbox SET claimed_by = $1, claimed_until = $2, updated_at = $3 WHERE id IN \
             (SELECT o.id FROM outbox o WHERE o.sink = $4 AND o.status = {PENDING} \
             AND o.next_attempt_at <= $3 AND (o.claimed_until IS NULL OR o.claimed_until < $3) \
             AND o.id = (SELECT MIN(p.id) FROM outbox p WHERE p.sink = $4 \
             AND p.status = {PENDING} AND p.recipient = o.recipient) \
             ORDER BY o.id LIMIT $5{locking}) \
             RETURNING id, recipient, locale, attempts, event_seq"
        )
    };
    (claim(" FOR UPDATE SKIP LOCKED"), claim(""))
});

/// Most values bound in one statement built by [`placeholders`]: far below SQLite's and
/// PostgreSQL's limits (32,766 and 65,535), large enough that a batch is a few statements.
pub(super) const MAX_BINDS_PER_STATEMENT: usize = 3_000;

/// `$first, $first+1, …` for `count` bound values (only numbers are ever spliced into SQL).
pub(super) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A claimed delivery, as returned: `id, recipient, locale, attempts, event_seq`.
#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: i64,
    recipient: String,
    locale: String,
    attempts: i64,
    event_seq: i64,
}

/// An event's payload, as selected: `seq, payload, created_at`.
#[derive(sqlx::FromRow)]
struct EventRow {
    seq: i64,
    payload: String,
    created_at: i64,
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
fn parse_event(payload: &str) -> Result<Event, StoreError> {
    serde_json::from_str(payload).map_err(|source| StoreError::Corrupt {
        what: "event payload",
        source,
    })
}
