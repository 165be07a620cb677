//! The `push` source: match snapshots that producers push (`POST /api/v1/ingest`, `herald
//! ingest`), read from the store's inbox in the order they arrived and handed to detection
//! like a poll's. The poller's cursor says how far it has read, so a snapshot is applied once
//! even across crashes and instances; pushes wake the poller at once.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{NextPoll, Poll, Snapshot, Source, SourceError};
use crate::store::Store;

/// The `type` of push sources.
pub const KIND: &str = "push";

/// How often the inbox is read without being woken (a wake-up lost with the listening
/// connection is late by at most this much).
pub const READ_EVERY: Duration = Duration::from_secs(30);

/// The most snapshots one poll reads.
const BATCH: i64 = 200;

/// `[sources.<id>] type = "push"` has no keys of its own: the id names the namespace of the
/// pushed match ids.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {}

/// Where the source stands: the last snapshot read, and the newest producer version applied
/// per match (older ones that arrive later are ignored). Stored with each poll's commit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    seq: i64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    sequences: BTreeMap<String, i64>,
}

/// Reads the inbox of one push source.
#[derive(Debug)]
pub struct PushSource {
    id: String,
    store: Store,
    cursor: Cursor,
    /// Snapshots up to here are deleted from the inbox.
    forgotten: i64,
}

impl PushSource {
    /// The source `id`, reading its inbox in `store`.
    pub fn new(id: &str, store: Store) -> Self {
        Self {
            id: id.to_owned(),
            store,
            cursor: Cursor::default(),
            forgotten: 0,
        }
    }
}

impl Source for PushSource {
    async fn poll(&mut self) -> Result<Poll, SourceError> {
        // Asked for the next poll, the previous one is committed (or resumed from the store).
        if self.cursor.seq > self.forgotten {
            self.store
                .forget_pushed(&self.id, self.cursor.seq)
                .await
                .map_err(SourceError::Inbox)?;
            self.forgotten = self.cursor.seq;
        }
        let rows = self
            .store
            .pushed_after(&self.id, self.cursor.seq, BATCH)
            .await
            .map_err(SourceError::Inbox)?;
        let mut more = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= BATCH;
        let mut seen = HashSet::new();
        let mut matches = Vec::new();
        for row in rows {
            // One snapshot per match per poll: a second one waits for the next poll, so that
            // detection sees every step.
            if seen.contains(&row.state.id) {
                more = true;
                break;
            }
            self.cursor.seq = row.seq;
            if let Some(sequence) = row.sequence {
                let applied = self.cursor.sequences.get(&row.state.id).copied();
                if applied.is_some_and(|a| a >= sequence) {
                    tracing::info!(match_id = %row.state.id, sequence, "ignoring a pushed snapshot older than one already applied");
                    continue;
                }
                self.cursor.sequences.insert(row.state.id.clone(), sequence);
            }
            seen.insert(row.state.id.clone());
            matches.push(row.state);
        }
        Ok(Poll {
            snapshot: Snapshot { matches },
            next: NextPoll::After(if more { Duration::ZERO } else { READ_EVERY }),
            cursor: Some(serde_json::to_string(&self.cursor).unwrap_or_default()),
        })
    }

    fn has_backlog(&self) -> bool {
        false
    }

    fn resume(&mut self, cursor: &str) {
        match serde_json::from_str(cursor) {
            Ok(c) => self.cursor = c,
            Err(e) => {
                tracing::warn!(error = %e, "the stored cursor of this push source does not read; starting from the oldest pushed snapshot");
                self.cursor = Cursor::default();
            }
        }
        self.forgotten = 0;
    }
}

/// The `push` source type.
#[derive(Debug)]
pub struct Plugin;

impl crate::plugins::SourcePlugin for Plugin {
    const KIND: &'static str = KIND;
    type Config = Config;
    type Source = PushSource;

    fn describe(_config: &Config) -> String {
        "snapshots pushed to POST /api/v1/ingest".to_owned()
    }

    fn build(_config: &Config, id: &str, store: &Store) -> Result<PushSource, SourceError> {
        Ok(PushSource::new(id, store.clone()))
    }
}
