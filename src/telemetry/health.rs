//! Each source's polling health, as `/readyz` judges it: a source this instance polls is
//! healthy while its last successful poll is younger than three of its intervals.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How many intervals a source may go without a successful poll before herald is not ready.
const INTERVALS_OF_GRACE: u32 = 3;

/// What this instance does with a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// It holds the source's lease and polls it.
    Polling,
    /// Another instance holds the lease; this one stands by.
    Standby,
    /// The source has nothing more to give (a replay that ended).
    Finished,
}

/// One source's health.
#[derive(Debug, Clone)]
pub struct SourceHealth {
    /// What this instance does with it.
    pub role: Role,
    /// When polling started (or resumed after standing by).
    since: Instant,
    /// The last successful poll.
    last_ok: Option<Instant>,
    /// The interval planned after the last successful poll (before any: the live interval).
    pub interval: Duration,
    /// The last poll's error, until a poll succeeds.
    pub last_error: Option<String>,
}

impl SourceHealth {
    /// Seconds since the last successful poll, if there was one.
    pub fn last_ok_ago(&self, now: Instant) -> Option<f64> {
        self.last_ok.map(|t| now.duration_since(t).as_secs_f64())
    }

    /// Whether it is healthy at `now`: not polled here, or polled successfully within three
    /// intervals (of the start, before the first success).
    pub fn healthy(&self, now: Instant) -> bool {
        match self.role {
            Role::Standby | Role::Finished => true,
            Role::Polling => {
                let from = self.last_ok.unwrap_or(self.since).max(self.since);
                now.duration_since(from) < self.interval.saturating_mul(INTERVALS_OF_GRACE)
            }
        }
    }
}

/// Every source's health, shared by the pollers and the HTTP server.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    inner: Arc<Mutex<BTreeMap<String, SourceHealth>>>,
}

impl Sources {
    fn update(&self, id: &str, first_interval: Duration, f: impl FnOnce(&mut SourceHealth)) {
        let mut map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let health = map.entry(id.to_owned()).or_insert_with(|| SourceHealth {
            role: Role::Standby,
            since: Instant::now(),
            last_ok: None,
            interval: first_interval,
            last_error: None,
        });
        f(health);
    }

    /// `id` is polled by this instance from now on; until its first success it has
    /// `interval` times three.
    pub fn polling(&self, id: &str, interval: Duration) {
        self.update(id, interval, |h| {
            if h.role != Role::Polling {
                h.role = Role::Polling;
                h.since = Instant::now();
            }
        });
    }

    /// `id` was polled successfully; the next poll is due in `next`.
    pub fn succeeded(&self, id: &str, next: Duration) {
        self.update(id, next, |h| {
            h.last_ok = Some(Instant::now());
            h.interval = next;
            h.last_error = None;
        });
    }

    /// A poll of `id` failed with `error` (already stripped of secrets).
    pub fn failed(&self, id: &str, error: String) {
        self.update(id, Duration::ZERO, |h| h.last_error = Some(error));
    }

    /// Another instance polls `id`.
    pub fn standby(&self, id: &str) {
        self.update(id, Duration::ZERO, |h| h.role = Role::Standby);
    }

    /// `id` has nothing more to give.
    pub fn finished(&self, id: &str) {
        self.update(id, Duration::ZERO, |h| h.role = Role::Finished);
    }

    /// Every source's health, by id.
    pub fn snapshot(&self) -> BTreeMap<String, SourceHealth> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_is_healthy_for_three_intervals_after_its_last_success() {
        let sources = Sources::default();
        sources.polling("fd", Duration::from_secs(10));
        let h = &sources.snapshot()["fd"];
        let start = h.since;
        assert!(h.healthy(start + Duration::from_secs(29)));
        assert!(!h.healthy(start + Duration::from_secs(31)));

        sources.succeeded("fd", Duration::from_secs(60));
        sources.failed("fd", "boom".into());
        let h = &sources.snapshot()["fd"];
        let ok = h.last_ok.unwrap();
        assert!(h.healthy(ok + Duration::from_secs(179)));
        assert!(!h.healthy(ok + Duration::from_secs(181)));
        assert_eq!(h.last_error.as_deref(), Some("boom"));

        sources.standby("fd");
        assert!(sources.snapshot()["fd"].healthy(ok + Duration::from_secs(10_000)));
    }
}
