//! The deliveries a worker has in hand: handed to a delivery task and not recorded yet (being
//! sent, or sent and waiting for the settler). Reading the queue skips them and their
//! recipients, so nothing is sent twice and a recipient's queue moves on only once its last
//! delivery is recorded. This replaces a claim written to every row: the worker is the only
//! one sending its sink's deliveries (it holds the sink's lease), so what it holds is known
//! here, and nothing needs undoing when it dies.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Ids in hand, with their recipients; cheap to clone.
#[derive(Debug, Clone, Default)]
pub(super) struct Held {
    ids: Arc<Mutex<HashMap<i64, String>>>,
}

impl Held {
    fn lock(&self) -> MutexGuard<'_, HashMap<i64, String>> {
        self.ids.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The ids in hand and their recipients, for a read of the queue.
    pub(super) fn snapshot(&self) -> (Vec<i64>, HashSet<String>) {
        let held = self.lock();
        (
            held.keys().copied().collect(),
            held.values().cloned().collect(),
        )
    }

    /// Takes `run` (ids and recipients) in hand; it is let go by the returned [`Run`] unless
    /// passed on.
    pub(super) fn take<'a>(&self, run: impl IntoIterator<Item = (i64, &'a str)>) -> Run {
        let mut held = self.lock();
        let mut ids = HashSet::new();
        for (id, recipient) in run {
            held.insert(id, recipient.to_owned());
            ids.insert(id);
        }
        drop(held);
        Run {
            held: self.clone(),
            ids,
        }
    }

    /// Lets `ids` go (recorded, or given up).
    pub(super) fn release(&self, ids: impl IntoIterator<Item = i64>) {
        let mut held = self.lock();
        for id in ids {
            held.remove(&id);
        }
    }

    /// How many deliveries are in hand.
    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }
}

/// One delivery task's ids in hand. Whatever it has not passed on (to the settler, which lets
/// its ids go once recorded) is let go when it ends, however it ends: finished, stopped at a
/// failure, aborted or panicked.
#[derive(Debug)]
pub(super) struct Run {
    held: Held,
    ids: HashSet<i64>,
}

impl Run {
    /// `id` is someone else's to let go now (the settler's).
    pub(super) fn pass_on(&mut self, id: i64) {
        self.ids.remove(&id);
    }

    /// Takes `other`'s ids over: they are let go with this run's.
    pub(super) fn absorb(&mut self, mut other: Self) {
        self.ids.extend(other.ids.drain());
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        self.held.release(self.ids.drain());
    }
}
