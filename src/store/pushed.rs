//! Pushed match snapshots: the inbox of `push` sources. The ingest API appends, the source's
//! poller reads in order and deletes what its committed cursor has passed.

use super::{Store, StoreError, now_ms};
use crate::model::MatchState;

/// A snapshot waiting for its source's poller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// Its place in the inbox.
    pub seq: i64,
    /// The producer's version of the match, if it gave one.
    pub sequence: Option<i64>,
    /// The snapshot (its id not yet qualified by the source id).
    pub state: MatchState,
}

impl Store {
    /// Appends a snapshot to the inbox of the push source `source`; returns its place.
    ///
    /// # Errors
    /// Database errors.
    pub async fn push_snapshot(
        &self,
        source: &str,
        state: &MatchState,
        sequence: Option<i64>,
    ) -> Result<i64, StoreError> {
        let json = serde_json::to_string(state).map_err(|source| StoreError::Corrupt {
            what: "pushed snapshot",
            source,
        })?;
        let seq = sqlx::query_scalar(
            "INSERT INTO pushed (source, match_id, sequence, state, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING seq",
        )
        .bind(source)
        .bind(&state.id)
        .bind(sequence)
        .bind(json)
        .bind(now_ms())
        .fetch_one(&mut *self.writer().await?)
        .await?;
        self.notify(&[crate::signal::poll_waker(source).as_str()])
            .await?;
        Ok(seq)
    }

    /// Up to `limit` snapshots of `source` after `after`, in order.
    ///
    /// # Errors
    /// Database errors, or a stored snapshot that no longer reads.
    pub async fn pushed_after(
        &self,
        source: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Pushed>, StoreError> {
        let rows: Vec<(i64, Option<i64>, String)> = sqlx::query_as(
            "SELECT seq, sequence, state FROM pushed WHERE source = $1 AND seq > $2 \
             ORDER BY seq LIMIT $3",
        )
        .bind(source)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(seq, sequence, state)| {
                Ok(Pushed {
                    seq,
                    sequence,
                    state: serde_json::from_str(&state).map_err(|source| StoreError::Corrupt {
                        what: "pushed snapshot",
                        source,
                    })?,
                })
            })
            .collect()
    }

    /// Deletes the snapshots of `source` up to `seq` (a committed cursor has passed them).
    ///
    /// # Errors
    /// Database errors.
    pub async fn forget_pushed(&self, source: &str, up_to: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM pushed WHERE source = $1 AND seq <= $2")
            .bind(source)
            .bind(up_to)
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(done.rows_affected())
    }
}
