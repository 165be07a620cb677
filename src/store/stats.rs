//! What operators read off the store: each sink's queue depth, its oldest waiting delivery
//! and its dead letters; whether the store answers and is fully migrated.

use super::status::{DEAD, PENDING};
use super::{Store, StoreError, migrate, now_ms};

/// One sink's outbox, as `/metrics` reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Deliveries waiting (due or retrying later).
    pub pending: i64,
    /// Milliseconds since the oldest waiting delivery was queued (0 when none waits).
    pub oldest_pending_ms: i64,
    /// Deliveries given up on.
    pub dead: i64,
}

/// As selected: `sink, COUNT(*) AS n, MIN(created_at) AS oldest`.
#[derive(sqlx::FromRow)]
struct CountRow {
    sink: String,
    n: i64,
    oldest: i64,
}

impl Store {
    /// Every sink's outbox figures, by sink id (sinks with nothing waiting or dead are left
    /// out).
    ///
    /// # Errors
    /// Database errors.
    pub async fn outbox_stats(
        &self,
    ) -> Result<std::collections::BTreeMap<String, OutboxStats>, StoreError> {
        let pending: Vec<CountRow> = sqlx::query_as(sql!(
            "SELECT sink, COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox \
             WHERE status = {PENDING} GROUP BY sink"
        ))
        .fetch_all(&self.pool)
        .await?;
        let dead: Vec<CountRow> = sqlx::query_as(sql!(
            "SELECT sink, COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox \
             WHERE status = {DEAD} GROUP BY sink"
        ))
        .fetch_all(&self.pool)
        .await?;
        let now = now_ms();
        let mut stats = std::collections::BTreeMap::<String, OutboxStats>::new();
        for row in pending {
            let s = stats.entry(row.sink).or_default();
            s.pending = row.n;
            s.oldest_pending_ms = (now - row.oldest).max(0);
        }
        for row in dead {
            stats.entry(row.sink).or_default().dead = row.n;
        }
        Ok(stats)
    }

    /// How many of herald's migrations the database lacks (0 when it is up to date).
    ///
    /// # Errors
    /// The store does not answer.
    pub async fn pending_migrations(&self) -> Result<usize, StoreError> {
        let mut conn = self.pool.acquire().await?;
        Ok(migrate::pending(&mut conn, self.backend).await?)
    }
}
