//! LiveScore API (livescore-api.com, legacy `scores/*.json`): `scores/live.json` for live
//! matches, `scores/events.json?id=` for the events of each, fetched again only when the
//! match's `last_changed` moved. Credentials are the `key` and `secret` query parameters.

use std::collections::HashMap;

use secrecy::SecretString;
use serde::Deserialize;

use super::http::{Auth, HttpTransport};
use super::{Poll, Source, SourceError, Transport};
use crate::model::{
    Clock, Incident, IncidentKind, Lineups, MatchState, Phase, Score, Side, Team, Venue,
};

/// The real API.
pub const DEFAULT_ENDPOINT: &str = "https://livescore-api.com/api-client";

/// `[sources.<id>]` with `type = "livescore"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Base URL of the API.
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// API key (`key` parameter); use `${LIVESCORE_KEY}`.
    #[serde(deserialize_with = "sink_api::secret::required")]
    pub key: SecretString,
    /// API secret (`secret` parameter); use `${LIVESCORE_SECRET}`.
    #[serde(deserialize_with = "sink_api::secret::required")]
    pub secret: SecretString,
    /// Only matches of this competition id (optional).
    #[serde(default)]
    pub competition_id: Option<String>,
}

fn default_endpoint() -> String {
    DEFAULT_ENDPOINT.to_owned()
}

impl Config {
    /// The HTTP transport this config describes.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn transport(&self) -> Result<HttpTransport, reqwest::Error> {
        HttpTransport::new(
            &self.endpoint,
            Auth::Query(vec![
                ("key", self.key.clone()),
                ("secret", self.secret.clone()),
            ]),
            None,
        )
    }
}

/// Polls the LiveScore API through a transport.
#[derive(Debug)]
pub struct LiveScore<T> {
    competition_id: Option<String>,
    transport: T,
    /// Events per match id, with the `last_changed` they were fetched at.
    events: HashMap<String, (String, Vec<ApiEvent>)>,
}

impl<T: Transport> LiveScore<T> {
    /// A LiveScore source fetching through `transport`.
    pub fn new(competition_id: Option<String>, transport: T) -> Self {
        Self {
            competition_id,
            transport,
            events: HashMap::new(),
        }
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }
}

impl<T: Transport> Source for LiveScore<T> {
    async fn poll(&mut self) -> Result<Poll, SourceError> {
        const LIVE: &str = "/scores/live.json";
        const EVENTS: &str = "/scores/events.json";
        let mut query = Vec::new();
        if let Some(id) = &self.competition_id {
            query.push(("competition_id", id.clone()));
        }
        let live: Envelope<LiveData> = self
            .transport
            .get(LIVE, &query)
            .await?
            .ok(LIVE)?
            .json(LIVE)?;
        if !live.success {
            return Err(SourceError::Api {
                endpoint: LIVE.into(),
                message: "success is false".into(),
            });
        }
        let mut matches = Vec::new();
        for m in live.data.map(|d| d.matches).unwrap_or_default() {
            let started = m.status != "NOT STARTED";
            let events = if started {
                let changed = m.last_changed.clone().unwrap_or_default();
                match self.events.get(&m.id) {
                    Some((at, events)) if *at == changed => events.clone(),
                    _ => {
                        let response = self
                            .transport
                            .get(EVENTS, &[("id", m.id.clone())])
                            .await?
                            .ok(EVENTS)?;
                        let body: Envelope<EventsData> = response.json(EVENTS)?;
                        let events = body.data.map(|d| d.event).unwrap_or_default();
                        self.events.insert(m.id.clone(), (changed, events.clone()));
                        events
                    }
                }
            } else {
                Vec::new()
            };
            match match_state(&m, &events) {
                Ok(state) => matches.push(state),
                Err(message) => {
                    // One bad entry must not hide the others; it keeps its previous state.
                    tracing::warn!(match_id = %m.id, %message, "skipping malformed LiveScore match");
                }
            }
        }
        self.events
            .retain(|id, _| matches.iter().any(|m| &m.id == id));
        Ok(Poll::on_cadence(matches))
    }
}

#[derive(Debug, Deserialize)]
struct Envelope<T> {
    #[serde(default = "yes")]
    success: bool,
    data: Option<T>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
struct LiveData {
    #[serde(rename = "match", default)]
    matches: Vec<ApiMatch>,
}

#[derive(Debug, Deserialize)]
struct EventsData {
    #[serde(default)]
    event: Vec<ApiEvent>,
}

/// The kick-off (Unix seconds): `scheduled`'s time of day on the day the match was `added`,
/// or the next day when that is more than 12 hours before it was added (a match added late in
/// the evening for a kick-off after midnight). LiveScore gives no date of its own.
fn kickoff(scheduled: Option<&str>, added: Option<&str>) -> Option<i64> {
    let added = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", added?.trim()).ok()?;
    let time = jiff::civil::Time::strptime("%H:%M", scheduled?.trim()).ok()?;
    let at = |day: jiff::civil::Date| day.to_datetime(time).to_zoned(jiff::tz::TimeZone::UTC).ok();
    let same_day = at(added.date())?;
    let added = added.to_zoned(jiff::tz::TimeZone::UTC).ok()?;
    let kickoff = if same_day.timestamp().as_second() < added.timestamp().as_second() - 12 * 3600 {
        at(added.date().tomorrow().ok()?)?
    } else {
        same_day
    };
    Some(kickoff.timestamp().as_second())
}

#[derive(Debug, Clone, Deserialize)]
struct ApiMatch {
    #[serde(deserialize_with = "string_or_number")]
    id: String,
    home_id: Option<serde_json::Value>,
    home_name: String,
    away_id: Option<serde_json::Value>,
    away_name: String,
    #[serde(default)]
    score: String,
    #[serde(default)]
    et_score: String,
    #[serde(default)]
    ps_score: String,
    #[serde(default)]
    time: String,
    #[serde(default)]
    status: String,
    last_changed: Option<String>,
    /// Kick-off time of day, `HH:MM` UTC.
    #[serde(default)]
    scheduled: Option<String>,
    /// When the match was added to the live list, `YYYY-MM-DD HH:MM:SS` UTC (shortly before
    /// kick-off).
    #[serde(default)]
    added: Option<String>,
    competition_name: Option<String>,
    league_name: Option<String>,
    /// The stadium: a string in the real answers, read leniently since nothing depends on it.
    #[serde(default)]
    location: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
struct ApiEvent {
    #[serde(deserialize_with = "string_or_number")]
    id: String,
    player: Option<String>,
    #[serde(default)]
    time: String,
    #[serde(default)]
    event: String,
    #[serde(default)]
    sort: Option<serde_json::Value>,
    #[serde(default)]
    home_away: String,
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected a string or number, got {other}"
        ))),
    }
}

fn id_text(v: Option<&serde_json::Value>) -> String {
    match v {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// `"2 - 1"` → 2-1; `"? - ?"` → `None`.
fn parse_score(text: &str) -> Option<Score> {
    let (h, a) = text.split_once('-')?;
    Some(Score::new(h.trim().parse().ok()?, a.trim().parse().ok()?))
}

fn phase(status: &str, time: &str) -> Phase {
    match (status, time) {
        ("NOT STARTED", _) | (_, "NS") => Phase::Pre,
        ("HALF TIME BREAK", _) | (_, "HT") => Phase::HalfTime,
        ("FINISHED", _) | (_, "FT" | "AET" | "AP") => Phase::Finished,
        (_, "PEN") => Phase::Penalties,
        (_, "ET HT") => Phase::ExtraTimeHalfTime,
        (_, "ET") => Phase::ExtraTimeFirstHalf,
        ("POSTPONED", _) => Phase::Postponed,
        ("INTERRUPTED" | "SUSPENDED", _) => Phase::Suspended,
        ("CANCELLED", _) => Phase::Cancelled,
        ("ABANDONED", _) => Phase::Abandoned,
        _ => Clock::parse(time).map_or(Phase::FirstHalf, |c| Phase::for_minute(c.minute)),
    }
}

fn match_state(m: &ApiMatch, events: &[ApiEvent]) -> Result<MatchState, String> {
    let phase = phase(m.status.trim(), m.time.trim());
    let score = match parse_score(&m.score) {
        Some(s) => s,
        None if phase == Phase::Pre => Score::default(),
        None => return Err(format!("unreadable score {:?} while {}", m.score, m.status)),
    };
    let mut ordered: Vec<&ApiEvent> = events.iter().collect();
    ordered.sort_by_key(|e| sort_key(e));
    let mut incidents = Vec::new();
    for e in ordered {
        let Some(scorer_side) = (match e.home_away.as_str() {
            "h" => Some(Side::Home),
            "a" => Some(Side::Away),
            _ => None,
        }) else {
            continue;
        };
        let (kind, side) = match e.event.as_str() {
            "GOAL" => (IncidentKind::Goal, scorer_side),
            "GOAL_PENALTY" => (IncidentKind::PenaltyGoal, scorer_side),
            // home_away names the side of the player who put it in his own net.
            "OWN_GOAL" => (IncidentKind::OwnGoal, scorer_side.other()),
            "MISSED_PENALTY" => (IncidentKind::PenaltyMissed, scorer_side),
            "YELLOW_CARD" => (IncidentKind::YellowCard, scorer_side),
            "YELLOW_RED_CARD" => (IncidentKind::SecondYellow, scorer_side),
            "RED_CARD" => (IncidentKind::RedCard, scorer_side),
            _ => continue,
        };
        incidents.push(Incident {
            at: None,
            key: format!("ev:{}", e.id),
            kind,
            side: Some(side),
            player: e.player.clone().filter(|p| !p.trim().is_empty()),
            period: None,
            clock: Clock::parse(&e.time),
            score_after: None,
            pens_after: None,
            detail: (kind == IncidentKind::PenaltyMissed).then(|| "missed".to_owned()),
            order: sort_key(e),
        });
    }
    Ok(MatchState {
        id: m.id.clone(),
        competition: m.competition_name.clone().or_else(|| m.league_name.clone()),
        home: Team {
            id: id_text(m.home_id.as_ref()),
            name: m.home_name.clone(),
        },
        away: Team {
            id: id_text(m.away_id.as_ref()),
            name: m.away_name.clone(),
        },
        kickoff: kickoff(m.scheduled.as_deref(), m.added.as_deref()),
        phase,
        clock: Clock::parse(&m.time),
        score,
        pens: parse_score(&m.ps_score),
        extra_time: parse_score(&m.et_score).is_some(),
        winner: None,
        incidents,
        venue: Venue::named(m.location.as_ref().and_then(|l| l.as_str()), None),
        lineups: Lineups::default(),
    })
}

fn sort_key(e: &ApiEvent) -> i64 {
    match &e.sort {
        Some(serde_json::Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(serde_json::Value::String(s)) => s.parse().unwrap_or(0),
        _ => e.id.parse().unwrap_or(0),
    }
}

/// LiveScore, as the plug-in list names it: `type = "livescore"`.
#[derive(Debug)]
pub struct Plugin;

impl crate::plugins::SourcePlugin for Plugin {
    const KIND: &'static str = "livescore";
    type Config = Config;
    type Source = LiveScore<HttpTransport>;

    fn validate(config: &Config) -> Result<(), sink_api::Invalid> {
        super::check_endpoint(&config.endpoint)
    }

    fn describe(config: &Config) -> String {
        config.endpoint.clone()
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
        Ok(LiveScore::new(config.competition_id.clone(), transport))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kickoff_is_the_scheduled_time_on_the_day_it_was_added() {
        // Brazil v Germany, 2014-07-08 20:00 UTC.
        assert_eq!(
            kickoff(Some("20:00"), Some("2014-07-08 19:45:00")),
            Some(1_404_849_600)
        );
        // Added in the evening for a kick-off after midnight: the next day.
        assert_eq!(
            kickoff(Some("00:30"), Some("2014-07-08 23:50:00")),
            Some(1_404_849_600 + 4 * 3600 + 30 * 60)
        );
        assert_eq!(kickoff(None, Some("2014-07-08 19:45:00")), None);
        assert_eq!(kickoff(Some("8pm"), Some("2014-07-08 19:45:00")), None);
    }

    const EVENTS: &str = include_str!(
        "../../tests/data/reference-responses/livescore/events_legacy_docs_sample.json"
    );

    fn live(status: &str, time: &str, score: &str) -> ApiMatch {
        serde_json::from_value(serde_json::json!({
            "id": "1", "home_name": "Brazil", "away_name": "Germany", "score": score,
            "time": time, "status": status, "ps_score": "", "et_score": ""
        }))
        .unwrap()
    }

    #[test]
    fn statuses_and_times_map_to_phases() {
        assert_eq!(phase("NOT STARTED", "NS"), Phase::Pre);
        assert_eq!(phase("IN PLAY", "23"), Phase::FirstHalf);
        assert_eq!(phase("ADDED TIME", "45+"), Phase::FirstHalf);
        assert_eq!(phase("HALF TIME BREAK", "HT"), Phase::HalfTime);
        assert_eq!(phase("IN PLAY", "46"), Phase::SecondHalf);
        assert_eq!(phase("FINISHED", "FT"), Phase::Finished);
    }

    #[test]
    fn unknown_score_is_fine_before_kick_off_and_malformed_after() {
        assert_eq!(
            match_state(&live("NOT STARTED", "NS", "? - ?"), &[])
                .unwrap()
                .score,
            Score::default()
        );
        assert!(match_state(&live("IN PLAY", "12", "? - ?"), &[]).is_err());
        assert_eq!(
            match_state(&live("IN PLAY", "12", "1 - 0"), &[])
                .unwrap()
                .score,
            Score::new(1, 0)
        );
    }

    #[test]
    fn parses_the_documented_events_sample() {
        let body: Envelope<EventsData> = serde_json::from_str(EVENTS).unwrap();
        let events = body.data.unwrap().event;
        assert!(!events.is_empty());
        let state = match_state(&live("IN PLAY", "60", "0 - 1"), &events).unwrap();
        let goal = state
            .incidents
            .iter()
            .find(|i| i.kind == IncidentKind::Goal)
            .unwrap();
        assert_eq!(goal.player.as_deref(), Some("SAAVEDRA MATIAS"));
        assert_eq!(goal.side, Some(Side::Away));
    }

    #[test]
    fn an_own_goal_is_credited_to_the_other_side() {
        let e: ApiEvent = serde_json::from_value(serde_json::json!({
            "id": "9", "player": "MARCELO", "time": "11", "event": "OWN_GOAL", "sort": "0", "home_away": "h"
        }))
        .unwrap();
        let state = match_state(&live("IN PLAY", "12", "0 - 1"), &[e]).unwrap();
        assert_eq!(state.incidents[0].kind, IncidentKind::OwnGoal);
        assert_eq!(state.incidents[0].side, Some(Side::Away));
    }
}
