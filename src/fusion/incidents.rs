//! Whether two sources' events are the same incident. Providers spell players differently
//! (`MANDZUKIC`, `Mario Mandžukić`; `MÜLLER THOMAS`, `T. Müller`), disagree by a minute, and
//! credit own goals differently; a goal is best told by the score it made.

use crate::model::{Event, EventKind, Phase};
use crate::teams;

/// What an incident is, for comparing across sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Goal,
    ShootoutKick,
    Card,
    Penalty(EventKind),
    Other,
}

fn class(e: &Event) -> Class {
    let shootout = e.phase == Some(Phase::Penalties) && e.kick.is_some();
    match e.kind {
        EventKind::PenaltyGoal | EventKind::PenaltyMissed if shootout => Class::ShootoutKick,
        EventKind::Goal | EventKind::FreeKickGoal | EventKind::PenaltyGoal | EventKind::OwnGoal => {
            Class::Goal
        }
        EventKind::YellowCard | EventKind::SecondYellow | EventKind::RedCard => Class::Card,
        EventKind::PenaltyMissed | EventKind::PenaltyAwarded => Class::Penalty(e.kind),
        _ => Class::Other,
    }
}

/// Whether `e` is an incident another source may report under its own id (a goal, a card, a
/// penalty), as opposed to a phase, whose id is the same from every source.
pub fn is_incident(e: &Event) -> bool {
    class(e) != Class::Other
}

/// Whether `a` and `b`, from different sources of one match, are the same incident.
pub fn same_incident(a: &Event, b: &Event) -> bool {
    let team = same_team(a, b);
    match (class(a), class(b)) {
        (Class::Goal, Class::Goal) => {
            // An own goal may be credited to either side by one provider or the other.
            let credited = team || a.kind == EventKind::OwnGoal || b.kind == EventKind::OwnGoal;
            credited
                && match (a.score, b.score) {
                    (Some(x), Some(y)) => x == y,
                    _ => close(a, b) && players(a, b),
                }
        }
        (Class::ShootoutKick, Class::ShootoutKick) => {
            team && a.kind == b.kind
                && match (a.kick, b.kick) {
                    (Some(x), Some(y)) => x == y,
                    _ => a.pens == b.pens,
                }
        }
        (Class::Card, Class::Card) => {
            let kinds = a.kind == b.kind
                || matches!(
                    (a.kind, b.kind),
                    (EventKind::SecondYellow, EventKind::RedCard)
                        | (EventKind::RedCard, EventKind::SecondYellow)
                );
            kinds && team && close(a, b) && players(a, b)
        }
        (Class::Penalty(x), Class::Penalty(y)) => x == y && team && close(a, b),
        _ => false,
    }
}

fn same_team(a: &Event, b: &Event) -> bool {
    match (&a.team, &b.team) {
        (Some(x), Some(y)) => teams::same(x, y),
        _ => a.side == b.side,
    }
}

/// Minutes at most one apart (`45+2` and `47` are the same moment).
fn close(a: &Event, b: &Event) -> bool {
    let (Some(x), Some(y)) = (a.minute, b.minute) else {
        return true;
    };
    let at = |minute: u16, extra: Option<u16>| i32::from(minute) + i32::from(extra.unwrap_or(0));
    (i32::from(x) - i32::from(y)).abs() <= 1 || (at(x, a.extra) - at(y, b.extra)).abs() <= 1
}

fn players(a: &Event, b: &Event) -> bool {
    match (&a.player, &b.player) {
        (Some(x), Some(y)) => same_player(x, y),
        _ => true,
    }
}

/// Whether two spellings may name the same player: equal once folded, or sharing a name of
/// three letters or more (`T. Müller` and `MÜLLER THOMAS`).
pub fn same_player(a: &str, b: &str) -> bool {
    let names = |s: &str| -> Vec<String> {
        s.split(|c: char| c.is_whitespace() || matches!(c, '.' | '-' | '\'' | ','))
            .map(teams::fold)
            .filter(|n| n.len() >= 3)
            .collect()
    };
    let (x, y) = (names(a), names(b));
    teams::fold(a) == teams::fold(b) || x.iter().any(|n| y.contains(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Score, Side};

    fn goal(
        kind: EventKind,
        team: &str,
        player: &str,
        minute: u16,
        score: Option<(u16, u16)>,
    ) -> Event {
        let mut e = Event::new("x", kind);
        e.team = Some(team.into());
        e.side = Some(if team == "France" {
            Side::Home
        } else {
            Side::Away
        });
        e.player = Some(player.into());
        e.minute = Some(minute);
        e.phase = Some(Phase::FirstHalf);
        e.score = score.map(|(home, away)| Score { home, away });
        e
    }

    #[test]
    fn players_are_recognised_across_spellings() {
        assert!(same_player("MANDZUKIC", "Mario Mandžukić"));
        assert!(same_player("MÜLLER THOMAS", "T. Müller"));
        assert!(same_player("Griezmann", "Antoine GRIEZMANN"));
        assert!(!same_player("T. Müller", "T. Kroos"));
        assert!(!same_player("Kylian Mbappé", "Paul Pogba"));
    }

    #[test]
    fn a_goal_is_the_score_it_made() {
        let fifa = goal(EventKind::Goal, "France", "GRIEZMANN", 38, Some((2, 1)));
        let fd = goal(
            EventKind::PenaltyGoal,
            "France",
            "Antoine Griezmann",
            38,
            Some((2, 1)),
        );
        assert!(same_incident(&fifa, &fd));
        let next = goal(EventKind::Goal, "France", "POGBA", 59, Some((3, 1)));
        assert!(!same_incident(&fifa, &next));
        // Without a score: the minute (±1) and the player.
        let a = goal(EventKind::Goal, "France", "POGBA", 59, None);
        assert!(same_incident(
            &a,
            &goal(EventKind::Goal, "France", "Paul Pogba", 60, None)
        ));
        assert!(!same_incident(
            &a,
            &goal(EventKind::Goal, "France", "Paul Pogba", 62, None)
        ));
        assert!(!same_incident(
            &a,
            &goal(EventKind::Goal, "France", "MBAPPE", 59, None)
        ));
    }

    #[test]
    fn an_own_goal_credited_differently_is_the_same_goal() {
        let fifa = goal(EventKind::OwnGoal, "France", "MANDZUKIC", 18, Some((1, 0)));
        let other = goal(
            EventKind::Goal,
            "Croatia",
            "Mario Mandžukić",
            18,
            Some((1, 0)),
        );
        assert!(same_incident(&fifa, &other));
    }

    #[test]
    fn cards_need_the_team_the_minute_and_the_player() {
        let mut a = goal(EventKind::YellowCard, "France", "KANTE", 27, None);
        a.score = Some(Score { home: 1, away: 0 });
        let b = goal(EventKind::YellowCard, "France", "N'Golo Kanté", 28, None);
        assert!(same_incident(&a, &b));
        assert!(!same_incident(
            &a,
            &goal(EventKind::YellowCard, "Croatia", "VRSALJKO", 27, None)
        ));
        assert!(!same_incident(
            &a,
            &goal(EventKind::Goal, "France", "KANTE", 27, None)
        ));
    }
}
