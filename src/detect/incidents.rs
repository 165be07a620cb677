//! Pure helpers over a match's incident list: positions, running scores, cancelled goals
//! and corrected incidents.

use super::*;

/// An incident's place in the match. `fallback` is its period when the provider gives neither
/// a period nor a minute.
pub(super) fn position(incident: &Incident, fallback: Phase) -> Position {
    let period = if incident.kind.is_shootout_kick() {
        Phase::Penalties
    } else {
        incident
            .period
            .or_else(|| incident.clock.map(|c| Phase::for_minute(c.minute)))
            .unwrap_or(fallback)
    };
    let clock = incident.clock.unwrap_or(Clock::at(0));
    (
        period.line_index().unwrap_or(0),
        clock.minute,
        clock.extra.unwrap_or(0),
        incident.order,
    )
}

/// The score after each incident (at its moment, for non-goals): the provider's when it gives
/// one, otherwise counted from the goals before it.
pub(super) fn running_scores(
    incidents: &[Incident],
    cancelled: &[String],
) -> HashMap<String, Score> {
    let mut ordered: Vec<&Incident> = incidents.iter().collect();
    ordered.sort_by_key(|i| position(i, Phase::FirstHalf));
    let mut tally = Score::default();
    let mut out = HashMap::new();
    for incident in ordered {
        if incident.kind.is_goal()
            && !cancelled.contains(&incident.key)
            && let Some(side) = incident.side
        {
            tally.add(side);
        }
        let score = incident.score_after.unwrap_or(tally);
        if incident.score_after.is_some() && incident.kind.is_goal() {
            tally = score;
        }
        out.insert(incident.key.clone(), score);
    }
    out
}

/// The shoot-out kicks in the order they were taken.
fn shootout_kicks(incidents: &[Incident]) -> Vec<&Incident> {
    let mut kicks: Vec<&Incident> = incidents
        .iter()
        .filter(|i| i.kind.is_shootout_kick())
        .collect();
    kicks.sort_by_key(|i| position(i, Phase::Penalties));
    kicks
}

/// The shoot-out score after each kick, and the kick's number in the shoot-out (from 1).
pub(super) fn running_pens(incidents: &[Incident]) -> HashMap<String, (Score, u16)> {
    let mut tally = Score::default();
    let mut out = HashMap::new();
    for (number, kick) in (1_u16..).zip(shootout_kicks(incidents)) {
        if kick.kind == IncidentKind::ShootoutScored
            && let Some(side) = kick.side
        {
            tally.add(side);
        }
        let pens = kick.pens_after.unwrap_or(tally);
        tally = pens;
        out.insert(kick.key.clone(), (pens, number));
    }
    out
}

/// Keys of goals that a `GoalCancelled` incident refers to: the latest earlier goal of the same
/// side (and player, when both name one).
pub(super) fn cancelled_goals(incidents: &[Incident]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cancels: Vec<&Incident> = incidents
        .iter()
        .filter(|i| i.kind == IncidentKind::GoalCancelled)
        .collect();
    cancels.sort_by_key(|i| position(i, Phase::FirstHalf));
    for cancel in cancels {
        let at = position(cancel, Phase::FirstHalf);
        let goal = incidents
            .iter()
            .filter(|g| {
                g.kind.is_goal()
                    && g.side == cancel.side
                    && !out.contains(&g.key)
                    && position(g, Phase::FirstHalf) <= at
                    && match (&g.player, &cancel.player) {
                        (Some(a), Some(b)) => same_player(a, b),
                        _ => true,
                    }
            })
            .max_by_key(|g| position(g, Phase::FirstHalf));
        if let Some(goal) = goal {
            out.push(goal.key.clone());
        }
    }
    out
}

pub(super) fn same_player(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// Pairs gone and new incidents that are the same incident with corrected details (kind, side
/// and player equal; nearest minute first) and removes them from both lists.
pub(super) fn pair_corrected(gone: &mut Vec<Incident>, new: &mut Vec<Incident>) {
    gone.retain(|g| {
        let candidate = new
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                n.kind == g.kind
                    && n.side == g.side
                    && match (&n.player, &g.player) {
                        (Some(a), Some(b)) => same_player(a, b),
                        (None, None) => true,
                        _ => false,
                    }
            })
            .min_by_key(|(_, n)| {
                let a = n.clock.map_or(0, |c| i32::from(c.minute));
                let b = g.clock.map_or(0, |c| i32::from(c.minute));
                (a - b).abs()
            })
            .map(|(i, _)| i);
        match candidate {
            Some(i) => {
                new.remove(i);
                false
            }
            None => true,
        }
    });
}
