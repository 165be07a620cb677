//! What the match data API answers: competitions, matches (in a list and in detail), events
//! and teams, as JSON shapes of their own (the store's rows and states stay internal).

use serde::Serialize;
use utoipa::ToSchema;

use crate::model::{Event, Lineup, MatchState, Phase, Score, Side, Venue};
use crate::store::{MatchRow, StoredEvent};
use crate::teams;

/// Where a match stands, for filters and counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not started (also postponed).
    Scheduled,
    /// In play, in a break, or suspended.
    Live,
    /// Over (also abandoned or cancelled).
    Finished,
}

impl Status {
    /// Every status, in the order of a match.
    pub const ALL: [Self; 3] = [Self::Scheduled, Self::Live, Self::Finished];

    /// The status of the phase with code `code`.
    pub fn of(code: &str) -> Self {
        match code {
            "PRE" | "PST" => Self::Scheduled,
            "FT" | "ABD" | "CANC" => Self::Finished,
            _ => Self::Live,
        }
    }

    /// The phase codes of this status.
    pub fn phases(self) -> Vec<&'static str> {
        Phase::LINE
            .iter()
            .chain(&[
                Phase::Suspended,
                Phase::Postponed,
                Phase::Abandoned,
                Phase::Cancelled,
            ])
            .map(|p| p.code())
            .filter(|c| Self::of(c) == self)
            .collect()
    }

    /// The name in URLs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Live => "live",
            Self::Finished => "finished",
        }
    }

    /// The status named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// The id of a competition: its source and its name in lower-case words (`fifa:fifa-world-cup`).
pub fn competition_id(source: &str, name: &str) -> String {
    let words: Vec<String> = name
        .split(|c: char| !c.is_alphanumeric())
        .map(teams::fold)
        .filter(|w| !w.is_empty())
        .collect();
    format!("{source}:{}", words.join("-"))
}

/// The id of a team, the same from every source (`france`, `unitedstates` for `USA`).
pub fn team_id(name: &str) -> String {
    teams::key(name)
}

/// A competition with its matches counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Competition {
    /// `<source>:<name in lower-case words>`.
    pub id: String,
    /// The name as the source spells it.
    pub name: String,
    /// The source it comes from.
    pub source: String,
    /// Matches in play, in a break or suspended.
    pub live: i64,
    /// Matches not started (or postponed).
    pub scheduled: i64,
    /// Matches over (or abandoned, cancelled).
    pub finished: i64,
}

/// A match in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MatchSummary {
    /// `<source>:<provider's id>`.
    pub id: String,
    /// The source it comes from.
    pub source: String,
    /// The competition's name.
    pub competition: Option<String>,
    /// The competition's id.
    pub competition_id: Option<String>,
    /// Home team name.
    pub home: String,
    /// Home team id.
    pub home_id: String,
    /// Away team name.
    pub away: String,
    /// Away team id.
    pub away_id: String,
    /// `scheduled`, `live` or `finished`.
    pub status: Status,
    /// Phase code (`PRE`, `1H`, `HT`, `2H`, …, `FT`).
    pub phase: String,
    /// The clock (`45+2'`), when the source gives it.
    pub clock: Option<String>,
    /// Home goals.
    pub home_score: i64,
    /// Away goals.
    pub away_score: i64,
    /// Kick-off, Unix seconds.
    pub kickoff: Option<i64>,
    /// Last change, Unix milliseconds.
    pub updated_at_ms: i64,
}

impl From<MatchRow> for MatchSummary {
    fn from(m: MatchRow) -> Self {
        Self {
            competition_id: m
                .competition
                .as_deref()
                .map(|c| competition_id(&m.source, c)),
            home_id: team_id(&m.home),
            away_id: team_id(&m.away),
            status: Status::of(&m.phase),
            id: m.id,
            source: m.source,
            competition: m.competition,
            home: m.home,
            away: m.away,
            phase: m.phase,
            clock: m.clock,
            home_score: m.home_score,
            away_score: m.away_score,
            kickoff: m.kickoff,
            updated_at_ms: m.updated_at_ms,
        }
    }
}

/// A team in a match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TeamRef {
    /// herald's id of the team (the same from every source).
    pub id: String,
    /// The name as the source spells it.
    pub name: String,
    /// The source's id of the team.
    pub source_id: String,
    /// Its line-up with shirt numbers, once the source publishes it; `null` when the source
    /// does not give line-ups.
    #[schema(required = true)]
    pub lineup: Option<Lineup>,
}

/// One match in detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MatchDetail {
    /// `<source>:<provider's id>`.
    pub id: String,
    /// The source it comes from.
    pub source: String,
    /// The competition's name.
    pub competition: Option<String>,
    /// The competition's id.
    pub competition_id: Option<String>,
    /// The home team.
    pub home: TeamRef,
    /// The away team.
    pub away: TeamRef,
    /// `scheduled`, `live` or `finished`.
    pub status: Status,
    /// Phase code.
    pub phase: String,
    /// The clock's minute, when the source gives it.
    pub minute: Option<u16>,
    /// Added minutes.
    pub extra: Option<u16>,
    /// Goals (without the shoot-out).
    pub score: Score,
    /// The shoot-out score, once a shoot-out started.
    pub penalties: Option<Score>,
    /// Whether extra time was played.
    pub extra_time: bool,
    /// The winner's name, once the source says.
    pub winner: Option<String>,
    /// Kick-off, RFC 3339.
    pub kickoff: Option<String>,
    /// Where it is played; `null` when the source does not say.
    #[schema(required = true)]
    pub venue: Option<Venue>,
    /// Last change, RFC 3339.
    pub updated_at: String,
}

impl MatchDetail {
    /// The detail of `state`, from source `source`, last changed at `updated_at_ms`.
    pub fn new(source: &str, state: &MatchState, updated_at_ms: i64) -> Self {
        let team = |side| {
            let t = state.team(side);
            TeamRef {
                id: team_id(&t.name),
                name: t.name.clone(),
                source_id: t.id.clone(),
                lineup: state.lineups.get(side).cloned(),
            }
        };
        Self {
            id: state.id.clone(),
            source: source.to_owned(),
            competition: state.competition.clone(),
            competition_id: state
                .competition
                .as_deref()
                .map(|c| competition_id(source, c)),
            home: team(Side::Home),
            away: team(Side::Away),
            status: Status::of(state.phase.code()),
            phase: state.phase.code().to_owned(),
            minute: state.clock.map(|c| c.minute),
            extra: state.clock.and_then(|c| c.extra),
            score: state.score,
            penalties: state.pens,
            extra_time: state.extra_time,
            winner: state.winner.map(|side| state.team(side).name.clone()),
            kickoff: state.kickoff.and_then(|k| rfc3339(k * 1000)),
            venue: state.venue.clone(),
            updated_at: rfc3339(updated_at_ms).unwrap_or_default(),
        }
    }
}

/// One event of a match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MatchEvent {
    /// Its place among all events (the cursor of the next page).
    pub seq: i64,
    /// When herald detected it, RFC 3339.
    pub detected_at: String,
    /// For a correction (`goal_disallowed`): the id of the event it replaces.
    pub replaces: Option<String>,
    /// The event, as streams and webhooks carry it.
    #[serde(flatten)]
    pub event: Event,
}

impl From<StoredEvent> for MatchEvent {
    fn from(e: StoredEvent) -> Self {
        Self {
            seq: e.seq,
            detected_at: rfc3339(e.created_at_ms).unwrap_or_default(),
            replaces: e.event.corrects.clone(),
            event: e.event,
        }
    }
}

/// A team with its matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TeamDetail {
    /// herald's id of the team.
    pub id: String,
    /// Its name, as the latest match spells it.
    pub name: String,
    /// Every other spelling: seen in the feeds, its FIFA code, names in other languages.
    pub aliases: Vec<String>,
    /// Live and finished matches, latest first.
    pub recent: Vec<MatchSummary>,
    /// Scheduled matches, soonest first.
    pub next: Vec<MatchSummary>,
}

/// `GET /api/v1/competitions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CompetitionList {
    /// Every competition herald has matches of.
    pub competitions: Vec<Competition>,
}

/// A page of matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MatchPage {
    /// The matches, latest kick-off first.
    pub matches: Vec<MatchSummary>,
    /// The `cursor` of the next page; `null` on the last.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// A page of a match's events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EventPage {
    /// The events, in the order herald recorded them.
    pub events: Vec<MatchEvent>,
    /// The `cursor` of the next page; `null` on the last.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// Unix milliseconds as RFC 3339 (UTC).
pub fn rfc3339(ms: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_words() {
        assert_eq!(
            competition_id("fifa", "FIFA World Cup™ 2026"),
            "fifa:fifa-world-cup-2026"
        );
        assert_eq!(team_id("USA"), team_id("United States"));
        assert_eq!(team_id("Côte d'Ivoire"), team_id("Ivory Coast"));
    }

    #[test]
    fn every_phase_has_one_status() {
        let all: Vec<&str> = Status::ALL.iter().flat_map(|s| s.phases()).collect();
        assert_eq!(all.len(), 15);
        assert_eq!(Status::of("HT"), Status::Live);
        assert_eq!(Status::of("PST"), Status::Scheduled);
        assert_eq!(Status::parse("finished"), Some(Status::Finished));
    }
}
