//! Pure detection: the stored state of a match plus a new snapshot of it give the events to
//! notify and the state to store next.
//!
//! Rules, in the order they are applied:
//!
//! 1. **Incidents** are matched by their provider-stable key. A key never seen before is new; a
//!    key that disappeared is gone. A gone and a new incident of the same kind, side and player
//!    are the same incident whose details changed (a corrected minute): no event.
//! 2. A **gone goal** becomes `goal_disallowed` when the score of its side went down (or the
//!    provider says the goal was cancelled). Without that evidence it is kept: feeds sometimes
//!    drop timeline items for a poll, and a correction must not come from a glitch.
//! 3. **Score reconciliation**: goals the score shows but no incident explains (a feed without
//!    scorers, a timeline that lags the score) are notified from the score alone; when the
//!    incident arrives later it is absorbed, not notified twice. A score that goes down with no
//!    vanished goal to explain it disallows the side's latest goal.
//! 4. **Phases** only move forward along the main line (`Phase::LINE`); every phase passed since
//!    the last poll is notified in order, so a missed half-time poll still notifies half-time.
//!
//! Every event has a stable id derived from the match and the incident key (or the phase), so
//! repeated polls, re-ordered timelines and restarts never notify twice; the store's unique
//! index on event ids is the last guard.

mod incidents;
mod phases;
mod score;

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use incidents::{cancelled_goals, pair_corrected, position, running_pens, running_scores};

use crate::model::{
    Clock, Event, EventKind, Incident, IncidentKind, MatchState, Phase, Score, Side,
};

/// What herald remembers about a match between polls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracked {
    /// The last snapshot, with goals that vanished without evidence carried forward.
    pub state: MatchState,
    /// Detection's own bookkeeping.
    pub memo: Memo,
}

/// Bookkeeping that is not part of any provider's data.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Memo {
    /// The furthest phase on the main line that was notified.
    pub progress: Option<Phase>,
    /// Goals notified from the score alone, waiting for an incident to explain them.
    pub derived_goals: Vec<DerivedGoal>,
    /// Keys of goal incidents the provider marked as cancelled.
    pub cancelled: Vec<String>,
    /// How many goals were disallowed so far; part of derived goal ids so that a goal scored
    /// after a disallowed one at the same score gets a new id.
    pub disallowed: u16,
}

/// A goal known only from the score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DerivedGoal {
    /// The id of the event that notified it.
    pub event_id: String,
    /// The side that scored.
    pub side: Side,
    /// The score right after it.
    pub score_after: Score,
}

/// Detects what happened between `prev` (what was stored, `None` for a match never seen) and
/// `next` (the new snapshot, whose `id` is already source-qualified). Returns the state to store
/// and the events, in match order.
pub fn detect(prev: Option<&Tracked>, next: MatchState) -> (Tracked, Vec<Event>) {
    let mut run = Run::new(prev, next);
    run.incidents();
    run.reconcile_score();
    run.phases();
    run.finish()
}

/// The state to store for a match seen for the first time while its past must not be notified
/// (herald's first start with matches already in progress).
pub fn baseline(next: MatchState) -> Tracked {
    detect(None, next).0
}

/// Where an event sits in the match: period, minute, added minute, provider order.
type Position = (usize, u16, u16, i64);

const END_OF_PERIOD: u16 = u16::MAX;

struct Run<'a> {
    prev: Option<&'a MatchState>,
    next: MatchState,
    memo: Memo,
    /// Score drop per side since the previous poll not yet explained by a disallowed goal.
    unexplained_drop: HashMap<Side, u16>,
    events: Vec<(Position, Event)>,
}

impl<'a> Run<'a> {
    fn new(prev: Option<&'a Tracked>, next: MatchState) -> Self {
        let memo = prev.map(|t| t.memo.clone()).unwrap_or_default();
        let prev = prev.map(|t| &t.state);
        let unexplained_drop = Side::BOTH
            .into_iter()
            .map(|side| {
                let before = prev.map_or(0, |p| p.score.get(side));
                (side, before.saturating_sub(next.score.get(side)))
            })
            .collect();
        Self {
            prev,
            next,
            memo,
            unexplained_drop,
            events: Vec::new(),
        }
    }

    fn match_id(&self) -> &str {
        &self.next.id
    }

    fn event_id(&self, suffix: &str) -> String {
        format!("{}:{suffix}", self.match_id())
    }

    /// An event of `kind` with the match context filled in.
    fn event(&self, id: String, kind: EventKind) -> Event {
        let mut e = Event::new(id, kind);
        e.match_id = Some(self.match_id().to_owned());
        e.competition.clone_from(&self.next.competition);
        e.home = Some(self.next.home.name.clone());
        e.away = Some(self.next.away.name.clone());
        e
    }

    fn team_name(&self, side: Side) -> String {
        self.next.team(side).name.clone()
    }

    fn push(&mut self, pos: Position, event: Event) {
        self.events.push((pos, event));
    }

    fn current_position(&self) -> Position {
        let clock = self.next.clock.unwrap_or(Clock::at(0));
        (
            self.next.phase.line_index().unwrap_or(0),
            clock.minute,
            clock.extra.unwrap_or(0),
            i64::MAX,
        )
    }

    // ---- 1 and 2: incidents -------------------------------------------------------------

    fn incidents(&mut self) {
        let prev_incidents: Vec<Incident> =
            self.prev.map(|p| p.incidents.clone()).unwrap_or_default();
        let next_keys: HashSet<&str> = self.next.incidents.iter().map(|i| i.key.as_str()).collect();
        let prev_keys: HashSet<&str> = prev_incidents.iter().map(|i| i.key.as_str()).collect();
        let mut gone: Vec<Incident> = prev_incidents
            .iter()
            .filter(|i| !next_keys.contains(i.key.as_str()))
            .cloned()
            .collect();
        let mut new: Vec<Incident> = self
            .next
            .incidents
            .iter()
            .filter(|i| !prev_keys.contains(i.key.as_str()))
            .cloned()
            .collect();
        pair_corrected(&mut gone, &mut new);

        // Goals the provider itself marks as cancelled.
        let cancelled_now = cancelled_goals(&self.next.incidents);
        let was_cancelled: HashSet<String> = self.memo.cancelled.iter().cloned().collect();
        for key in &cancelled_now {
            if was_cancelled.contains(key) {
                continue;
            }
            // Only a goal that was notified needs a correction; one that appears already
            // cancelled was never notified.
            if let Some(goal) = prev_incidents.iter().find(|i| &i.key == key) {
                let goal = goal.clone();
                self.disallow_incident(&goal);
            }
        }
        self.memo.cancelled = cancelled_now.to_vec();
        self.memo.cancelled.sort();

        // Vanished goals: a correction with evidence, kept otherwise.
        gone.sort_by_key(|g| std::cmp::Reverse(position(g, Phase::FirstHalf)));
        for goal in gone.into_iter().filter(|g| g.kind.is_goal()) {
            if cancelled_now.contains(&goal.key) || was_cancelled.contains(&goal.key) {
                continue;
            }
            let side = goal.side.unwrap_or(Side::Home);
            if self.unexplained_drop.get(&side).copied().unwrap_or(0) > 0 {
                self.disallow_incident(&goal);
            } else {
                tracing::debug!(match_id = %self.match_id(), key = %goal.key, "goal vanished from the feed without the score going down; keeping it");
                self.next.incidents.push(goal);
            }
        }

        // New incidents.
        let scores = running_scores(&self.next.incidents, &self.memo.cancelled);
        let pens = running_pens(&self.next.incidents);
        for incident in new {
            if incident.kind == IncidentKind::GoalCancelled
                || self.memo.cancelled.contains(&incident.key)
            {
                continue;
            }
            if incident.kind.is_goal() && self.absorb_derived(&incident, scores.get(&incident.key))
            {
                continue;
            }
            let score = scores
                .get(&incident.key)
                .copied()
                .unwrap_or(self.next.score);
            let kick = pens.get(&incident.key).copied();
            let pos = position(&incident, self.next.phase);
            let event = self.incident_event(&incident, score, kick);
            self.push(pos, event);
        }
    }

    fn disallow_incident(&mut self, goal: &Incident) {
        let side = goal.side.unwrap_or(Side::Home);
        if let Some(drop) = self.unexplained_drop.get_mut(&side) {
            *drop = drop.saturating_sub(1);
        }
        let corrected = self.event_id(&goal.key);
        self.push_disallowed(corrected, side, goal.player.clone(), goal.clock);
        self.next.incidents.retain(|i| i.key != goal.key);
    }

    fn push_disallowed(
        &mut self,
        corrected: String,
        side: Side,
        player: Option<String>,
        clock: Option<Clock>,
    ) {
        // Saturates: a provider's score dropping by 65535 goals disallows as many.
        self.memo.disallowed = self.memo.disallowed.saturating_add(1);
        let mut e = self.event(format!("{corrected}:disallowed"), EventKind::GoalDisallowed);
        e.side = Some(side);
        e.team = Some(self.team_name(side));
        e.player = player;
        e.phase = Some(self.next.phase);
        e.minute = clock.map(|c| c.minute);
        e.extra = clock.and_then(|c| c.extra);
        e.score = Some(self.next.score);
        e.corrects = Some(corrected);
        let (period, minute, extra, _) = self.current_position();
        self.push((period, minute, extra, i64::MAX), e);
    }

    /// A new goal incident explains a goal that was notified from the score alone.
    fn absorb_derived(&mut self, goal: &Incident, score_after: Option<&Score>) -> bool {
        let Some(side) = goal.side else { return false };
        let candidates: Vec<usize> = self
            .memo
            .derived_goals
            .iter()
            .enumerate()
            .filter(|(_, d)| d.side == side)
            .map(|(i, _)| i)
            .collect();
        let chosen = candidates
            .iter()
            .copied()
            .find(|&i| Some(&self.memo.derived_goals[i].score_after) == score_after)
            .or_else(|| candidates.first().copied());
        match chosen {
            Some(i) => {
                self.memo.derived_goals.remove(i);
                true
            }
            None => false,
        }
    }

    /// The event of a new incident; `kick` is a shoot-out kick's running shoot-out score and
    /// number.
    fn incident_event(
        &self,
        incident: &Incident,
        score: Score,
        kick: Option<(Score, u16)>,
    ) -> Event {
        let kind = match incident.kind {
            IncidentKind::Goal => EventKind::Goal,
            IncidentKind::FreeKickGoal => EventKind::FreeKickGoal,
            IncidentKind::PenaltyGoal | IncidentKind::ShootoutScored => EventKind::PenaltyGoal,
            IncidentKind::OwnGoal => EventKind::OwnGoal,
            IncidentKind::PenaltyMissed | IncidentKind::ShootoutMissed => EventKind::PenaltyMissed,
            IncidentKind::PenaltyAwarded => EventKind::PenaltyAwarded,
            IncidentKind::YellowCard => EventKind::YellowCard,
            IncidentKind::SecondYellow => EventKind::SecondYellow,
            IncidentKind::RedCard | IncidentKind::GoalCancelled => EventKind::RedCard,
        };
        let mut e = self.event(self.event_id(&incident.key), kind);
        e.occurred_at = incident.at;
        let shootout = incident.kind.is_shootout_kick();
        let phase = if shootout {
            Phase::Penalties
        } else {
            incident.period.unwrap_or_else(|| {
                incident
                    .clock
                    .map_or(self.next.phase, |c| Phase::for_minute(c.minute))
            })
        };
        e.phase = Some(phase);
        // The shoot-out is played after minute 120 whatever a provider's clock shows (FIFA's
        // runs on to 130'); its kicks are told apart by their number.
        let clock = if phase == Phase::Penalties {
            Some(Clock::at(120))
        } else {
            incident.clock
        };
        e.minute = clock.map(|c| c.minute);
        e.extra = clock.and_then(|c| c.extra);
        e.side = incident.side;
        e.team = incident.side.map(|s| self.team_name(s));
        if incident.kind == IncidentKind::OwnGoal {
            e.player_team = incident.side.map(|s| self.team_name(s.other()));
        }
        e.player.clone_from(&incident.player);
        e.detail.clone_from(&incident.detail);
        e.score = Some(score);
        if shootout {
            e.pens = kick.map(|(pens, _)| pens).or(self.next.pens);
            e.kick = kick.map(|(_, number)| number);
        }
        e
    }

    fn winner(&self) -> Option<Side> {
        self.next
            .winner
            .or_else(|| self.next.score.leader())
            .or_else(|| self.next.pens.and_then(Score::leader))
    }

    /// A snapshot without the venue or a line-up keeps what an earlier one said: sources
    /// give them in some answers and not others (a list versus a match read by id).
    fn keep_details(&mut self) {
        let Some(prev) = self.prev else { return };
        if self.next.venue.is_none() {
            self.next.venue.clone_from(&prev.venue);
        }
        self.next.lineups.fill_from(&prev.lineups);
    }

    fn finish(mut self) -> (Tracked, Vec<Event>) {
        self.keep_details();
        self.events.sort_by_key(|(pos, _)| *pos);
        let events = self.events.into_iter().map(|(_, e)| e).collect();
        (
            Tracked {
                state: self.next,
                memo: self.memo,
            },
            events,
        )
    }
}

#[cfg(test)]
mod tests;
