//! football-data.org v4: `/matches` lists today's matches and their status; `/matches/{id}`
//! adds goals, bookings and shoot-out kicks, fetched only for live or just-finished matches and
//! only when `lastUpdated` moved. Requests are paced under the plan's per-minute quota (10 on
//! the free plan) and pause when `X-Requests-Available-Minute` reaches 0.
//!
//! The list is read without a `status` filter on purpose: one request carries every status
//! herald needs, while `?status=LIVE` drops a match at the final whistle (full time would need
//! extra requests) and never shows kick-off times ahead.

use std::collections::HashMap;
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use super::http::{Auth, HttpTransport};
use super::{Poll, RECENT_AFTER_KICKOFF, Response, Source, SourceError, Transport, parse_rfc3339};
use crate::model::{
    Clock, Incident, IncidentKind, Lineup, Lineups, MatchState, Phase, Player, Position, Score,
    Side, Team, Venue,
};

/// The real API.
pub const DEFAULT_ENDPOINT: &str = "https://api.football-data.org/v4";
/// The free plan's quota.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 10;

/// `[sources.<id>]` with `type = "football_data"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Base URL of the API.
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// The API token (`X-Auth-Token`); use `${FOOTBALL_DATA_TOKEN}`.
    #[serde(deserialize_with = "sink_api::secret::required")]
    pub token: SecretString,
    /// Competition codes to follow (`WC`, `EC`, `PL`); empty follows every match of the plan.
    #[serde(default)]
    pub competitions: Vec<String>,
    /// The plan's per-minute request quota; requests are paced to stay under it.
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
                name: "X-Auth-Token",
                value: self.token.clone(),
            },
            Some(self.requests_per_minute),
        )
    }
}

/// Polls football-data.org through a transport.
#[derive(Debug)]
pub struct FootballData<T> {
    competitions: Vec<String>,
    transport: T,
    /// The last detailed state per match id, with the `lastUpdated` it was fetched at.
    details: HashMap<i64, (String, MatchState)>,
}

/// How long to pause when `X-Requests-Available-Minute` says nothing is left.
pub fn quota_pause(response: &Response) -> Option<Duration> {
    let available: i64 = response
        .header("x-requests-available-minute")?
        .parse()
        .ok()?;
    if available > 0 {
        return None;
    }
    let reset: u64 = response
        .header("x-requestcounter-reset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    Some(Duration::from_secs(reset.max(1)))
}

impl<T: Transport> FootballData<T> {
    /// A football-data.org source fetching through `transport`.
    pub fn new(competitions: Vec<String>, transport: T) -> Self {
        Self {
            competitions,
            transport,
            details: HashMap::new(),
        }
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    async fn fetch(&self, path: &str, query: &[(&str, String)]) -> Result<Response, SourceError> {
        let response = self.transport.get(path, query).await?;
        if let Some(pause) = quota_pause(&response) {
            tracing::info!(
                seconds = pause.as_secs(),
                "football-data.org quota spent for this minute; pausing requests"
            );
            self.transport.pause(pause);
        }
        response.ok(path)
    }
}

impl<T: Transport> Source for FootballData<T> {
    fn spends_quota(&self) -> bool {
        true
    }

    async fn poll(&mut self) -> Result<Poll, SourceError> {
        const LIST: &str = "/matches";
        let mut query = Vec::new();
        if !self.competitions.is_empty() {
            query.push(("competitions", self.competitions.join(",")));
        }
        let response = self.fetch(LIST, &query).await?;
        let now = response.now;
        let list: MatchList = response.json(LIST)?;
        let mut matches = Vec::new();
        for summary in list.matches {
            let kickoff = summary.utc_date.as_deref().and_then(parse_rfc3339);
            let live = is_live(&summary.status);
            let recent = summary.status == "FINISHED"
                && kickoff.is_some_and(|k| now >= k && now - k <= RECENT_AFTER_KICKOFF);
            // A match last seen unfinished is read in detail until it is seen finished, even
            // when the provider's clock puts its kick-off beyond the recent window.
            let followed = self
                .details
                .get(&summary.id)
                .is_some_and(|(_, state)| !is_over(state.phase));
            if !(live || recent || followed) {
                matches.push(match_state(&summary, kickoff));
                continue;
            }
            let updated = summary.last_updated.clone().unwrap_or_default();
            if let Some((at, state)) = self.details.get(&summary.id)
                && *at == updated
            {
                matches.push(state.clone());
                continue;
            }
            matches.push(self.detail(summary.id, updated, kickoff).await?);
        }
        // A match followed live that left the list (`/matches` is today's, and the day
        // turned) is read on its own until it is seen finished.
        let mut gone: Vec<i64> = self
            .details
            .iter()
            .filter(|(id, (_, state))| {
                !is_over(state.phase) && !matches.iter().any(|m| m.id == id.to_string())
            })
            .map(|(id, _)| *id)
            .collect();
        gone.sort_unstable();
        for id in gone {
            matches.push(self.detail(id, String::new(), None).await?);
        }
        self.details
            .retain(|id, _| matches.iter().any(|m| m.id == id.to_string()));
        Ok(Poll::on_cadence(matches))
    }
}

impl<T: Transport> FootballData<T> {
    /// Reads `/matches/{id}` and remembers it as seen at `updated` (the list's `lastUpdated`;
    /// empty takes the match's own). `kickoff` is the list's, when known.
    async fn detail(
        &mut self,
        id: i64,
        updated: String,
        kickoff: Option<i64>,
    ) -> Result<MatchState, SourceError> {
        let path = format!("/matches/{id}");
        let detail: ApiMatch = self.fetch(&path, &[]).await?.json(&path)?;
        let kickoff = kickoff.or_else(|| detail.utc_date.as_deref().and_then(parse_rfc3339));
        let updated = if updated.is_empty() {
            detail.last_updated.clone().unwrap_or_default()
        } else {
            updated
        };
        let state = match_state(&detail, kickoff);
        self.details.insert(id, (updated, state.clone()));
        Ok(state)
    }
}

/// Whether a match has nothing more to show.
fn is_over(phase: Phase) -> bool {
    matches!(
        phase,
        Phase::Finished | Phase::Postponed | Phase::Cancelled | Phase::Abandoned
    )
}

fn is_live(status: &str) -> bool {
    matches!(
        status,
        "IN_PLAY" | "PAUSED" | "EXTRA_TIME" | "PENALTY_SHOOTOUT" | "LIVE"
    )
}

#[derive(Debug, Deserialize)]
struct MatchList {
    #[serde(default)]
    matches: Vec<ApiMatch>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiMatch {
    id: i64,
    utc_date: Option<String>,
    status: String,
    minute: Option<serde_json::Value>,
    injury_time: Option<u16>,
    last_updated: Option<String>,
    competition: Option<Named>,
    home_team: MatchTeam,
    away_team: MatchTeam,
    venue: Option<String>,
    score: ApiScore,
    #[serde(default)]
    goals: Vec<ApiGoal>,
    #[serde(default)]
    bookings: Vec<ApiBooking>,
    #[serde(default)]
    penalties: Vec<ApiPenalty>,
}

#[derive(Debug, Deserialize)]
struct Named {
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ApiTeam {
    id: Option<i64>,
    name: Option<String>,
}

/// A team of a match: the list has its id and name, the match resource also its line-up
/// (plan permitting; empty lists when not published).
#[derive(Debug, Deserialize)]
struct MatchTeam {
    id: Option<i64>,
    name: Option<String>,
    formation: Option<String>,
    coach: Option<Named>,
    #[serde(default)]
    lineup: Vec<ApiPlayer>,
    #[serde(default)]
    bench: Vec<ApiPlayer>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiPlayer {
    name: Option<String>,
    position: Option<String>,
    shirt_number: Option<u16>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiScore {
    winner: Option<String>,
    duration: Option<String>,
    full_time: Option<Pair>,
    half_time: Option<Pair>,
    regular_time: Option<Pair>,
    extra_time: Option<Pair>,
    penalties: Option<Pair>,
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

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiGoal {
    minute: Option<u16>,
    injury_time: Option<u16>,
    #[serde(rename = "type")]
    kind: Option<String>,
    team: Option<ApiTeam>,
    scorer: Option<ApiTeam>,
    score: Option<Pair>,
}

#[derive(Debug, Deserialize)]
struct ApiBooking {
    minute: Option<u16>,
    team: Option<ApiTeam>,
    player: Option<ApiTeam>,
    card: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ApiPenalty {
    player: Option<ApiTeam>,
    team: Option<ApiTeam>,
    scored: Option<bool>,
}

fn minute(value: Option<&serde_json::Value>) -> Option<u16> {
    match value? {
        serde_json::Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        serde_json::Value::String(s) => Clock::parse(s).map(|c| c.minute),
        _ => None,
    }
}

fn match_state(m: &ApiMatch, kickoff: Option<i64>) -> MatchState {
    let home_id = m.home_team.id;
    let side_of = |team: Option<&ApiTeam>| -> Option<Side> {
        let id = team?.id?;
        Some(if Some(id) == home_id {
            Side::Home
        } else {
            Side::Away
        })
    };
    let pens = m.score.penalties.and_then(Pair::score);
    let running = m.score.full_time.and_then(Pair::score).unwrap_or_default();
    // After a shoot-out fullTime includes the shoot-out goals; the match score does not.
    let score = match (m.score.regular_time.and_then(Pair::score), pens) {
        (Some(regular), _) => {
            let extra = m.score.extra_time.and_then(Pair::score).unwrap_or_default();
            Score::new(
                regular.home.saturating_add(extra.home),
                regular.away.saturating_add(extra.away),
            )
        }
        (None, Some(p)) => Score::new(
            running.home.saturating_sub(p.home),
            running.away.saturating_sub(p.away),
        ),
        (None, None) => running,
    };
    let minute = minute(m.minute.as_ref());
    let extra_time = matches!(
        m.score.duration.as_deref(),
        Some("EXTRA_TIME" | "PENALTY_SHOOTOUT")
    );
    let phase = phase(m, minute, extra_time);
    let mut incidents = Vec::new();
    for (i, g) in m.goals.iter().enumerate() {
        let kind = match g.kind.as_deref() {
            Some("OWN") => IncidentKind::OwnGoal,
            Some("PENALTY") => IncidentKind::PenaltyGoal,
            _ => IncidentKind::Goal,
        };
        let scorer = g.scorer.as_ref();
        incidents.push(Incident {
            at: None,
            key: format!(
                "goal:{}:{}:{}",
                g.minute.unwrap_or(0),
                g.injury_time.unwrap_or(0),
                scorer
                    .and_then(|s| s.id)
                    .map_or_else(|| i.to_string(), |id| id.to_string())
            ),
            kind,
            side: side_of(g.team.as_ref()),
            player: scorer.and_then(|s| s.name.clone()),
            period: None,
            clock: g.minute.map(|mi| Clock {
                minute: mi,
                extra: g.injury_time,
            }),
            score_after: g.score.and_then(Pair::score),
            pens_after: None,
            detail: None,
            order: i64::try_from(i).unwrap_or(0),
        });
    }
    for (i, b) in m.bookings.iter().enumerate() {
        let kind = match b.card.as_deref() {
            Some("YELLOW_RED") => IncidentKind::SecondYellow,
            Some("RED") => IncidentKind::RedCard,
            _ => IncidentKind::YellowCard,
        };
        incidents.push(Incident {
            at: None,
            key: format!(
                "card:{}:{}:{}",
                b.minute.unwrap_or(0),
                b.player.as_ref().and_then(|p| p.id).unwrap_or(0),
                b.card.as_deref().unwrap_or("YELLOW")
            ),
            kind,
            side: side_of(b.team.as_ref()),
            player: b.player.as_ref().and_then(|p| p.name.clone()),
            period: None,
            clock: b.minute.map(Clock::at),
            score_after: None,
            pens_after: None,
            detail: None,
            order: 1000 + i64::try_from(i).unwrap_or(0),
        });
    }
    for (i, p) in m.penalties.iter().enumerate() {
        let scored = p.scored.unwrap_or(false);
        incidents.push(Incident {
            at: None,
            key: format!("shootout:{i}"),
            kind: if scored {
                IncidentKind::ShootoutScored
            } else {
                IncidentKind::ShootoutMissed
            },
            side: side_of(p.team.as_ref()),
            player: p.player.as_ref().and_then(|p| p.name.clone()),
            period: Some(Phase::Penalties),
            clock: None,
            score_after: None,
            pens_after: None,
            detail: (!scored).then(|| "missed".to_owned()),
            order: 2000 + i64::try_from(i).unwrap_or(0),
        });
    }
    MatchState {
        id: m.id.to_string(),
        competition: m.competition.as_ref().and_then(|c| c.name.clone()),
        home: team(&m.home_team),
        away: team(&m.away_team),
        kickoff,
        phase,
        clock: minute.map(|mi| Clock {
            minute: mi,
            extra: m.injury_time.filter(|x| *x > 0),
        }),
        score,
        pens,
        extra_time,
        winner: match m.score.winner.as_deref() {
            Some("HOME_TEAM") => Some(Side::Home),
            Some("AWAY_TEAM") => Some(Side::Away),
            _ => None,
        },
        incidents,
        venue: Venue::named(m.venue.as_deref(), None),
        lineups: Lineups {
            home: lineup(&m.home_team),
            away: lineup(&m.away_team),
        },
    }
}

fn team(t: &MatchTeam) -> Team {
    Team {
        id: t.id.map(|i| i.to_string()).unwrap_or_default(),
        name: t.name.clone().unwrap_or_default(),
    }
}

/// A team's line-up, when the match resource lists its players.
fn lineup(t: &MatchTeam) -> Option<Lineup> {
    let players = |list: &[ApiPlayer]| -> Vec<Player> {
        list.iter()
            .filter_map(|p| {
                let position = p.position.as_deref().and_then(Position::parse);
                Player::named(p.name.as_deref(), p.shirt_number, position)
            })
            .collect()
    };
    let coach = t.coach.as_ref().and_then(|c| c.name.as_deref());
    Lineup {
        starting: players(&t.lineup),
        bench: players(&t.bench),
        ..Lineup::new(t.formation.as_deref(), coach)
    }
    .published()
}

/// Status plus the clock and score nodes give the phase; the list form has no minute, so the
/// half-time score tells the halves apart.
fn phase(m: &ApiMatch, minute: Option<u16>, extra_time: bool) -> Phase {
    let half_time_known = m.score.half_time.and_then(Pair::score).is_some();
    match m.status.as_str() {
        "IN_PLAY" | "LIVE" => match minute {
            Some(mi) if mi > 90 || extra_time => Phase::for_minute(mi.max(91)),
            Some(mi) if mi > 45 => Phase::SecondHalf,
            Some(_) if !half_time_known => Phase::FirstHalf,
            _ if half_time_known => Phase::SecondHalf,
            _ => Phase::FirstHalf,
        },
        "EXTRA_TIME" => match minute {
            Some(mi) if mi > 105 => Phase::ExtraTimeSecondHalf,
            _ => Phase::ExtraTimeFirstHalf,
        },
        "PAUSED" => match minute {
            Some(mi) if mi >= 120 => Phase::BreakBeforePenalties,
            Some(mi) if mi >= 105 => Phase::ExtraTimeHalfTime,
            Some(mi) if mi >= 90 => Phase::BreakBeforeExtraTime,
            _ if m.score.regular_time.is_some() || extra_time => Phase::BreakBeforeExtraTime,
            _ => Phase::HalfTime,
        },
        "PENALTY_SHOOTOUT" => Phase::Penalties,
        "FINISHED" | "AWARDED" => Phase::Finished,
        "SUSPENDED" => Phase::Suspended,
        "POSTPONED" => Phase::Postponed,
        "CANCELLED" => Phase::Cancelled,
        _ => Phase::Pre,
    }
}

/// football-data.org, as the plug-in list names it: `type = "football_data"`.
#[derive(Debug)]
pub struct Plugin;

impl crate::plugins::SourcePlugin for Plugin {
    const KIND: &'static str = "football_data";
    type Config = Config;
    type Source = FootballData<super::http::HttpTransport>;

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
        Ok(FootballData::new(config.competitions.clone(), transport))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> MatchState {
        let m: ApiMatch = serde_json::from_value(json).unwrap();
        match_state(&m, None)
    }

    #[allow(clippy::needless_pass_by_value)] // json! literals read best inline
    fn base(status: &str, score: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "id": 1, "utcDate": "2022-12-18T15:00:00Z", "status": status,
            "homeTeam": {"id": 762, "name": "Argentina"},
            "awayTeam": {"id": 773, "name": "France"},
            "score": score,
        })
    }

    #[test]
    fn full_time_after_a_shootout_subtracts_the_shootout_goals() {
        // The 2022 final: 3-3 after extra time, 4-2 on penalties; fullTime counts the kicks.
        let m = parse(base(
            "FINISHED",
            serde_json::json!({
                "winner": "HOME_TEAM", "duration": "PENALTY_SHOOTOUT",
                "fullTime": {"home": 7, "away": 5}, "halfTime": {"home": 2, "away": 0},
                "regularTime": {"home": 2, "away": 2}, "extraTime": {"home": 1, "away": 1},
                "penalties": {"home": 4, "away": 2}
            }),
        ));
        assert_eq!(m.score, Score::new(3, 3));
        assert_eq!(m.pens, Some(Score::new(4, 2)));
        assert!(m.extra_time);
        assert_eq!(m.winner, Some(Side::Home));
        assert_eq!(m.phase, Phase::Finished);
    }

    /// Found by fuzzing: regular plus extra time overflowed on absurd scores.
    #[test]
    fn absurd_regular_and_extra_time_scores_do_not_overflow() {
        let m = parse(base(
            "FINISHED",
            serde_json::json!({
                "duration": "EXTRA_TIME", "fullTime": {"home": 1, "away": 1},
                "regularTime": {"home": 65535, "away": 1}, "extraTime": {"home": 1, "away": 1}
            }),
        ));
        assert_eq!(m.score, Score::new(u16::MAX, 2));
    }

    #[test]
    fn shootout_without_regular_time_node_still_gets_the_match_score() {
        let m = parse(base(
            "FINISHED",
            serde_json::json!({
                "duration": "PENALTY_SHOOTOUT",
                "fullTime": {"home": 3, "away": 5}, "halfTime": {"home": 0, "away": 0},
                "penalties": {"home": 2, "away": 4}
            }),
        ));
        assert_eq!(m.score, Score::new(1, 1));
    }

    #[test]
    fn list_form_tells_halves_apart_by_the_half_time_score() {
        let first = parse(base(
            "IN_PLAY",
            serde_json::json!({"fullTime": {"home": 0, "away": 0}, "halfTime": {"home": null, "away": null}}),
        ));
        assert_eq!(first.phase, Phase::FirstHalf);
        let second = parse(base(
            "IN_PLAY",
            serde_json::json!({"fullTime": {"home": 1, "away": 0}, "halfTime": {"home": 1, "away": 0}}),
        ));
        assert_eq!(second.phase, Phase::SecondHalf);
        let ht = parse(base(
            "PAUSED",
            serde_json::json!({"fullTime": {"home": 1, "away": 0}, "halfTime": {"home": 1, "away": 0}}),
        ));
        assert_eq!(ht.phase, Phase::HalfTime);
    }

    #[test]
    fn second_yellow_and_shootout_kicks_are_recognised() {
        let mut json = base(
            "PENALTY_SHOOTOUT",
            serde_json::json!({"fullTime": {"home": 1, "away": 1}, "penalties": {"home": 1, "away": 0}}),
        );
        json["bookings"] = serde_json::json!([
            {"minute": 30, "team": {"id": 773}, "player": {"id": 5, "name": "X"}, "card": "YELLOW"},
            {"minute": 70, "team": {"id": 773}, "player": {"id": 5, "name": "X"}, "card": "YELLOW_RED"}
        ]);
        json["penalties"] = serde_json::json!([
            {"player": {"id": 9, "name": "Messi"}, "team": {"id": 762}, "scored": true},
            {"player": {"id": 8, "name": "Coman"}, "team": {"id": 773}, "scored": false}
        ]);
        let m = parse(json);
        let kinds: Vec<_> = m.incidents.iter().map(|i| i.kind).collect();
        assert_eq!(
            kinds,
            vec![
                IncidentKind::YellowCard,
                IncidentKind::SecondYellow,
                IncidentKind::ShootoutScored,
                IncidentKind::ShootoutMissed
            ]
        );
        assert_eq!(m.incidents[1].side, Some(Side::Away));
        assert_eq!(m.phase, Phase::Penalties);
    }

    fn in_play(status: &str, updated: &str) -> serde_json::Value {
        let mut m = base(
            status,
            serde_json::json!({"duration": "REGULAR", "fullTime": {"home": 1, "away": 0},
                               "halfTime": {"home": 1, "away": 0}}),
        );
        m["minute"] = serde_json::json!(if status == "FINISHED" { 90 } else { 88 });
        m["lastUpdated"] = serde_json::json!(updated);
        m
    }

    #[tokio::test]
    async fn a_match_followed_live_is_read_in_detail_until_its_full_time() {
        let kickoff = parse_rfc3339("2022-12-18T15:00:00Z").unwrap();
        let transport = crate::sources::testing::Scripted::default();
        // The provider's clock runs hours ahead of the kick-off.
        transport.set_now(kickoff + RECENT_AFTER_KICKOFF + 3600);
        transport.answer(
            "/matches",
            serde_json::json!({"matches": [in_play("IN_PLAY", "a")]}),
        );
        transport.answer("/matches/1", in_play("IN_PLAY", "a"));
        let mut source = FootballData::new(Vec::new(), transport);
        let live = source.poll().await.unwrap().snapshot.matches;
        assert_eq!(live[0].phase, Phase::SecondHalf);

        let finished = in_play("FINISHED", "b");
        source.transport().answer(
            "/matches",
            serde_json::json!({"matches": [finished.clone()]}),
        );
        source.transport().answer("/matches/1", finished);
        source.transport().take_log();
        let polled = source.poll().await.unwrap().snapshot.matches;
        assert_eq!(
            source.transport().take_log(),
            vec!["/matches", "/matches/1"],
            "the final state is read in detail"
        );
        assert_eq!(polled[0].phase, Phase::Finished);
    }

    #[tokio::test]
    async fn a_match_followed_live_that_leaves_the_list_is_read_on_its_own() {
        let kickoff = parse_rfc3339("2022-12-18T15:00:00Z").unwrap();
        let transport = crate::sources::testing::Scripted::default();
        transport.set_now(kickoff + 5400);
        transport.answer(
            "/matches",
            serde_json::json!({"matches": [in_play("IN_PLAY", "a")]}),
        );
        transport.answer("/matches/1", in_play("IN_PLAY", "a"));
        let mut source = FootballData::new(Vec::new(), transport);
        source.poll().await.unwrap();

        // Midnight UTC: today's list no longer has it.
        source
            .transport()
            .answer("/matches", serde_json::json!({"matches": []}));
        source
            .transport()
            .answer("/matches/1", in_play("FINISHED", "b"));
        let polled = source.poll().await.unwrap().snapshot.matches;
        assert_eq!(polled.len(), 1);
        assert_eq!(polled[0].phase, Phase::Finished);
        source.transport().take_log();
        assert!(source.poll().await.unwrap().snapshot.matches.is_empty());
        assert_eq!(source.transport().take_log(), vec!["/matches"]);
    }

    #[test]
    fn the_match_resource_gives_venue_and_lineups_and_empty_lists_give_none() {
        // The v4 match resource's shape (docs.football-data.org, "Match" resource).
        let mut json = base(
            "IN_PLAY",
            serde_json::json!({"fullTime": {"home": 0, "away": 0}}),
        );
        json["venue"] = serde_json::json!("Lusail Iconic Stadium");
        json["homeTeam"] = serde_json::json!({
            "id": 762, "name": "Argentina", "shortName": "Argentina", "tla": "ARG",
            "coach": {"id": 11636, "name": "Lionel Scaloni", "nationality": "Argentina"},
            "leagueRank": null, "formation": "4-4-2",
            "lineup": [
                {"id": 8082, "name": "Emiliano Martínez", "position": "Goalkeeper", "shirtNumber": 23},
                {"id": 3144, "name": "Lionel Messi", "position": "Right Winger", "shirtNumber": 10}
            ],
            "bench": [{"id": 9001, "name": "Paulo Dybala", "position": "Offence", "shirtNumber": null}]
        });
        json["awayTeam"] = serde_json::json!({
            "id": 773, "name": "France", "coach": {"id": null, "name": null},
            "formation": null, "lineup": [], "bench": []
        });
        let m = parse(json);
        assert_eq!(
            m.venue,
            Some(Venue {
                name: "Lusail Iconic Stadium".into(),
                city: None
            })
        );
        let home = m.lineups.home.expect("home line-up");
        assert_eq!(home.formation.as_deref(), Some("4-4-2"));
        assert_eq!(home.coach.as_deref(), Some("Lionel Scaloni"));
        assert_eq!(
            home.starting,
            vec![
                Player {
                    name: "Emiliano Martínez".into(),
                    number: Some(23),
                    position: Some(Position::Goalkeeper),
                    captain: false,
                },
                Player {
                    name: "Lionel Messi".into(),
                    number: Some(10),
                    position: Some(Position::Forward),
                    captain: false,
                },
            ]
        );
        assert_eq!(home.bench[0].number, None);
        assert_eq!(m.lineups.away, None, "empty lists are not a line-up");
        // The list form has neither.
        let listed = parse(base("TIMED", serde_json::json!({})));
        assert_eq!((listed.venue, listed.lineups), (None, Lineups::default()));
    }

    #[test]
    fn quota_headers_pause_only_when_nothing_is_left() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-requests-available-minute", "3".parse().unwrap());
        headers.insert("x-requestcounter-reset", "17".parse().unwrap());
        let mut response = Response {
            status: 200,
            headers,
            body: bytes::Bytes::new(),
            now: 0,
        };
        assert_eq!(quota_pause(&response), None);
        response
            .headers
            .insert("x-requests-available-minute", "0".parse().unwrap());
        assert_eq!(quota_pause(&response), Some(Duration::from_secs(17)));
    }
}
