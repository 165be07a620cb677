//! FIFA API (`api.fifa.com/api/v1`): `calendar/matches` for the season's matches and their
//! status, `timelines/…` for the events of live and just-finished matches, `live/football/…`
//! for their line-ups until they are out. Revalidated with ETags, so an unchanged timeline
//! costs a 304.

mod lineups;

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use super::{Poll, RECENT_AFTER_KICKOFF, Source, SourceError, Transport, parse_rfc3339};
use crate::model::{
    Clock, Incident, IncidentKind, Lineups, MatchState, Phase, Score, Side, Team, Venue,
};

/// The real API.
pub const DEFAULT_ENDPOINT: &str = "https://api.fifa.com/api/v1";

/// `[sources.<id>]` with `type = "fifa"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Base URL of the API.
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// `idCompetition` (17 is the FIFA World Cup).
    pub competition: String,
    /// `idSeason` (254645 is Russia 2018, 255711 is Qatar 2022).
    pub season: String,
    /// Language of names and descriptions.
    #[serde(default = "default_language")]
    pub language: String,
}

fn default_endpoint() -> String {
    DEFAULT_ENDPOINT.to_owned()
}

fn default_language() -> String {
    "en-GB".to_owned()
}

impl Config {
    /// The HTTP transport this config describes (the FIFA API needs no credentials).
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn transport(&self) -> Result<super::http::HttpTransport, reqwest::Error> {
        super::http::HttpTransport::new(&self.endpoint, super::http::Auth::None, None)
    }
}

/// Polls the FIFA API through a transport.
#[derive(Debug)]
pub struct Fifa<T> {
    config: Config,
    transport: T,
    /// Matches seen live and not yet seen finished (`IdMatch`). They are read until their full
    /// time is seen, whatever the recent window says: the provider's clock (its `Date`
    /// header) and the calendar's kick-off may disagree by more than that window.
    following: HashSet<String>,
    /// Line-ups read from the live match object, by `IdMatch`; read until both are out, as
    /// they do not change after.
    lineups: HashMap<String, Lineups>,
}

/// Line-ups are looked for from this long before kick-off.
const LINEUPS_AHEAD: i64 = 3600;

impl<T: Transport> Fifa<T> {
    /// A FIFA source fetching through `transport`.
    pub fn new(config: Config, transport: T) -> Self {
        Self {
            config,
            transport,
            following: HashSet::new(),
            lineups: HashMap::new(),
        }
    }

    /// The transport, to adjust it between polls (replays set the current step).
    pub fn transport(&self) -> &T {
        &self.transport
    }
}

impl<T: Transport> Source for Fifa<T> {
    async fn poll(&mut self) -> Result<Poll, SourceError> {
        const CALENDAR: &str = "/calendar/matches";
        let query = [
            ("idCompetition", self.config.competition.clone()),
            ("idSeason", self.config.season.clone()),
            ("count", "500".to_owned()),
            ("language", self.config.language.clone()),
        ];
        let response = self.transport.get(CALENDAR, &query).await?.ok(CALENDAR)?;
        let now = response.now;
        let calendar: Calendar = response.json(CALENDAR)?;
        let mut matches = Vec::new();
        for entry in calendar.results {
            let kickoff = entry.date.as_deref().and_then(parse_rfc3339);
            let live = matches!(entry.match_status, Some(2 | 3));
            let recent = entry.match_status == Some(0)
                && kickoff.is_some_and(|k| now - k <= RECENT_AFTER_KICKOFF && now >= k);
            let upcoming = matches!(entry.match_status, Some(1 | 12))
                && kickoff.is_some_and(|k| k - now <= 24 * 3600 && now - k <= RECENT_AFTER_KICKOFF);
            let followed = self.following.contains(&entry.id_match);
            if !(live || recent || upcoming || followed) {
                continue;
            }
            let timeline = if live || recent || followed {
                let path = format!(
                    "/timelines/{}/{}/{}/{}",
                    entry.id_competition, entry.id_season, entry.id_stage, entry.id_match
                );
                let response = self
                    .transport
                    .get(&path, &[("language", self.config.language.clone())])
                    .await?
                    .ok(&path)?;
                response.json::<Timeline>(&path)?.event
            } else {
                Vec::new()
            };
            let mut state = match_state(&entry, timeline, kickoff);
            // Not after full time: line-ups not out by then never will be, and what was read
            // is in the store.
            let lineups_due = !is_over(state.phase)
                && (live || followed || kickoff.is_some_and(|k| k - now <= LINEUPS_AHEAD));
            let complete = self
                .lineups
                .get(&entry.id_match)
                .is_some_and(Lineups::is_complete);
            if lineups_due && !complete {
                self.read_lineups(&entry).await;
            }
            if let Some(known) = self.lineups.get(&entry.id_match) {
                state.lineups = known.clone();
            }
            if is_over(state.phase) {
                self.following.remove(&entry.id_match);
            } else if live {
                self.following.insert(entry.id_match.clone());
            }
            matches.push(state);
        }
        let polled: HashSet<&str> = matches.iter().map(|m| m.id.as_str()).collect();
        self.lineups.retain(|id, _| polled.contains(id.as_str()));
        Ok(Poll::on_cadence(matches))
    }
}

impl<T: Transport> Fifa<T> {
    /// Reads the live match object of `entry` and keeps its line-ups once it lists players.
    /// A failure is logged and tried again next poll: line-ups are not worth a missed goal.
    async fn read_lineups(&mut self, entry: &CalendarMatch) {
        let path = format!(
            "/live/football/{}/{}/{}/{}",
            entry.id_competition, entry.id_season, entry.id_stage, entry.id_match
        );
        let read = async {
            self.transport
                .get(&path, &[("language", self.config.language.clone())])
                .await?
                .ok(&path)?
                .json::<lineups::LiveMatch>(&path)
        };
        match read.await {
            Ok(live) => {
                let found = live.lineups();
                if !found.is_empty() {
                    let known = self.lineups.entry(entry.id_match.clone()).or_default();
                    let mut merged = found;
                    merged.fill_from(known);
                    *known = merged;
                }
            }
            Err(error) => tracing::warn!(
                %path,
                error = %error,
                "cannot read the FIFA line-ups; trying again next poll"
            ),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Calendar {
    #[serde(default)]
    results: Vec<CalendarMatch>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CalendarMatch {
    id_competition: String,
    id_season: String,
    id_stage: String,
    id_match: String,
    #[serde(default)]
    competition_name: Vec<Localized>,
    date: Option<String>,
    home: Option<CalendarTeam>,
    away: Option<CalendarTeam>,
    home_team_score: Option<u16>,
    away_team_score: Option<u16>,
    home_team_penalty_score: Option<u16>,
    away_team_penalty_score: Option<u16>,
    match_time: Option<String>,
    stadium: Option<Stadium>,
    winner: Option<String>,
    match_status: Option<i64>,
    result_type: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CalendarTeam {
    id_team: String,
    #[serde(default)]
    team_name: Vec<Localized>,
    short_club_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Stadium {
    #[serde(default)]
    name: Vec<Localized>,
    #[serde(default)]
    city_name: Vec<Localized>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Localized {
    description: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Timeline {
    #[serde(default)]
    event: Vec<TimelineEvent>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TimelineEvent {
    event_id: String,
    id_team: Option<String>,
    id_player: Option<String>,
    timestamp: Option<String>,
    match_minute: Option<String>,
    period: Option<i64>,
    home_goals: Option<u16>,
    away_goals: Option<u16>,
    #[serde(rename = "Type")]
    kind: i64,
    home_penalty_goals: Option<u16>,
    away_penalty_goals: Option<u16>,
    #[serde(default)]
    event_description: Vec<Localized>,
}

fn team(t: Option<&CalendarTeam>) -> Team {
    t.map(|t| Team {
        id: t.id_team.clone(),
        name: t
            .team_name
            .first()
            .map(|l| l.description.clone())
            .or_else(|| t.short_club_name.clone())
            .unwrap_or_default(),
    })
    .unwrap_or_default()
}

/// The match as the calendar entry and its timeline describe it.
fn match_state(
    entry: &CalendarMatch,
    mut events: Vec<TimelineEvent>,
    kickoff: Option<i64>,
) -> MatchState {
    events.sort_by(|a, b| {
        let ta = a.timestamp.as_deref().and_then(parse_rfc3339_ms);
        let tb = b.timestamp.as_deref().and_then(parse_rfc3339_ms);
        ta.cmp(&tb)
            .then_with(|| event_order(a).cmp(&event_order(b)))
    });
    let home = team(entry.home.as_ref());
    let away = team(entry.away.as_ref());
    let side_of = |id: Option<&String>| -> Option<Side> {
        let id = id?;
        if *id == home.id {
            Some(Side::Home)
        } else if *id == away.id {
            Some(Side::Away)
        } else {
            None
        }
    };
    let shootout = events.iter().any(|e| e.period == Some(11));
    let phase = phase(entry.match_status, &events);
    let clock = if phase.is_playing() {
        entry
            .match_time
            .as_deref()
            .and_then(Clock::parse)
            .filter(|c| c.minute > 0)
            .or_else(|| last_clock(&events))
    } else {
        last_clock(&events)
    };
    let pens = shootout.then(|| {
        let last = events.iter().rev().find(|e| e.period == Some(11));
        Score::new(
            entry
                .home_team_penalty_score
                .or_else(|| last.and_then(|e| e.home_penalty_goals))
                .unwrap_or(0),
            entry
                .away_team_penalty_score
                .or_else(|| last.and_then(|e| e.away_penalty_goals))
                .unwrap_or(0),
        )
    });
    let mut incidents = Vec::new();
    let mut previous_score = Score::default();
    let mut booked: Vec<String> = Vec::new();
    for event in &events {
        let score_now = Score::new(
            event.home_goals.unwrap_or(previous_score.home),
            event.away_goals.unwrap_or(previous_score.away),
        );
        let in_shootout = event.period == Some(11);
        let team = side_of(event.id_team.as_ref());
        let (kind, side, detail) = match event.kind {
            0 | 39 | 41 | 34 if in_shootout => (IncidentKind::ShootoutScored, team, None),
            60 | 65 | 46 | 51 if in_shootout => (
                IncidentKind::ShootoutMissed,
                team,
                Some(miss_detail(event.kind)),
            ),
            0 => (
                IncidentKind::Goal,
                credited(previous_score, score_now).or(team),
                None,
            ),
            39 => (
                IncidentKind::FreeKickGoal,
                credited(previous_score, score_now).or(team),
                None,
            ),
            41 => (
                IncidentKind::PenaltyGoal,
                credited(previous_score, score_now).or(team),
                None,
            ),
            // IdTeam of an own goal is the team of the player who put it in his own net; the
            // score change says who is credited.
            34 => (
                IncidentKind::OwnGoal,
                credited(previous_score, score_now).or(team.map(Side::other)),
                None,
            ),
            60 | 65 | 46 | 51 => (
                IncidentKind::PenaltyMissed,
                team,
                Some(miss_detail(event.kind)),
            ),
            6 => (IncidentKind::PenaltyAwarded, team, None),
            // A foul that gives away a penalty: `IdTeam` is the fouling team, the penalty goes
            // to the other side. A type 6 for the same penalty, when the feed has both, wins.
            72 if !awarded_alongside(&events, event, team.map(Side::other), &side_of) => {
                (IncidentKind::PenaltyAwarded, team.map(Side::other), None)
            }
            2 => (IncidentKind::YellowCard, team, None),
            4 => (IncidentKind::SecondYellow, team, None),
            // A red for a player already booked is his second yellow.
            3 if event.id_player.as_ref().is_some_and(|p| booked.contains(p))
                && !events
                    .iter()
                    .any(|e| e.kind == 4 && e.id_player == event.id_player) =>
            {
                (IncidentKind::SecondYellow, team, None)
            }
            3 => (IncidentKind::RedCard, team, None),
            _ => {
                previous_score = score_now;
                continue;
            }
        };
        if event.kind == 2 {
            booked.extend(event.id_player.clone());
        }
        incidents.push(Incident {
            key: format!("ev:{}", event.event_id),
            at: event
                .timestamp
                .as_deref()
                .and_then(parse_rfc3339_ms)
                .and_then(|ms| i64::try_from(ms).ok()),
            kind,
            side,
            // The player of a type 72 is the one who gave the penalty away.
            player: (event.kind != 72).then(|| player_name(event)).flatten(),
            period: period(event.period),
            clock: event.match_minute.as_deref().and_then(Clock::parse),
            score_after: (!in_shootout).then_some(score_now),
            pens_after: in_shootout.then(|| {
                Score::new(
                    event.home_penalty_goals.unwrap_or(0),
                    event.away_penalty_goals.unwrap_or(0),
                )
            }),
            detail,
            order: event_order(event),
        });
        previous_score = score_now;
    }
    MatchState {
        id: entry.id_match.clone(),
        competition: entry
            .competition_name
            .first()
            .map(|l| l.description.clone()),
        winner: side_of(entry.winner.as_ref()),
        home,
        away,
        kickoff,
        phase,
        clock,
        score: Score::new(
            entry.home_team_score.unwrap_or(0),
            entry.away_team_score.unwrap_or(0),
        ),
        pens,
        extra_time: matches!(entry.result_type, Some(2 | 3))
            || events.iter().any(|e| matches!(e.period, Some(7..=9))),
        incidents,
        venue: entry.stadium.as_ref().and_then(|s| {
            Venue::named(
                s.name.first().map(|n| n.description.as_str()),
                s.city_name.first().map(|n| n.description.as_str()),
            )
        }),
        lineups: Lineups::default(),
    }
}

/// Whether a match has nothing more to show.
fn is_over(phase: Phase) -> bool {
    matches!(
        phase,
        Phase::Finished | Phase::Postponed | Phase::Cancelled | Phase::Abandoned
    )
}

/// The side whose goals went up between two scores.
fn credited(before: Score, after: Score) -> Option<Side> {
    if after.home > before.home {
        Some(Side::Home)
    } else if after.away > before.away {
        Some(Side::Away)
    } else {
        None
    }
}

fn miss_detail(kind: i64) -> String {
    match kind {
        60 => "saved",
        46 => "crossbar",
        51 => "post",
        _ => "missed",
    }
    .to_owned()
}

/// `MatchStatus` says whether the match is on; the timeline's period events say where.
fn phase(status: Option<i64>, events: &[TimelineEvent]) -> Phase {
    match status {
        Some(0) => return Phase::Finished,
        Some(7) => return Phase::Postponed,
        Some(9) => return Phase::Cancelled,
        _ => {}
    }
    let mut phase = Phase::Pre;
    for e in events {
        phase = match (e.kind, e.period) {
            (7, Some(3)) => Phase::FirstHalf,
            (8, Some(3)) => Phase::HalfTime,
            (7, Some(5)) => Phase::SecondHalf,
            // The end of the second half is only a break if extra time follows; that is known
            // when extra time starts, or the match ends (Type 26).
            (7, Some(7)) => Phase::ExtraTimeFirstHalf,
            (8, Some(7)) => Phase::ExtraTimeHalfTime,
            (7, Some(9)) => Phase::ExtraTimeSecondHalf,
            (7, Some(11)) => Phase::Penalties,
            (26, _) => Phase::Finished,
            _ => phase,
        };
    }
    if phase == Phase::Pre && matches!(status, Some(2 | 3)) {
        // Live with no period event yet: the timeline lags the status.
        return Phase::FirstHalf;
    }
    phase
}

/// Whether the timeline also has a type 6 (penalty awarded) to `to` in the same period within a
/// minute of the type 72 `foul`.
fn awarded_alongside(
    events: &[TimelineEvent],
    foul: &TimelineEvent,
    to: Option<Side>,
    side_of: &impl Fn(Option<&String>) -> Option<Side>,
) -> bool {
    let minute = |e: &TimelineEvent| {
        e.match_minute
            .as_deref()
            .and_then(Clock::parse)
            .map(|c| i32::from(c.minute))
    };
    events.iter().any(|e| {
        e.kind == 6
            && e.period == foul.period
            && side_of(e.id_team.as_ref()) == to
            && match (minute(e), minute(foul)) {
                (Some(a), Some(b)) => (a - b).abs() <= 1,
                _ => true,
            }
    })
}

fn period(code: Option<i64>) -> Option<Phase> {
    match code? {
        3 => Some(Phase::FirstHalf),
        5 => Some(Phase::SecondHalf),
        7 => Some(Phase::ExtraTimeFirstHalf),
        9 => Some(Phase::ExtraTimeSecondHalf),
        11 => Some(Phase::Penalties),
        _ => None,
    }
}

fn last_clock(events: &[TimelineEvent]) -> Option<Clock> {
    events
        .iter()
        .rev()
        .find_map(|e| e.match_minute.as_deref().and_then(Clock::parse))
}

/// `"MANDZUKIC (Croatia) scores an own goal."` → `MANDZUKIC`.
fn player_name(event: &TimelineEvent) -> Option<String> {
    let text = &event.event_description.first()?.description;
    let (name, _) = text.split_once(" (")?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

fn event_order(event: &TimelineEvent) -> i64 {
    event.event_id.parse().unwrap_or(0)
}

fn parse_rfc3339_ms(text: &str) -> Option<i128> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp_nanos() / 1_000_000)
}

/// The FIFA API, as the plug-in list names it: `type = "fifa"`.
#[derive(Debug)]
pub struct Plugin;

impl crate::plugins::SourcePlugin for Plugin {
    const KIND: &'static str = "fifa";
    type Config = Config;
    type Source = Fifa<super::http::HttpTransport>;

    fn validate(config: &Config) -> Result<(), sink_api::Invalid> {
        super::check_endpoint(&config.endpoint)?;
        if config.competition.trim().is_empty() || config.season.trim().is_empty() {
            return Err(sink_api::Invalid::new(
                "season",
                "competition and season must not be empty",
            ));
        }
        Ok(())
    }

    fn describe(config: &Config) -> String {
        format!(
            "{} competition {} season {}",
            config.endpoint, config.competition, config.season
        )
    }

    fn build(
        config: &Config,
        id: &str,
        _store: &crate::store::Store,
    ) -> Result<Self::Source, SourceError> {
        let transport = config
            .transport()
            .map_err(|e| SourceError::client(id, e))?
            .metered_as(id);
        Ok(Fifa::new(config.clone(), transport))
    }
}

#[cfg(test)]
mod tests;
