//! The push schema: one match snapshot as a producer sends it to `POST /api/v1/ingest`, read
//! strictly (unknown fields refused, every problem named by its JSON path) and turned into
//! the [`MatchState`] a polled source would have produced.

use std::collections::HashSet;

use serde::Deserialize;

use crate::model::{
    Clock, Incident, IncidentKind, Lineup, Lineups, MatchState, Phase, Player, Position, Score,
    Side, Team, Venue,
};

/// The longest id or name a snapshot may carry.
const MAX_TEXT: usize = 200;
/// The most incidents one snapshot may carry.
const MAX_INCIDENTS: usize = 500;
/// The highest minute (a shoot-out is 120; extra time ends at 120 plus added time).
const MAX_MINUTE: u16 = 150;
/// The most goals of one side.
const MAX_GOALS: u16 = 99;
/// The most players in a starting line-up or on a bench.
const MAX_PLAYERS: usize = 40;
/// The highest shirt number.
const MAX_SHIRT: u16 = 999;

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
    /// The ground. Left out, the one pushed before is kept.
    #[serde(default)]
    pub venue: Option<PushedVenue>,
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
    /// Its line-up, once published. Left out, the one pushed before is kept.
    #[serde(default)]
    pub lineup: Option<PushedLineup>,
}

/// The ground a match is played at.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushedVenue {
    /// The stadium's name.
    pub name: String,
    /// Its city.
    #[serde(default)]
    pub city: Option<String>,
}

/// A team's line-up.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushedLineup {
    /// The formation (`4-2-3-1`).
    #[serde(default)]
    pub formation: Option<String>,
    /// The head coach.
    #[serde(default)]
    pub coach: Option<String>,
    /// The players who start.
    #[serde(default)]
    pub starting: Vec<PushedPlayer>,
    /// The substitutes.
    #[serde(default)]
    pub bench: Vec<PushedPlayer>,
}

/// A player in a line-up.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushedPlayer {
    /// The player's name.
    pub name: String,
    /// Shirt number.
    #[serde(default)]
    pub number: Option<u16>,
    /// `goalkeeper`, `defender`, `midfielder` or `forward`.
    #[serde(default)]
    pub position: Option<Position>,
    /// Whether he captains the team.
    #[serde(default)]
    pub captain: bool,
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

fn lineup(field: &str, lineup: Option<PushedLineup>) -> Result<Option<Lineup>, Invalid> {
    Ok(lineup.map(|l| l.into_lineup(field)).transpose()?.flatten())
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

impl PushedVenue {
    fn into_venue(self, field: &str) -> Result<Venue, Invalid> {
        Ok(Venue {
            name: text(&format!("{field}.name"), &self.name)?,
            city: optional_text(&format!("{field}.city"), self.city.as_ref())?,
        })
    }
}

impl PushedLineup {
    /// The line-up; `None` when it names no player (not published yet).
    fn into_lineup(self, field: &str) -> Result<Option<Lineup>, Invalid> {
        let players = |list: Vec<PushedPlayer>, name: &str| -> Result<Vec<Player>, Invalid> {
            if list.len() > MAX_PLAYERS {
                return Err(Invalid::new(
                    format!("{field}.{name}"),
                    format!("at most {MAX_PLAYERS} players"),
                ));
            }
            list.into_iter()
                .enumerate()
                .map(|(i, p)| {
                    let at = format!("{field}.{name}[{i}]");
                    if p.number.is_some_and(|n| n > MAX_SHIRT) {
                        return Err(Invalid::new(
                            format!("{at}.number"),
                            format!("at most {MAX_SHIRT}"),
                        ));
                    }
                    Ok(Player {
                        name: text(&format!("{at}.name"), &p.name)?,
                        number: p.number,
                        position: p.position,
                        captain: p.captain,
                    })
                })
                .collect()
        };
        Ok(Lineup {
            formation: optional_text(&format!("{field}.formation"), self.formation.as_ref())?,
            coach: optional_text(&format!("{field}.coach"), self.coach.as_ref())?,
            starting: players(self.starting, "starting")?,
            bench: players(self.bench, "bench")?,
        }
        .published())
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
            at: None,
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
    pub fn into_state(mut self) -> Result<MatchState, Invalid> {
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
        let lineups = Lineups {
            home: lineup("match.home.lineup", self.home.lineup.take())?,
            away: lineup("match.away.lineup", self.away.lineup.take())?,
        };
        let venue = self
            .venue
            .map(|v| v.into_venue("match.venue"))
            .transpose()?;
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
            venue,
            lineups,
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
    fn venue_and_line_ups_are_read_and_an_empty_line_up_is_no_line_up() {
        let mut snapshot = base();
        snapshot["venue"] = json!({"name": "Lusail Stadium", "city": "Lusail"});
        snapshot["home"]["lineup"] = json!({
            "formation": "4-4-2",
            "coach": "Lionel Scaloni",
            "starting": [{"name": "Emiliano Martínez", "number": 23, "position": "goalkeeper"},
                         {"name": "Lionel Messi", "number": 10, "position": "forward", "captain": true}],
            "bench": [{"name": "Paulo Dybala", "number": 21}]
        });
        snapshot["away"]["lineup"] = json!({"formation": "4-2-3-1", "starting": [], "bench": []});
        let state = push(&snapshot).unwrap();
        assert_eq!(
            state.venue,
            Venue::named(Some("Lusail Stadium"), Some("Lusail"))
        );
        let home = state.lineups.home.unwrap();
        assert_eq!(home.formation.as_deref(), Some("4-4-2"));
        assert_eq!(home.coach.as_deref(), Some("Lionel Scaloni"));
        assert_eq!(home.starting.len(), 2);
        assert_eq!(home.starting[1].number, Some(10));
        assert_eq!(home.starting[1].position, Some(Position::Forward));
        assert!(home.starting[1].captain && !home.starting[0].captain);
        assert_eq!(home.bench[0].position, None);
        assert_eq!(
            state.lineups.away, None,
            "a line-up naming nobody is not published yet"
        );
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
            (json!({"venue": {"name": " "}}), "match.venue.name"),
            (
                json!({"home": {"name": "Argentina", "lineup": {"starting": [{"name": "Messi", "number": 1000}]}}}),
                "match.home.lineup.starting[0].number",
            ),
            (
                json!({"away": {"name": "France", "lineup": {"bench": [{"name": "Mbappé", "position": "striker"}]}}}),
                "match.away.lineup.bench[0].position",
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
