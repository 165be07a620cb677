//! Adaptive polling: fast while a match is live, slower at breaks, slow when nothing is on.

use std::time::Duration;

use serde::Deserialize;

use super::Snapshot;

/// While the ball is in play a goal should reach people within a poll or two.
pub(crate) const DEFAULT_LIVE: Duration = Duration::from_secs(15);
/// Half-time and other breaks: only the restart matters.
pub(crate) const DEFAULT_BREAK: Duration = Duration::from_secs(60);
/// Nothing live: look for kick-offs without spending the provider's quota.
pub(crate) const DEFAULT_IDLE: Duration = Duration::from_secs(300);
/// Poll at the live pace this long before a scheduled kick-off, so the kick-off is not late.
pub(crate) const DEFAULT_PRE_MATCH: Duration = Duration::from_secs(600);

/// The polling intervals of one source (`interval_*` keys of `[sources.<id>]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Cadence {
    /// While any match is being played.
    #[serde(with = "humantime_serde")]
    pub interval_live: Duration,
    /// While matches are at half-time or another break.
    #[serde(with = "humantime_serde")]
    pub interval_break: Duration,
    /// When nothing is live or about to start.
    #[serde(with = "humantime_serde")]
    pub interval_idle: Duration,
    /// How long before a scheduled kick-off the live interval starts.
    #[serde(with = "humantime_serde")]
    pub pre_match: Duration,
}

impl Default for Cadence {
    fn default() -> Self {
        Self {
            interval_live: DEFAULT_LIVE,
            interval_break: DEFAULT_BREAK,
            interval_idle: DEFAULT_IDLE,
            pre_match: DEFAULT_PRE_MATCH,
        }
    }
}

impl Cadence {
    /// The keys this struct reads from a source's table.
    pub const KEYS: [&'static str; 4] = [
        "interval_live",
        "interval_break",
        "interval_idle",
        "pre_match",
    ];

    /// The delay before the next poll after seeing `snapshot` at provider time `now` (Unix
    /// seconds, `None` when unknown).
    pub fn delay(&self, snapshot: &Snapshot, now: Option<i64>) -> Duration {
        let mut delay = self.interval_idle;
        for m in &snapshot.matches {
            let wanted = if m.phase.is_playing() {
                self.interval_live
            } else if m.phase.is_break() {
                self.interval_break
            } else if m.phase == crate::model::Phase::Pre
                && starts_soon(m.kickoff, now, self.pre_match)
            {
                self.interval_live
            } else {
                self.interval_idle
            };
            delay = delay.min(wanted);
        }
        delay
    }

    /// Checks the values; pure.
    ///
    /// # Errors
    /// The key and what is wrong with it.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        for (key, value) in [
            ("interval_live", self.interval_live),
            ("interval_break", self.interval_break),
            ("interval_idle", self.interval_idle),
        ] {
            if value.is_zero() {
                return Err((key, "must be greater than 0".into()));
            }
        }
        if self.interval_live > self.interval_idle {
            return Err((
                "interval_live",
                "must not be longer than interval_idle".into(),
            ));
        }
        Ok(())
    }
}

/// Whether a kick-off is within `window` from `now`, or overdue (a match late to start).
fn starts_soon(kickoff: Option<i64>, now: Option<i64>, window: Duration) -> bool {
    match (kickoff, now) {
        (Some(kickoff), Some(now)) => {
            let window = i64::try_from(window.as_secs()).unwrap_or(i64::MAX);
            kickoff - now <= window
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MatchState, Phase, Score, Team};

    fn with_phase(phase: Phase, kickoff: Option<i64>) -> Snapshot {
        Snapshot {
            matches: vec![MatchState {
                id: "1".into(),
                competition: None,
                home: Team::default(),
                away: Team::default(),
                kickoff,
                phase,
                clock: None,
                score: Score::default(),
                pens: None,
                extra_time: false,
                winner: None,
                incidents: vec![],
                venue: None,
                lineups: Default::default(),
            }],
        }
    }

    #[test]
    fn polls_fast_live_slower_at_breaks_slow_when_idle() {
        let c = Cadence::default();
        assert_eq!(
            c.delay(&with_phase(Phase::SecondHalf, None), None),
            DEFAULT_LIVE
        );
        assert_eq!(
            c.delay(&with_phase(Phase::Penalties, None), None),
            DEFAULT_LIVE
        );
        assert_eq!(
            c.delay(&with_phase(Phase::HalfTime, None), None),
            DEFAULT_BREAK
        );
        assert_eq!(
            c.delay(&with_phase(Phase::Finished, None), None),
            DEFAULT_IDLE
        );
        assert_eq!(c.delay(&Snapshot::default(), None), DEFAULT_IDLE);
    }

    #[test]
    fn polls_fast_shortly_before_kick_off() {
        let c = Cadence::default();
        let now = 1_000_000;
        assert_eq!(
            c.delay(&with_phase(Phase::Pre, Some(now + 300)), Some(now)),
            DEFAULT_LIVE
        );
        assert_eq!(
            c.delay(&with_phase(Phase::Pre, Some(now - 60)), Some(now)),
            DEFAULT_LIVE
        );
        assert_eq!(
            c.delay(&with_phase(Phase::Pre, Some(now + 7200)), Some(now)),
            DEFAULT_IDLE
        );
    }

    #[test]
    fn the_busiest_match_sets_the_pace() {
        let c = Cadence::default();
        let mut snap = with_phase(Phase::Finished, None);
        snap.matches
            .extend(with_phase(Phase::HalfTime, None).matches);
        snap.matches
            .extend(with_phase(Phase::FirstHalf, None).matches);
        assert_eq!(c.delay(&snap, None), DEFAULT_LIVE);
    }
}
