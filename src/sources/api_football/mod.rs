//! API-Football v3 (api-sports.io): `fixtures?live=all` lists live fixtures with their events
//! in one request. A fixture drops out of it at full time, so fixtures that vanish (and those
//! listed in `fixtures` to watch from before kick-off) are read with `fixtures?id=` until they
//! are finished. The daily quota (100 requests on the free plan) is honoured by stretching the
//! interval so that what is left lasts until the quota resets at midnight UTC.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use super::http::{Auth, HttpTransport};
use super::{NextPoll, Poll, Response, Source, SourceError, Transport};
use crate::model::{Clock, Incident, IncidentKind, MatchState, Phase, Score, Side, Team};

/// The real API.
pub const DEFAULT_ENDPOINT: &str = "https://v3.football.api-sports.io";
/// The free plan's per-minute allowance.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 10;

/// `[sources.<id>]` with `type = "api_football"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Base URL of the API.
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// The API key (`x-apisports-key`); use `${API_FOOTBALL_KEY}`.
    #[serde(deserialize_with = "sink_api::secret::required")]
    pub key: SecretString,
    /// League ids to keep from the live list (1 = World Cup); empty keeps every league.
    #[serde(default)]
    pub leagues: Vec<i64>,
    /// Fixture ids to follow from before kick-off (otherwise a match is seen once it is live).
    #[serde(default)]
    pub fixtures: Vec<i64>,
    /// The plan's per-minute request allowance.
    #[serde(default = "default_rpm")]
    pub requests_per_minute: u32,
}

fn default_endpoint() -> String {
    DEFAULT_ENDPOINT.to_owned()
}

fn default_rpm() -> u32 {
    DEFAULT_REQUESTS_PER_MINUTE
}

impl Config {
    /// The HTTP transport this config describes.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn transport(&self) -> Result<HttpTransport, reqwest::Error> {
        HttpTransport::new(
            &self.endpoint,
            Auth::Header {
                name: "x-apisports-key",
                value: self.key.clone(),
            },
            Some(self.requests_per_minute),
        )
    }
}

/// Polls API-Football through a transport.
#[derive(Debug)]
pub struct ApiFootball<T> {
    leagues: Vec<i64>,
    transport: T,
    /// Fixtures to read one by one: watched ones, and live ones that left the live list.
    follow: HashSet<i64>,
}

impl<T: Transport> ApiFootball<T> {
    /// An API-Football source fetching through `transport`.
    pub fn new(leagues: Vec<i64>, fixtures: Vec<i64>, transport: T) -> Self {
        Self {
            leagues,
            transport,
            follow: fixtures.into_iter().collect(),
        }
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    async fn fetch(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<(Vec<Fixture>, Response), SourceError> {
        let response = self.transport.get(path, query).await?.ok(path)?;
        if let Some(pause) = minute_quota_pause(&response) {
            self.transport.pause(pause);
        }
        let body: Envelope = response.json(path)?;
        if let Some(message) = body.errors.message() {
            return Err(SourceError::Api {
                endpoint: path.to_owned(),
                message,
            });
        }
        Ok((body.response, response))
    }
}

impl<T: Transport> Source for ApiFootball<T> {
    async fn poll(&mut self) -> Result<Poll, SourceError> {
        const FIXTURES: &str = "/fixtures";
        let (live, response) = self.fetch(FIXTURES, &[("live", "all".to_owned())]).await?;
        let mut requests = 1_u32;
        let mut last = response;
        let mut matches = Vec::new();
        let mut seen = HashSet::new();
        for fixture in live {
            if !self.leagues.is_empty()
                && !fixture
                    .league
                    .as_ref()
                    .is_some_and(|l| self.leagues.contains(&l.id))
            {
                continue;
            }
            seen.insert(fixture.fixture.id);
            // Once live, it is followed until it is seen finished.
            self.follow.insert(fixture.fixture.id);
            matches.push(match_state(&fixture));
        }
        let mut ids: Vec<i64> = self
            .follow
            .iter()
            .copied()
            .filter(|id| !seen.contains(id))
            .collect();
        ids.sort_unstable();
        for id in ids {
            let (fixtures, response) = self.fetch(FIXTURES, &[("id", id.to_string())]).await?;
            requests += 1;
            last = response;
            for fixture in fixtures {
                let state = match_state(&fixture);
                if matches!(
                    state.phase,
                    Phase::Finished | Phase::Cancelled | Phase::Abandoned | Phase::Postponed
                ) {
                    self.follow.remove(&fixture.fixture.id);
                }
                matches.push(state);
            }
        }
        let next =
            daily_quota_spacing(&last, requests).map_or(NextPoll::Cadence, NextPoll::NotBefore);
        Ok(Poll {
            next,
            ..Poll::on_cadence(matches)
        })
    }
}

/// When the per-minute allowance is used up, wait for the next minute.
fn minute_quota_pause(response: &Response) -> Option<Duration> {
    let remaining: i64 = response.header("x-ratelimit-remaining")?.parse().ok()?;
    (remaining <= 0).then_some(Duration::from_secs(60))
}

/// The interval that makes the day's remaining requests last until the daily reset (midnight
/// UTC), given that one poll costs `per_poll` requests. `None` when the provider does not say.
pub fn daily_quota_spacing(response: &Response, per_poll: u32) -> Option<Duration> {
    let remaining: u64 = response
        .header("x-ratelimit-requests-remaining")?
        .parse()
        .ok()?;
    let now = u64::try_from(response.now).ok()?;
    let until_reset = 86_400 - now % 86_400;
    let polls_left = remaining / u64::from(per_poll.max(1));
    if polls_left == 0 {
        return Some(Duration::from_secs(until_reset));
    }
    Some(Duration::from_secs(until_reset / polls_left))
}

#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(default)]
    errors: Errors,
    #[serde(default)]
    response: Vec<Fixture>,
}

/// `errors` is `[]` when all is well and an object (`{"token": "…"}`) when not.
#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum Errors {
    #[default]
    None,
    List(Vec<serde_json::Value>),
    Map(HashMap<String, serde_json::Value>),
}

impl Errors {
    fn message(&self) -> Option<String> {
        let text = |v: &serde_json::Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
        match self {
            Self::None => None,
            Self::List(items) if items.is_empty() => None,
            Self::List(items) => Some(items.iter().map(text).collect::<Vec<_>>().join("; ")),
            Self::Map(map) if map.is_empty() => None,
            Self::Map(map) => {
                let mut parts: Vec<String> = map
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", text(v)))
                    .collect();
                parts.sort();
                Some(parts.join("; "))
            }
        }
    }
}

#[derive(Debug, Deserialize)]
struct Fixture {
    fixture: FixtureInfo,
    league: Option<League>,
    teams: Teams,
    goals: Pair,
    #[serde(default)]
    score: FixtureScore,
    #[serde(default)]
    events: Vec<ApiEvent>,
}

#[derive(Debug, Deserialize)]
struct FixtureInfo {
    id: i64,
    timestamp: Option<i64>,
    status: Status,
}

#[derive(Debug, Deserialize)]
struct Status {
    short: String,
    elapsed: Option<u16>,
    #[serde(default)]
    extra: Option<u16>,
}

#[derive(Debug, Deserialize)]
struct League {
    id: i64,
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Teams {
    home: ApiTeam,
    away: ApiTeam,
}

#[derive(Debug, Deserialize)]
struct ApiTeam {
    id: Option<i64>,
    name: Option<String>,
    winner: Option<bool>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
struct Pair {
    home: Option<u16>,
    away: Option<u16>,
}

impl Pair {
    fn score(self) -> Option<Score> {
        Some(Score::new(self.home?, self.away?))
    }
}

#[derive(Debug, Default, Deserialize)]
struct FixtureScore {
    extratime: Option<Pair>,
    penalty: Option<Pair>,
}

#[derive(Debug, Deserialize)]
struct ApiEvent {
    time: EventTime,
    team: Option<EventTeam>,
    player: Option<Person>,
    #[serde(rename = "type")]
    kind: Option<String>,
    detail: Option<String>,
    comments: Option<String>,
}

#[derive(Debug, Deserialize)]
struct EventTime {
    elapsed: Option<u16>,
    extra: Option<u16>,
}

#[derive(Debug, Deserialize)]
struct EventTeam {
    id: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct Person {
    id: Option<i64>,
    name: Option<String>,
}

fn phase(status: &Status) -> Phase {
    let elapsed = status.elapsed.unwrap_or(0);
    match status.short.as_str() {
        "TBD" | "NS" => Phase::Pre,
        "1H" => Phase::FirstHalf,
        "HT" => Phase::HalfTime,
        "2H" => Phase::SecondHalf,
        "ET" if elapsed > 105 => Phase::ExtraTimeSecondHalf,
        "ET" => Phase::ExtraTimeFirstHalf,
        "BT" if elapsed >= 120 => Phase::BreakBeforePenalties,
        "BT" if elapsed > 90 => Phase::ExtraTimeHalfTime,
        "BT" => Phase::BreakBeforeExtraTime,
        "P" => Phase::Penalties,
        "FT" | "AET" | "PEN" | "AWD" | "WO" => Phase::Finished,
        "SUSP" | "INT" => Phase::Suspended,
        "PST" => Phase::Postponed,
        "CANC" => Phase::Cancelled,
        "ABD" => Phase::Abandoned,
        _ => Phase::for_minute(elapsed.max(1)),
    }
}

fn match_state(f: &Fixture) -> MatchState {
    let home_id = f.teams.home.id;
    let side_of = |team: Option<&EventTeam>| -> Option<Side> {
        let id = team?.id?;
        Some(if Some(id) == home_id {
            Side::Home
        } else {
            Side::Away
        })
    };
    let phase = phase(&f.fixture.status);
    let pens = f.score.penalty.and_then(Pair::score);
    let extra_time = f.score.extratime.and_then(Pair::score).is_some()
        || matches!(f.fixture.status.short.as_str(), "AET" | "PEN" | "ET" | "P")
        || pens.is_some();
    // When each player got his second yellow, if he did.
    let mut second_yellow_at: HashMap<String, Option<u16>> = HashMap::new();
    let mut count: HashMap<String, u32> = HashMap::new();
    for e in &f.events {
        if e.detail
            .as_deref()
            .is_some_and(|d| d.eq_ignore_ascii_case("yellow card"))
        {
            let n = count.entry(player_key(e)).or_default();
            *n += 1;
            if *n == 2 {
                second_yellow_at.insert(player_key(e), e.time.elapsed);
            }
        }
    }
    let mut incidents = Vec::new();
    let mut yellows: HashMap<String, u32> = HashMap::new();
    let mut occurrences: HashMap<String, u32> = HashMap::new();
    for (i, e) in f.events.iter().enumerate() {
        let player = e.player.as_ref().and_then(|p| p.name.clone());
        let player_key = player_key(e);
        let shootout = e
            .comments
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("Penalty Shootout"));
        let detail = e.detail.as_deref().unwrap_or("").to_ascii_lowercase();
        let kind = match (e.kind.as_deref().unwrap_or(""), detail.as_str()) {
            ("Goal", "penalty") if shootout => IncidentKind::ShootoutScored,
            ("Goal", "missed penalty") if shootout => IncidentKind::ShootoutMissed,
            ("Goal", "own goal") => IncidentKind::OwnGoal,
            ("Goal", "penalty") => IncidentKind::PenaltyGoal,
            ("Goal", "missed penalty") => IncidentKind::PenaltyMissed,
            ("Goal", _) => IncidentKind::Goal,
            ("Card", "yellow card") => {
                let n = yellows.entry(player_key.clone()).or_default();
                *n += 1;
                if *n >= 2 {
                    IncidentKind::SecondYellow
                } else {
                    IncidentKind::YellowCard
                }
            }
            ("Card", "second yellow card") => IncidentKind::SecondYellow,
            ("Card", _) => {
                // The docs show a second booking as a Yellow Card and a Red Card at the same
                // minute: the red is the same sending-off, not another one.
                if second_yellow_at.get(&player_key) == Some(&e.time.elapsed) {
                    continue;
                }
                IncidentKind::RedCard
            }
            ("Var", d) if d.contains("goal cancelled") || d.contains("goal disallowed") => {
                IncidentKind::GoalCancelled
            }
            ("Var", d) if d.contains("penalty confirmed") => IncidentKind::PenaltyAwarded,
            _ => continue,
        };
        let base = format!(
            "{}:{}:{}:{}:{}",
            e.kind.as_deref().unwrap_or("").to_ascii_lowercase(),
            detail.replace(' ', "_"),
            e.team.as_ref().and_then(|t| t.id).unwrap_or(0),
            player_key,
            e.time.elapsed.unwrap_or(0),
        );
        let n = occurrences.entry(base.clone()).or_default();
        *n += 1;
        let clock = e.time.elapsed.map(|m| Clock {
            minute: m,
            extra: e.time.extra,
        });
        incidents.push(Incident {
            key: format!("{base}:{n}"),
            kind,
            side: side_of(e.team.as_ref()),
            player,
            period: if shootout {
                Some(Phase::Penalties)
            } else {
                None
            },
            clock: if shootout { None } else { clock },
            score_after: None,
            pens_after: None,
            detail: match kind {
                IncidentKind::PenaltyMissed | IncidentKind::ShootoutMissed => Some(
                    if detail.contains("saved") {
                        "saved"
                    } else {
                        "missed"
                    }
                    .to_owned(),
                ),
                _ => None,
            },
            order: i64::try_from(i).unwrap_or(0),
        });
    }
    let finished = phase == Phase::Finished;
    MatchState {
        id: f.fixture.id.to_string(),
        competition: f.league.as_ref().and_then(|l| l.name.clone()),
        home: team(&f.teams.home),
        away: team(&f.teams.away),
        kickoff: f.fixture.timestamp,
        phase,
        clock: f.fixture.status.elapsed.filter(|m| *m > 0).map(|m| Clock {
            minute: m,
            extra: f.fixture.status.extra.filter(|x| *x > 0),
        }),
        score: f.goals.score().unwrap_or_default(),
        pens,
        extra_time,
        // `winner` is set while a match is live too (the side ahead); only final at full time.
        winner: if !finished {
            None
        } else if f.teams.home.winner == Some(true) {
            Some(Side::Home)
        } else if f.teams.away.winner == Some(true) {
            Some(Side::Away)
        } else {
            None
        },
        incidents,
    }
}

/// The player's id, or name when the feed has no id.
fn player_key(e: &ApiEvent) -> String {
    e.player
        .as_ref()
        .and_then(|p| p.id.map(|id| id.to_string()).or_else(|| p.name.clone()))
        .unwrap_or_default()
}

fn team(t: &ApiTeam) -> Team {
    Team {
        id: t.id.map(|i| i.to_string()).unwrap_or_default(),
        name: t.name.clone().unwrap_or_default(),
    }
}

/// API-Football, as the plug-in list names it: `type = "api_football"`.
#[derive(Debug)]
pub struct Plugin;

impl crate::plugins::SourcePlugin for Plugin {
    const KIND: &'static str = "api_football";
    type Config = Config;
    type Source = ApiFootball<super::http::HttpTransport>;

    fn validate(config: &Config) -> Result<(), sink_api::Invalid> {
        super::check_quota(&config.endpoint, config.requests_per_minute)
    }

    fn describe(config: &Config) -> String {
        super::describe_quota(&config.endpoint, config.requests_per_minute)
    }

    fn build(
        config: &Config,
        id: &str,
        _store: &crate::store::Store,
    ) -> Result<Self::Source, SourceError> {
        let transport = config.transport().map_err(|e| SourceError::client(id, e))?;
        Ok(ApiFootball::new(
            config.leagues.clone(),
            config.fixtures.clone(),
            transport,
        ))
    }
}

#[cfg(test)]
mod tests;
