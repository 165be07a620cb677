//! The wall clock that quiet hours are read against: the system's, or one set to another
//! time (tests of a night when the clocks change). Only the reading moves: delays, timers and
//! the store's times stay real, so a moved clock changes which window "now" falls in, not how
//! long anything waits.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use jiff::Timestamp;

/// A clock; clones share their setting.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// How far this clock reads ahead of the system's (ms; negative: behind).
    ahead_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The system's clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// Now, by this clock.
    pub fn now(&self) -> Timestamp {
        self.at(crate::store::now_ms())
    }

    /// A system time (Unix ms, as the store keeps times) as this clock reads it.
    pub fn at(&self, system_ms: i64) -> Timestamp {
        let ms = system_ms.saturating_add(self.ahead_ms.load(Ordering::Relaxed));
        Timestamp::from_millisecond(ms).unwrap_or(Timestamp::MAX)
    }

    /// When `at` (by this clock) comes, in system time (Unix ms).
    pub fn system_ms(&self, at: Timestamp) -> i64 {
        at.as_millisecond()
            .saturating_sub(self.ahead_ms.load(Ordering::Relaxed))
    }

    /// Sets this clock (and its clones) to read `now` at this instant; it runs on from there
    /// at the system's pace.
    pub fn set(&self, now: Timestamp) {
        let ahead = now.as_millisecond().saturating_sub(crate::store::now_ms());
        self.ahead_ms.store(ahead, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_clock_reads_its_time_and_maps_back_to_the_system() {
        let clock = Clock::system();
        let before = clock.now();
        assert!((before.as_millisecond() - crate::store::now_ms()).abs() < 1_000);
        let night: Timestamp = "2026-10-25T06:59:55Z".parse().unwrap();
        // Clones share the setting (the workers hold clones).
        let shared = clock.clone();
        clock.set(night);
        let read = shared.now();
        assert!((read.as_millisecond() - night.as_millisecond()).abs() < 1_000);
        let system = clock.system_ms("2026-10-25T07:00:00Z".parse().unwrap());
        let wait = system - crate::store::now_ms();
        assert!((4_000..=5_500).contains(&wait), "{wait}");
    }
}
