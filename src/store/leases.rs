//! Source leases: one instance polls a source at a time.

use std::time::Duration;

use super::{Store, StoreError, ms, now_ms};

impl Store {
    /// Takes or renews the lease `name` for `holder` for `ttl`. Returns whether `holder` holds
    /// it now. Works the same on both backends (an upsert that only wins when the lease is
    /// free, expired or already ours).
    ///
    /// # Errors
    /// Database errors.
    pub async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let result = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at < $4",
        )
        .bind(name)
        .bind(holder)
        .bind(now + ms(ttl))
        .bind(now)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Gives a lease up (at shutdown), so another instance can take over at once.
    ///
    /// # Errors
    /// Database errors.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(())
    }
}
