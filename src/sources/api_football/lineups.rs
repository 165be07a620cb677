//! API-Football line-ups: the `lineups` of a fixture read by id (`fixtures?id=`; the live
//! list and the day's schedule carry none). Line-ups come out about an hour before kick-off
//! and do not change after, so a fixture that is not read by id anyway is read for them a few
//! times at most, from [`AHEAD`] before its kick-off until they are published: the daily
//! quota is small.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use crate::model::{Lineup, Lineups, MatchState, Phase, Player, Position};

/// Start asking this long before kick-off.
pub(super) const AHEAD: i64 = 3600;
/// Ask again this much later while they are not published.
pub(super) const RETRY: i64 = 15 * 60;
/// Ask at most this many times per fixture.
pub(super) const TRIES: u32 = 6;

/// One team's line-up as the API gives it (an entry of a fixture's `lineups`, the same as
/// `fixtures/lineups` answers).
#[derive(Debug, Deserialize)]
pub(super) struct ApiLineup {
    team: Option<LineupTeam>,
    coach: Option<Named>,
    formation: Option<String>,
    #[serde(default, rename = "startXI")]
    start_xi: Vec<Slot>,
    #[serde(default)]
    substitutes: Vec<Slot>,
}

#[derive(Debug, Deserialize)]
struct LineupTeam {
    id: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct Named {
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Slot {
    player: SlotPlayer,
}

#[derive(Debug, Deserialize)]
struct SlotPlayer {
    name: Option<String>,
    number: Option<u16>,
    pos: Option<String>,
}

/// Both sides' line-ups from the API's list, matched to the teams by id.
pub(super) fn lineups(list: &[ApiLineup], home_id: Option<i64>, away_id: Option<i64>) -> Lineups {
    let of = |id: Option<i64>| {
        let id = id?;
        list.iter()
            .find(|l| l.team.as_ref().and_then(|t| t.id) == Some(id))
            .and_then(lineup)
    };
    Lineups {
        home: of(home_id),
        away: of(away_id),
    }
}

fn lineup(l: &ApiLineup) -> Option<Lineup> {
    let players = |slots: &[Slot]| -> Vec<Player> {
        slots
            .iter()
            .filter_map(|s| {
                let p = &s.player;
                Player::named(
                    p.name.as_deref(),
                    p.number,
                    p.pos.as_deref().and_then(Position::parse),
                )
            })
            .collect()
    };
    let coach = l.coach.as_ref().and_then(|c| c.name.as_deref());
    Lineup {
        starting: players(&l.start_xi),
        bench: players(&l.substitutes),
        ..Lineup::new(l.formation.as_deref(), coach)
    }
    .published()
}

/// What is known of each fixture's line-ups, and when they were last asked for.
#[derive(Debug, Default)]
pub(super) struct Book {
    known: HashMap<i64, Lineups>,
    /// Provider time of the last request, and how many were made.
    asked: HashMap<i64, (i64, u32)>,
}

impl Book {
    /// Remembers line-ups the API gave for fixture `id` (nothing when it gave none).
    pub(super) fn record(&mut self, id: i64, lineups: &Lineups) {
        if !lineups.is_empty() {
            let known = self.known.entry(id).or_default();
            let mut merged = lineups.clone();
            merged.fill_from(known);
            *known = merged;
        }
    }

    /// Puts the known line-ups of fixture `id` into the sides of `state` that lack them.
    pub(super) fn fill(&self, id: i64, state: &mut MatchState) {
        if let Some(known) = self.known.get(&id) {
            state.lineups.fill_from(known);
        }
    }

    /// Whether to ask for the line-ups of fixture `id`, in `state`, at provider time `now`.
    pub(super) fn due(&self, id: i64, state: &MatchState, now: i64) -> bool {
        let in_window = match state.phase {
            // The kick-off is the provider's timestamp, whatever it is.
            Phase::Pre => state
                .kickoff
                .is_some_and(|k| k.saturating_sub(now) <= AHEAD),
            Phase::Finished
            | Phase::Postponed
            | Phase::Cancelled
            | Phase::Abandoned
            | Phase::Suspended => false,
            _ => true,
        };
        in_window
            && !self.known.get(&id).is_some_and(Lineups::is_complete)
            && self
                .asked
                .get(&id)
                .is_none_or(|(at, tries)| *tries < TRIES && now - at >= RETRY)
    }

    /// Notes a request for fixture `id` at `now`.
    pub(super) fn asked(&mut self, id: i64, now: i64) {
        let entry = self.asked.entry(id).or_insert((now, 0));
        *entry = (now, entry.1 + 1);
    }

    /// Forgets fixtures not in `ids` (no longer polled; the store keeps what they had).
    pub(super) fn retain(&mut self, ids: &HashSet<i64>) {
        self.known.retain(|id, _| ids.contains(id));
        self.asked.retain(|id, _| ids.contains(id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `GET /fixtures/lineups?fixture=592872`, the API's documentation sample (trimmed).
    fn sample() -> Vec<ApiLineup> {
        let body = serde_json::json!([
            {"team": {"id": 50, "name": "Manchester City", "logo": "https://media.api-sports.io/football/teams/50.png",
                      "colors": {"player": {"primary": "5badff", "number": "ffffff", "border": "99ff99"}}},
             "formation": "4-3-3",
             "startXI": [
                {"player": {"id": 617, "name": "Ederson", "number": 31, "pos": "G", "grid": "1:1"}},
                {"player": {"id": 627, "name": "Kyle Walker", "number": 2, "pos": "D", "grid": "2:4"}},
                {"player": {"id": 631, "name": "Phil Foden", "number": 47, "pos": "F", "grid": "4:1"}}
             ],
             "substitutes": [
                {"player": {"id": 50828, "name": "Zack Steffen", "number": 13, "pos": "G", "grid": null}},
                {"player": {"id": 2291, "name": "Riyad Mahrez", "number": null, "pos": null, "grid": null}}
             ],
             "coach": {"id": 4, "name": "Guardiola", "photo": "https://media.api-sports.io/football/coachs/4.png"}},
            {"team": {"id": 45, "name": "Everton"}, "formation": null, "startXI": [], "substitutes": [],
             "coach": {"id": 2407, "name": "C. Ancelotti"}}
        ]);
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn line_ups_are_matched_to_the_teams_by_id_and_empty_ones_are_absent() {
        let got = lineups(&sample(), Some(50), Some(45));
        let home = got.home.expect("home line-up");
        assert_eq!(home.formation.as_deref(), Some("4-3-3"));
        assert_eq!(home.coach.as_deref(), Some("Guardiola"));
        let starting: Vec<_> = home
            .starting
            .iter()
            .map(|p| (p.name.as_str(), p.number, p.position))
            .collect();
        assert_eq!(
            starting,
            vec![
                ("Ederson", Some(31), Some(Position::Goalkeeper)),
                ("Kyle Walker", Some(2), Some(Position::Defender)),
                ("Phil Foden", Some(47), Some(Position::Forward)),
            ]
        );
        assert_eq!(home.bench.len(), 2);
        assert_eq!((home.bench[1].number, home.bench[1].position), (None, None));
        assert_eq!(got.away, None, "no players listed: not published");
        // Teams swapped: still each to its own side.
        let swapped = lineups(&sample(), Some(45), Some(50));
        assert!(swapped.home.is_none() && swapped.away.is_some());
    }
}
