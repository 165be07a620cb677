//! API-Football v3 (api-sports.io): `fixtures?live=all` lists live fixtures with their events
//! in one request. A fixture drops out of it at full time, so fixtures that vanish (and those
//! listed in `fixtures` to watch from before kick-off) are read with `fixtures?id=` until they
//! are finished. The live list never shows a fixture before kick-off, so with `leagues` set the
//! day's schedule (`fixtures?date=`, once per league and day) puts upcoming fixtures in the
//! snapshot and the cadence polls fast ahead of them. The daily quota (100 requests on the free
//! plan) is honoured by stretching the interval so that what is left lasts until the quota
//! resets at midnight UTC.

mod lineups;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use super::http::{Auth, HttpTransport};
use super::{NextPoll, Poll, Response, Source, SourceError, Transport};
use crate::model::{Clock, Incident, IncidentKind, MatchState, Phase, Score, Side, Team, Venue};

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
    /// Fixture ids to follow from before kick-off. Without them, the day's schedule of
    /// `leagues` (one `fixtures?date=` request per league and day) tells when to poll fast.
    #[serde(default)]
    pub fixtures: Vec<i64>,
    /// The season of `leagues` (e.g. 2022), which the API needs to list a league's fixtures
    /// by date. Unset, the day's schedule is read in one request for every league and kept
    /// to `leagues`.
    #[serde(default)]
    pub season: Option<i64>,
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

/// Read a day's schedule this long before the day starts, so that a kick-off just after
/// midnight UTC is known in time to poll fast before it.
const SCHEDULE_LEAD: i64 = 3600;
/// After a failed schedule request, try again this much later: the daily quota is small.
const SCHEDULE_RETRY: i64 = 3600;
/// A scheduled fixture that is this late and still not in the live list is no longer waited
/// for at the live pace (postponed, or its kick-off will show in the live list anyway).
const LATE_KICK_OFF: i64 = 30 * 60;

/// Polls API-Football through a transport.
#[derive(Debug)]
pub struct ApiFootball<T> {
    leagues: Vec<i64>,
    transport: T,
    /// Fixtures to read one by one: watched ones, and live ones that left the live list.
    follow: HashSet<i64>,
    /// The days' fixtures of `leagues` not started yet, when the schedule is read.
    schedule: Option<Schedule>,
    /// Line-ups known, and when they were asked for.
    lineups: lineups::Book,
}

/// What the `fixtures?date=` requests told: the live list never shows a fixture before its
/// kick-off, so without this the poll pace cannot quicken ahead of one.
#[derive(Debug, Default)]
struct Schedule {
    /// The `season` parameter; `None` reads every league's fixtures in one request.
    season: Option<i64>,
    /// Days (Unix days, UTC) whose schedule was read.
    read: BTreeSet<i64>,
    /// No schedule request before this provider time (after a failure).
    retry_at: i64,
    /// Fixtures not started yet, by id.
    fixtures: BTreeMap<i64, MatchState>,
}

impl<T: Transport> ApiFootball<T> {
    /// An API-Football source fetching through `transport`.
    pub fn new(leagues: Vec<i64>, fixtures: Vec<i64>, transport: T) -> Self {
        Self {
            leagues,
            transport,
            follow: fixtures.into_iter().collect(),
            schedule: None,
            lineups: lineups::Book::default(),
        }
    }

    /// Also reads each day's schedule of the leagues (one request per league and day, or one
    /// for all of them without a `season`), so the snapshot shows upcoming kick-offs and the
    /// cadence polls fast ahead of them. Without leagues there is no schedule to read.
    #[must_use]
    pub fn with_schedule(mut self, season: Option<i64>) -> Self {
        self.schedule = Some(Schedule {
            season,
            ..Schedule::default()
        });
        self
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
    fn spends_quota(&self) -> bool {
        true
    }

    async fn poll(&mut self) -> Result<Poll, SourceError> {
        const FIXTURES: &str = "/fixtures";
        let (live, response) = self.fetch(FIXTURES, &[("live", "all".to_owned())]).await?;
        let mut requests = 1_u32;
        let mut last = response;
        let mut matches = Vec::new();
        let mut seen = HashSet::new();
        for fixture in live {
            if !self.wanted(&fixture) {
                continue;
            }
            seen.insert(fixture.fixture.id);
            // Once live, it is followed until it is seen finished.
            self.follow.insert(fixture.fixture.id);
            matches.push(match_state(&fixture));
        }
        let mut read_by_id = HashSet::new();
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
            read_by_id.insert(id);
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
        let now = last.now;
        if let Some(response) = self.read_schedule(now).await {
            last = response;
        }
        if let Some(schedule) = &mut self.schedule {
            // A fixture seen live (or read by id) is no longer the schedule's business.
            schedule.fixtures.retain(|_, state| {
                !matches.iter().any(|m| m.id == state.id)
                    && state
                        .kickoff
                        .is_some_and(|k| now.saturating_sub(k) <= LATE_KICK_OFF)
            });
            matches.extend(schedule.fixtures.values().cloned());
        }
        if let Some(response) = self.add_lineups(&mut matches, &read_by_id, now).await {
            last = response;
        }
        // The schedule's requests are once a day, not part of every poll's cost.
        let next =
            daily_quota_spacing(&last, requests).map_or(NextPoll::Cadence, NextPoll::NotBefore);
        Ok(Poll {
            next,
            ..Poll::on_cadence(matches)
        })
    }
}

impl<T: Transport> ApiFootball<T> {
    /// Reads the schedule of the days not read yet (today, and tomorrow from
    /// [`SCHEDULE_LEAD`] before midnight UTC). Returns the last response, for its quota
    /// headers. A failure is logged and retried after [`SCHEDULE_RETRY`]: the live list
    /// still works without the schedule.
    async fn read_schedule(&mut self, now: i64) -> Option<Response> {
        const FIXTURES: &str = "/fixtures";
        let schedule = self.schedule.as_ref()?;
        if self.leagues.is_empty() || now < schedule.retry_at {
            return None;
        }
        let today = now.div_euclid(86_400);
        let mut days: Vec<i64> = vec![today, (now + SCHEDULE_LEAD).div_euclid(86_400)];
        days.dedup();
        days.retain(|d| !schedule.read.contains(d));
        let season = schedule.season;
        let mut last = None;
        let mut read = Vec::new();
        let mut found = Vec::new();
        'days: for day in days {
            let Some(date) = date_of(day) else { continue };
            let queries: Vec<Vec<(&str, String)>> = match season {
                Some(season) => self
                    .leagues
                    .iter()
                    .map(|league| {
                        vec![
                            ("date", date.clone()),
                            ("league", league.to_string()),
                            ("season", season.to_string()),
                        ]
                    })
                    .collect(),
                None => vec![vec![("date", date.clone())]],
            };
            let mut fixtures = Vec::new();
            for query in queries {
                match self.fetch(FIXTURES, &query).await {
                    Ok((listed, response)) => {
                        last = Some(response);
                        fixtures.extend(listed);
                    }
                    Err(error) => {
                        tracing::warn!(
                            %date,
                            error = %error,
                            "cannot read the API-Football schedule; trying again later"
                        );
                        if let Some(schedule) = &mut self.schedule {
                            schedule.retry_at = now + SCHEDULE_RETRY;
                        }
                        break 'days;
                    }
                }
            }
            read.push(day);
            // Not started yet, with a kick-off time that is set (`TBD` has a placeholder).
            found.extend(
                fixtures
                    .iter()
                    .filter(|f| self.wanted(f) && f.fixture.status.short == "NS")
                    .map(match_state),
            );
        }
        if let Some(schedule) = &mut self.schedule {
            schedule.read.extend(read);
            schedule.read.retain(|d| *d >= today);
            for state in found {
                if let Ok(id) = state.id.parse() {
                    schedule.fixtures.insert(id, state);
                }
            }
        }
        last
    }

    /// Puts each fixture's line-ups into its state: those a `fixtures?id=` answer carried,
    /// those read before, or (from an hour before kick-off, a few times at most) the
    /// `lineups` of one `fixtures?id=` read for a fixture only the live list or the schedule
    /// showed (they carry none). That answer is the documented home of a fixture's line-ups
    /// and an endpoint herald reads anyway. A failed read is logged and does not fail the
    /// poll: line-ups are not worth a missed goal. Returns the last response, for its quota
    /// headers.
    async fn add_lineups(
        &mut self,
        matches: &mut [MatchState],
        read_by_id: &HashSet<i64>,
        now: i64,
    ) -> Option<Response> {
        const FIXTURES: &str = "/fixtures";
        let mut last = None;
        let mut ids = HashSet::new();
        for state in matches.iter_mut() {
            let Ok(id) = state.id.parse::<i64>() else {
                continue;
            };
            ids.insert(id);
            self.lineups.record(id, &state.lineups);
            self.lineups.fill(id, state);
            if read_by_id.contains(&id) || !self.lineups.due(id, state, now) {
                continue;
            }
            self.lineups.asked(id, now);
            match self.fetch(FIXTURES, &[("id", id.to_string())]).await {
                Ok((fixtures, response)) => {
                    last = Some(response);
                    for fixture in fixtures.iter().filter(|f| f.fixture.id == id) {
                        self.lineups.record(id, &match_state(fixture).lineups);
                    }
                    self.lineups.fill(id, state);
                }
                Err(error) => tracing::warn!(
                    fixture = id,
                    error = %error,
                    "cannot read the API-Football line-ups; trying again later"
                ),
            }
        }
        self.lineups.retain(&ids);
        last
    }

    /// Whether a fixture is of the configured leagues (any, when none are configured).
    fn wanted(&self, fixture: &Fixture) -> bool {
        self.leagues.is_empty()
            || fixture
                .league
                .as_ref()
                .is_some_and(|l| self.leagues.contains(&l.id))
    }
}

/// `YYYY-MM-DD` of a Unix day.
fn date_of(day: i64) -> Option<String> {
    let date = time::OffsetDateTime::from_unix_timestamp(day.checked_mul(86_400)?)
        .ok()?
        .date();
    Some(format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    ))
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
    /// Only in `fixtures?id=` answers, once published.
    #[serde(default)]
    lineups: Vec<lineups::ApiLineup>,
}

#[derive(Debug, Deserialize)]
struct FixtureInfo {
    id: i64,
    timestamp: Option<i64>,
    status: Status,
    venue: Option<ApiVenue>,
}

#[derive(Debug, Deserialize)]
struct ApiVenue {
    name: Option<String>,
    city: Option<String>,
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
    // Events are listed in match order: whatever follows the first shoot-out kick (a card
    // shown to a kicker or a keeper) happened during the shoot-out, although its clock reads
    // 120 plus something like the kicks'.
    let shootout_from = f.events.iter().position(is_shootout_kick);
    let mut incidents = Vec::new();
    let mut yellows: HashMap<String, u32> = HashMap::new();
    let mut occurrences: HashMap<String, u32> = HashMap::new();
    for (i, e) in f.events.iter().enumerate() {
        let player = e.player.as_ref().and_then(|p| p.name.clone());
        let player_key = player_key(e);
        let shootout = is_shootout_kick(e);
        let in_shootout = shootout_from.is_some_and(|first| i >= first);
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
            at: None,
            key: format!("{base}:{n}"),
            kind,
            side: side_of(e.team.as_ref()),
            player,
            period: in_shootout.then_some(Phase::Penalties),
            // Shoot-out kicks: 120 plus the kick number, which keeps them in order with the
            // cards of the shoot-out (events report them at minute 120).
            clock,
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
        venue: f
            .fixture
            .venue
            .as_ref()
            .and_then(|v| Venue::named(v.name.as_deref(), v.city.as_deref())),
        lineups: lineups::lineups(&f.lineups, f.teams.home.id, f.teams.away.id),
    }
}

/// A shoot-out kick: marked `"comments": "Penalty Shootout"`.
fn is_shootout_kick(e: &ApiEvent) -> bool {
    e.comments
        .as_deref()
        .is_some_and(|c| c.eq_ignore_ascii_case("Penalty Shootout"))
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
        let transport = config
            .transport()
            .map_err(|e| SourceError::client(id, e))?
            .metered_as(id);
        Ok(
            ApiFootball::new(config.leagues.clone(), config.fixtures.clone(), transport)
                .with_schedule(config.season),
        )
    }
}

#[cfg(test)]
mod tests;
