//! Instance liveness in the store: each process registers, refreshes its row, and releases
//! what a dead instance held (leases; delivery claims of herald versions that claimed them).

use std::time::Duration;

use super::status::PENDING;
use super::{Store, StoreError, ms, now_ms};

/// What releasing a dead instance's work freed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reaped {
    /// Instances found dead.
    pub instances: u64,
    /// Delivery claims released (left by a version that claimed deliveries one by one).
    pub claims: u64,
    /// Source leases released.
    pub leases: u64,
}

impl Reaped {
    /// Whether anything was released.
    pub fn any(&self) -> bool {
        self.instances + self.claims + self.leases > 0
    }
}

impl Store {
    /// Records `instance` as alive now (inserting it when it is not there). Returns `false`
    /// when its row was gone: another instance found it silent and took its work over.
    ///
    /// # Errors
    /// Database errors.
    pub async fn heartbeat(&self, instance: &str) -> Result<bool, StoreError> {
        let now = now_ms();
        let updated = sqlx::query("UPDATE instances SET seen_at = $1 WHERE id = $2")
            .bind(now)
            .bind(instance)
            .execute(&mut *self.writer().await?)
            .await?
            .rows_affected();
        if updated == 1 {
            return Ok(true);
        }
        sqlx::query(
            "INSERT INTO instances (id, started_at, seen_at) VALUES ($1, $2, $2) \
             ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
        )
        .bind(instance)
        .bind(now)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(false)
    }

    /// PostgreSQL: records `instance` as alive now, in one statement that also tells whether
    /// any other instance has been silent for longer than `timeout`. Returns (whether its row
    /// was there, whether another one is overdue); the caller then registers again or reaps.
    ///
    /// # Errors
    /// Database errors.
    pub async fn beat(
        &self,
        instance: &str,
        timeout: Duration,
    ) -> Result<(bool, bool), StoreError> {
        let now = now_ms();
        let row: BeatRow = sqlx::query_as(
            "WITH beat AS (UPDATE instances SET seen_at = $1 WHERE id = $2 RETURNING id) \
             SELECT (SELECT COUNT(*) FROM beat) AS beat, \
             (SELECT COUNT(*) FROM instances WHERE seen_at < $3 AND id <> $2) AS overdue",
        )
        .bind(now)
        .bind(instance)
        .bind(now - ms(timeout))
        .fetch_one(&mut *self.writer().await?)
        .await?;
        Ok((row.beat > 0, row.overdue > 0))
    }

    /// Forgets `instance` (a clean shutdown, after its claims and leases were given back).
    ///
    /// # Errors
    /// Database errors.
    pub async fn deregister(&self, instance: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM instances WHERE id = $1")
            .bind(instance)
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(())
    }

    /// Forgets every instance silent for longer than `timeout` and, when any was, or when
    /// `sweep` is set (at startup), releases every claim and lease whose holder is not a live
    /// instance: a crashed process's work is taken over without waiting for `claim_ttl` or
    /// `lease_ttl`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn reap_dead_instances(
        &self,
        timeout: Duration,
        sweep: bool,
    ) -> Result<Reaped, StoreError> {
        let mut conn = self.writer().await?;
        let mut tx = super::begin(&mut conn, self.backend).await?;
        let instances = sqlx::query("DELETE FROM instances WHERE seen_at < $1")
            .bind(now_ms() - ms(timeout))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let mut reaped = Reaped {
            instances,
            ..Reaped::default()
        };
        if instances > 0 || sweep {
            (reaped.claims, reaped.leases) = release_orphans(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(reaped)
    }

    /// Forgets every instance, claim and lease. Only for SQLite at startup: one process owns
    /// a SQLite file, so whatever another run registered, claimed or held is stale.
    ///
    /// # Errors
    /// Database errors.
    pub async fn reset_single_owner(&self) -> Result<Reaped, StoreError> {
        let mut conn = self.writer().await?;
        let mut tx = super::begin(&mut conn, self.backend).await?;
        let instances = sqlx::query("DELETE FROM instances")
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let (claims, leases) = release_orphans(&mut tx).await?;
        tx.commit().await?;
        Ok(Reaped {
            instances,
            claims,
            leases,
        })
    }
}

/// What [`Store::beat`] selects.
#[derive(sqlx::FromRow)]
struct BeatRow {
    beat: i64,
    overdue: i64,
}

/// Releases every pending delivery's claim and every lease whose holder is not a registered
/// instance; returns how many of each.
async fn release_orphans(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
) -> Result<(u64, u64), StoreError> {
    let claims = sqlx::query(sql!(
        "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL \
         WHERE status = {PENDING} AND claimed_by IS NOT NULL \
         AND claimed_by NOT IN (SELECT id FROM instances)"
    ))
    .execute(&mut **tx)
    .await?
    .rows_affected();
    let leases = sqlx::query("DELETE FROM leases WHERE holder NOT IN (SELECT id FROM instances)")
        .execute(&mut **tx)
        .await?
        .rows_affected();
    Ok((claims, leases))
}
