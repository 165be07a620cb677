//! Events recently read for deliveries, by `seq`. An event never changes once it is recorded,
//! so a fan-out to thousands of recipients reads and parses its event once, not once per
//! batch of deliveries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::model::Event;

/// Most events kept; past it the cache starts over (a fan-out reuses one event for every
/// batch, a busy match day a few dozen).
const CAPACITY: usize = 1_024;

/// An event as deliveries need it: the event and when it was recorded (ms).
pub(super) type Recorded = Arc<(Event, i64)>;

/// Shared by every clone of the store.
#[derive(Debug, Default, Clone)]
pub(super) struct RecentEvents {
    by_seq: Arc<Mutex<HashMap<i64, Recorded>>>,
}

impl RecentEvents {
    /// The cached event `seq`, if any.
    pub(super) fn get(&self, seq: i64) -> Option<Recorded> {
        self.lock().get(&seq).cloned()
    }

    /// Remembers event `seq`.
    pub(super) fn insert(&self, seq: i64, recorded: Recorded) {
        let mut by_seq = self.lock();
        if by_seq.len() >= CAPACITY {
            by_seq.clear();
        }
        by_seq.insert(seq, recorded);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Recorded>> {
        self.by_seq.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
