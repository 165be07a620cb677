//! The push schema: one match snapshot as a producer sends it to `POST /api/v1/ingest`, read
//! strictly (unknown fields refused, every problem named by its JSON path) and turned into
//! the [`MatchState`] a polled source would have produced.

use std::collections::HashSet;

use serde::Deserialize;

use crate::model::{Clock, Incident, IncidentKind, MatchState, Phase, Score, Side, Team};

/// The longest id or name a snapshot may carry.
const MAX_TEXT: usize = 200;
/// The most incidents one snapshot may carry.
const MAX_INCIDENTS: usize = 500;
/// The highest minute (a shoot-out is 120; extra time ends at 120 plus added time).
const MAX_MINUTE: u16 = 150;
/// The most goals of one side.
const MAX_GOALS: u16 = 99;

/// A push: which `push` source it is for, and the snapshot.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Push {
    /// The `push` source (`[sources.<id>] type = "push"`); may be left out when there is one.
    #[serde(default)]
    pub source: Option<String>,
    /// The match as the producer sees it now.
    #[serde(rename = "match")]
    pub snapshot: PushedMatch,
}

/// One match, complete as of now: what it leaves out is taken as not there (a goal missing
/// from `incidents` while the score went down is disallowed).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushedMatch {
    /// The producer's id of the match, unique within the source.
    pub id: String,
    /// The producer's version of this snapshot: when given, a snapshot older than one already
    /// applied to the match is ignored (a retry that arrives late).
    #[serde(default)]
    pub sequence: Option<u64>,
    /// The competition's name.
    #[serde(default)]
    pub competition: Option<String>,
    /// The first-named team.
    pub home: PushedTeam,
    /// The second-named team.
    pub away: PushedTeam,
    /// Scheduled kick-off, RFC 3339.
    #[serde(default)]
    pub kickoff: Option<String>,
    /// Where the match is: `PRE`, `1H`, `HT`, `2H`, `BRK_ET`, `ET1`, `ET_HT`, `ET2`, `BRK_P`,
    /// `PEN`, `FT`, `SUSP`, `PST`, `ABD`, `CANC`.
    pub phase: Phase,
    /// The clock's minute (45 in 45+2).
    #[serde(default)]
    pub minute: Option<u16>,
    /// Added minutes (2 in 45+2).
    #[serde(default)]
    pub extra: Option<u16>,
    /// Goals, without shoot-out kicks.
    #[serde(default)]
    pub score: Score,
    /// The shoot-out score, once a shoot-out started.
    #[serde(default)]
    pub penalties: Option<Score>,
    /// Whether extra time was played.
    #[serde(default)]
    pub extra_time: bool,
    /// The winner, once known (`home` or `away`).
    #[serde(default)]
    pub winner: Option<Side>,
    /// What happened, in the producer's order.
    #[serde(default)]
    pub incidents: Vec<PushedIncident>,
}

/// A team.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushedTeam {
    /// The producer's id of the team (defaults to its name).
    #[serde(default)]
    pub id: Option<String>,
    /// Its name.
    pub name: String,
}

/// One incident, under the producer's own id: sent again in every snapshot, it is notified
/// once.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushedIncident {
    /// The producer's id, unique within the match and stable across snapshots.
    pub id: String,
    /// `goal`, `free_kick_goal`, `penalty_goal`, `own_goal` (for the side credited),
    /// `penalty_missed`, `penalty_awarded`, `yellow_card`, `second_yellow`, `red_card`,
    /// `shootout_scored`, `shootout_missed`, `goal_cancelled`.
    #[serde(rename = "type")]
    pub kind: IncidentKind,
    /// The team it counts for (`home` or `away`).
    #[serde(default)]
    pub side: Option<Side>,
    /// The player.
    #[serde(default)]
    pub player: Option<String>,
    /// The clock's minute.
    #[serde(default)]
    pub minute: Option<u16>,
    /// Added minutes.
    #[serde(default)]
    pub extra: Option<u16>,
    /// The period (`1H`, `2H`, `ET1`, `ET2`, `PEN`); from the minute when left out.
    #[serde(default)]
    pub period: Option<Phase>,
    /// The score right after it (goals).
    #[serde(default)]
    pub score: Option<Score>,
    /// The shoot-out score right after it (shoot-out kicks).
    #[serde(default)]
    pub penalties: Option<Score>,
    /// `saved`, `missed`, `post` or `crossbar` for penalties not scored.
    #[serde(default)]
    pub detail: Option<String>,
}

/// A snapshot that does not hold: what is wrong, and the JSON path of the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    /// The JSON path (`match.incidents[2].side`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl Invalid {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Reads a push from JSON.
///
/// # Errors
/// The body is not JSON, or a field is missing, unknown or of the wrong type (named by its
/// path), or the snapshot does not hold together ([`PushedMatch::into_state`]).
pub fn parse(body: &[u8]) -> Result<(Push, MatchState), Invalid> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let push: Push = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { String::new() } else { path };
        Invalid::new(field, e.inner().to_string())
    })?;
    let state = push.snapshot.clone().into_state()?;
    Ok((push, state))
}

fn text(field: &str, value: &str) -> Result<String, Invalid> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(Invalid::new(field, "must not be empty"));
    }
    if trimmed.chars().count() > MAX_TEXT {
        return Err(Invalid::new(
            field,
            format!("at most {MAX_TEXT} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(Invalid::new(field, "must not hold control characters"));
    }
    Ok(trimmed.to_owned())
}

fn optional_text(field: &str, value: Option<&String>) -> Result<Option<String>, Invalid> {
    value.map(|v| text(field, v)).transpose()
}

fn minute(field: &str, minute: Option<u16>, extra: Option<u16>) -> Result<Option<Clock>, Invalid> {
    match (minute, extra) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(Invalid::new(
            field.replace("minute", "extra"),
            "added minutes need a minute",
        )),
        (Some(m), _) if m > MAX_MINUTE => Err(Invalid::new(field, format!("at most {MAX_MINUTE}"))),
        (Some(_), Some(e)) if e > 30 => Err(Invalid::new(
            field.replace("minute", "extra"),
            "at most 30 added minutes",
        )),
        (Some(m), extra) => Ok(Some(Clock { minute: m, extra })),
    }
}

fn score(field: &str, score: Score) -> Result<Score, Invalid> {
    if score.home > MAX_GOALS || score.away > MAX_GOALS {
        return Err(Invalid::new(field, format!("at most {MAX_GOALS} per side")));
    }
    Ok(score)
}

impl PushedTeam {
    fn into_team(self, field: &str) -> Result<Team, Invalid> {
        let name = text(&format!("{field}.name"), &self.name)?;
        let id = optional_text(&format!("{field}.id"), self.id.as_ref())?;
        Ok(Team {
            id: id.unwrap_or_else(|| name.clone()),
            name,
        })
    }
}

impl PushedIncident {
    fn into_incident(self, field: &str, order: i64) -> Result<Incident, Invalid> {
        let key = text(&format!("{field}.id"), &self.id)?;
        let needs_side = !matches!(self.kind, IncidentKind::GoalCancelled);
        if needs_side && self.side.is_none() {
            return Err(Invalid::new(
                format!("{field}.side"),
                "required for this type (home or away)",
            ));
        }
        let clock = minute(&format!("{field}.minute"), self.minute, self.extra)?;
        let period = match (self.period, self.kind.is_shootout_kick()) {
            (Some(p), _) => Some(p),
            (None, true) => Some(Phase::Penalties),
            (None, false) => clock.map(|c| Phase::for_minute(c.minute)),
        };
        let detail = match self.detail {
            None => None,
            Some(d) => {
                let d = text(&format!("{field}.detail"), &d)?.to_lowercase();
                if !["saved", "missed", "post", "crossbar"].contains(&d.as_str()) {
                    return Err(Invalid::new(
                        format!("{field}.detail"),
                        "one of saved, missed, post, crossbar",
                    ));
                }
                Some(d)
            }
        };
        Ok(Incident {
            key,
            kind: self.kind,
            side: self.side,
            player: optional_text(&format!("{field}.player"), self.player.as_ref())?,
            period,
            clock,
            score_after: self
                .score
                .map(|s| score(&format!("{field}.score"), s))
                .transpose()?,
            pens_after: self
                .penalties
                .map(|s| score(&format!("{field}.penalties"), s))
                .transpose()?,
            detail,
            order,
        })
    }
}

impl PushedMatch {
    /// The snapshot as the state of a match (its id not yet qualified by the source).
    ///
    /// # Errors
    /// The first field that does not hold, by its JSON path.
    pub fn into_state(self) -> Result<MatchState, Invalid> {
        let id = text("match.id", &self.id)?;
        if id.chars().any(char::is_whitespace) {
            return Err(Invalid::new("match.id", "must not hold spaces"));
        }
        let kickoff = match &self.kickoff {
            None => None,
            Some(k) => Some(crate::sources::parse_rfc3339(k).ok_or_else(|| {
                Invalid::new(
                    "match.kickoff",
                    "must be an RFC 3339 time (2026-06-11T19:00:00Z)",
                )
            })?),
        };
        if self.incidents.len() > MAX_INCIDENTS {
            return Err(Invalid::new(
                "match.incidents",
                format!("at most {MAX_INCIDENTS}"),
            ));
        }
        let mut keys = HashSet::new();
        let mut incidents = Vec::with_capacity(self.incidents.len());
        for (i, incident) in self.incidents.into_iter().enumerate() {
            let field = format!("match.incidents[{i}]");
            let incident = incident.into_incident(&field, i64::try_from(i).unwrap_or(i64::MAX))?;
            if !keys.insert(incident.key.clone()) {
                return Err(Invalid::new(
                    format!("{field}.id"),
                    "appears twice in this match",
                ));
            }
            incidents.push(incident);
        }
        let home = self.home.into_team("match.home")?;
        let away = self.away.into_team("match.away")?;
        if home.name == away.name {
            return Err(Invalid::new("match.away.name", "is the home team's name"));
        }
        Ok(MatchState {
            id,
            competition: optional_text("match.competition", self.competition.as_ref())?,
            home,
            away,
            kickoff,
            phase: self.phase,
            clock: minute("match.minute", self.minute, self.extra)?,
            score: score("match.score", self.score)?,
            pens: self
                .penalties
                .map(|s| score("match.penalties", s))
                .transpose()?,
            extra_time: self.extra_time,
            winner: self.winner,
            incidents,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn push(snapshot: &serde_json::Value) -> Result<MatchState, Invalid> {
        parse(&serde_json::to_vec(&json!({ "match": snapshot })).unwrap()).map(|(_, s)| s)
    }

    fn base() -> serde_json::Value {
        json!({
            "id": "m1",
            "competition": "Friendly",
            "home": {"id": "ARG", "name": "Argentina"},
            "away": {"name": "France"},
            "kickoff": "2022-12-18T15:00:00Z",
            "phase": "1H",
            "minute": 23,
            "score": {"home": 1, "away": 0},
            "incidents": [
                {"id": "e1", "type": "penalty_goal", "side": "home", "player": "Messi", "minute": 23, "score": {"home": 1, "away": 0}}
            ]
        })
    }

    #[test]
    fn a_snapshot_becomes_the_state_a_source_would_give() {
        let state = push(&base()).unwrap();
        assert_eq!(state.id, "m1");
        assert_eq!(state.home.id, "ARG");
        assert_eq!(
            state.away.id, "France",
            "the name stands in for a missing id"
        );
        assert_eq!(state.kickoff, Some(1_671_375_600));
        assert_eq!(state.clock, Some(Clock::at(23)));
        assert_eq!(state.incidents[0].kind, IncidentKind::PenaltyGoal);
        assert_eq!(state.incidents[0].period, Some(Phase::FirstHalf));
        assert_eq!(state.incidents[0].score_after, Some(Score::new(1, 0)));
    }

    #[test]
    fn every_problem_names_its_field() {
        let cases = [
            (json!({"phase": "3H"}), "match.phase"),
            (json!({"id": " "}), "match.id"),
            (json!({"kickoff": "tomorrow"}), "match.kickoff"),
            (json!({"minute": 400}), "match.minute"),
            (
                json!({"score": {"home": -1, "away": 0}}),
                "match.score.home",
            ),
            (json!({"home": {"name": "France"}}), "match.away.name"),
            (json!({"colour": "red"}), "match.colour"),
            (
                json!({"incidents": [{"id": "a", "type": "goal"}]}),
                "match.incidents[0].side",
            ),
            (
                json!({"incidents": [{"id": "a", "type": "header", "side": "home"}]}),
                "match.incidents[0].type",
            ),
            (
                json!({"incidents": [
                    {"id": "a", "type": "goal", "side": "home"},
                    {"id": "a", "type": "goal", "side": "away"}
                ]}),
                "match.incidents[1].id",
            ),
        ];
        for (change, field) in cases {
            let mut snapshot = base();
            for (k, v) in change.as_object().unwrap() {
                snapshot[k] = v.clone();
            }
            let err = push(&snapshot).unwrap_err();
            assert_eq!(err.field, field, "{snapshot}: {err}");
        }
        let err = parse(b"{\"match\": 1}").unwrap_err();
        assert_eq!(err.field, "match");
        let err = parse(b"not json").unwrap_err();
        assert_eq!(err.field, "");
    }
}
