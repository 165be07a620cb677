//! Rule 4, phases: every phase passed since the last poll is notified in order, only forward
//! along the main line.

use super::*;

impl Run<'_> {
    pub(super) fn phases(&mut self) {
        let from = self.memo.progress.and_then(Phase::line_index).unwrap_or(0);
        let Some(to) = self.next.phase.line_index() else {
            return;
        };
        if to <= from {
            return;
        }
        let extra_time = self.next.extra_time || (4..=9).contains(&to);
        let shootout = self.next.pens.is_some() || (8..=9).contains(&to);
        let mut et_end_notified = false;
        for phase in &Phase::LINE[from + 1..=to] {
            let idx = phase.line_index().unwrap_or(0);
            if (4..=7).contains(&idx) && !extra_time || (8..=9).contains(&idx) && !shootout {
                continue;
            }
            match phase {
                Phase::FirstHalf => {
                    self.transition(EventKind::KickOff, Phase::FirstHalf, Clock::at(0), false)
                }
                Phase::HalfTime => {
                    self.transition(EventKind::HalfTime, Phase::HalfTime, Clock::at(45), true)
                }
                Phase::SecondHalf => {
                    self.transition(
                        EventKind::SecondHalfStart,
                        Phase::SecondHalf,
                        Clock::at(46),
                        false,
                    );
                }
                Phase::BreakBeforeExtraTime => self.transition(
                    EventKind::EndOfRegulation,
                    Phase::BreakBeforeExtraTime,
                    Clock::at(90),
                    true,
                ),
                Phase::ExtraTimeFirstHalf => self.transition(
                    EventKind::ExtraTimeStart,
                    Phase::ExtraTimeFirstHalf,
                    Clock::at(91),
                    false,
                ),
                Phase::ExtraTimeHalfTime => self.transition(
                    EventKind::ExtraTimeHalfTime,
                    Phase::ExtraTimeHalfTime,
                    Clock::at(105),
                    true,
                ),
                Phase::ExtraTimeSecondHalf => self.transition(
                    EventKind::ExtraTimeSecondHalfStart,
                    Phase::ExtraTimeSecondHalf,
                    Clock::at(106),
                    false,
                ),
                Phase::BreakBeforePenalties => {
                    et_end_notified = true;
                    self.transition(
                        EventKind::ExtraTimeEnd,
                        Phase::BreakBeforePenalties,
                        Clock::at(120),
                        true,
                    );
                }
                Phase::Penalties => self.transition(
                    EventKind::PenaltyShootoutStart,
                    Phase::Penalties,
                    Clock::at(120),
                    false,
                ),
                Phase::Finished => {
                    let et_end_already = Phase::LINE[from] >= Phase::BreakBeforePenalties;
                    if extra_time && !et_end_notified && !et_end_already {
                        self.transition(
                            EventKind::ExtraTimeEnd,
                            Phase::Finished,
                            Clock::at(120),
                            true,
                        );
                    }
                    if shootout {
                        self.transition(
                            EventKind::PenaltyShootoutResult,
                            Phase::Finished,
                            Clock::at(120),
                            true,
                        );
                    }
                    let last = if (4..=9).contains(&from) || extra_time {
                        Clock::at(120)
                    } else {
                        Clock::at(90)
                    };
                    self.transition(EventKind::FullTime, Phase::Finished, last, true);
                }
                _ => {}
            }
        }
        self.memo.progress = Some(Phase::LINE[to]);
    }

    /// Notifies entering `phase`. Starts of periods use their conventional minute; ends use the
    /// provider's clock when it shows the added time (from this snapshot when the match is in
    /// that phase, else from the last one before it), the conventional minute otherwise.
    pub(super) fn transition(
        &mut self,
        kind: EventKind,
        phase: Phase,
        conventional: Clock,
        at_end: bool,
    ) {
        let clock = if at_end {
            let now = self.next.clock.filter(|_| self.next.phase == phase);
            let before = self.prev.and_then(|p| p.clock);
            // Past 120' a clock is the shoot-out's (FIFA's runs on to 130'): what ends after
            // it, ends at 120.
            now.into_iter()
                .chain(before)
                .find(|c| c.minute >= conventional.minute && c.minute <= 120)
                .unwrap_or(conventional)
        } else {
            conventional
        };
        let mut e = self.event(self.event_id(kind.as_str()), kind);
        e.phase = Some(phase);
        e.minute = Some(clock.minute);
        e.extra = clock.extra;
        e.score = Some(if kind == EventKind::KickOff {
            Score::default()
        } else {
            self.score_at_end_of(phase)
        });
        if matches!(kind, EventKind::PenaltyShootoutResult | EventKind::FullTime) {
            let winner = self.winner();
            e.winner = winner.map(|s| self.team_name(s));
            e.pens = self.next.pens;
            if kind == EventKind::PenaltyShootoutResult {
                e.side = winner;
                e.team = e.winner.clone();
            }
        }
        // Periods that start sort before their incidents, periods that end after them.
        let period = match phase {
            Phase::HalfTime => Phase::FirstHalf,
            Phase::BreakBeforeExtraTime => Phase::SecondHalf,
            Phase::ExtraTimeHalfTime => Phase::ExtraTimeFirstHalf,
            Phase::BreakBeforePenalties => Phase::ExtraTimeSecondHalf,
            other => other,
        };
        let order = EventKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        let pos = (
            period.line_index().unwrap_or(0),
            if at_end { END_OF_PERIOD } else { 0 },
            0,
            i64::try_from(order).unwrap_or(0),
        );
        self.push(pos, e);
    }

    /// The score when `phase` was entered: counted from the goal incidents when they explain
    /// the whole score, otherwise the current score.
    pub(super) fn score_at_end_of(&self, phase: Phase) -> Score {
        let Some(limit) = phase.line_index() else {
            return self.next.score;
        };
        let goals: Vec<&Incident> = self
            .next
            .incidents
            .iter()
            .filter(|i| i.kind.is_goal() && !self.memo.cancelled.contains(&i.key))
            .collect();
        if goals.len() != usize::from(self.next.score.total()) {
            return self.next.score;
        }
        let mut score = Score::default();
        for goal in goals {
            let period = goal
                .period
                .or_else(|| goal.clock.map(|c| Phase::for_minute(c.minute)))
                .and_then(Phase::line_index)
                .unwrap_or(0);
            if period < limit
                && let Some(side) = goal.side
            {
                score.add(side);
            }
        }
        score
    }
}
