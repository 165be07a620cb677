//! Rate limits kept in the store, so that they hold across restarts and across every
//! instance sharing the database: GCRA (the algorithm of `governor`) as one atomic statement.

use std::time::Duration;

use super::{Store, StoreError, ms, now_ms};

impl Store {
    /// Takes one unit of `key`'s budget of `count` per `period` (a burst of `count` allowed).
    /// Returns whether it was admitted; a refused request takes nothing. Atomic: any number
    /// of concurrent callers on any number of instances admit at most the budget.
    ///
    /// # Errors
    /// Database errors.
    pub async fn rate_limit(
        &self,
        key: &str,
        count: u32,
        period: Duration,
    ) -> Result<bool, StoreError> {
        let count = i64::from(count.max(1));
        let interval = (ms(period) / count).max(1);
        // The next request is allowed while the theoretical arrival time is at most this far
        // ahead of now.
        let tolerance = interval * (count - 1);
        let now = now_ms();
        let admitted = sqlx::query(
            "INSERT INTO rate_limits (key, tat) VALUES ($1, $2 + $3) \
             ON CONFLICT (key) DO UPDATE SET \
             tat = (CASE WHEN rate_limits.tat > $2 THEN rate_limits.tat ELSE $2 END) + $3 \
             WHERE (CASE WHEN rate_limits.tat > $2 THEN rate_limits.tat ELSE $2 END) - $2 <= $4",
        )
        .bind(key)
        .bind(now)
        .bind(interval)
        .bind(tolerance)
        .execute(&mut *self.writer().await?)
        .await?
        .rows_affected();
        Ok(admitted == 1)
    }

    /// Forgets rate-limit entries whose budget is whole again. Returns how many.
    ///
    /// # Errors
    /// Database errors.
    pub async fn sweep_rate_limits(&self) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM rate_limits WHERE tat < $1")
            .bind(now_ms())
            .execute(&mut *self.writer().await?)
            .await?
            .rows_affected())
    }
}
