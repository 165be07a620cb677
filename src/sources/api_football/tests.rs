//! Tests of the API-Football source against recorded responses.

use super::*;

const LIVE: &str = include_str!(
    "../../../tests/data/reference-responses/api-football/fixtures_live_all_2024-02-21_excerpt.json"
);
const EVENTS: &str = include_str!(
    "../../../tests/data/reference-responses/api-football/fixtures_events_215662_docs_sample.json"
);

#[test]
fn parses_the_real_live_list() {
    let body: Envelope = serde_json::from_str(LIVE).unwrap();
    assert!(body.errors.message().is_none());
    let states: Vec<MatchState> = body.response.iter().map(match_state).collect();
    assert_eq!(states.len(), 3);
    assert_eq!(states[0].phase, Phase::FirstHalf);
    assert_eq!(states[0].score, Score::new(2, 0));
    assert_eq!(
        states[0].winner, None,
        "a live `winner` flag is not a result"
    );
    assert!(states.iter().any(|s| s.phase == Phase::HalfTime));
    assert!(states.iter().any(|s| s.phase == Phase::SecondHalf));
    let goals = states[0]
        .incidents
        .iter()
        .filter(|i| i.kind == IncidentKind::Goal)
        .count();
    assert_eq!(goals, 2);
}

#[test]
fn a_second_booking_is_one_second_yellow_not_also_a_red() {
    let events: serde_json::Value = serde_json::from_str(EVENTS).unwrap();
    let fixture: Fixture = serde_json::from_value(serde_json::json!({
        "fixture": {"id": 215662, "status": {"short": "FT", "elapsed": 90}},
        "teams": {"home": {"id": 463, "name": "Aldosivi"}, "away": {"id": 442, "name": "Defensa Y Justicia"}},
        "goals": {"home": 0, "away": 1},
        "events": events["response"],
    }))
    .unwrap();
    let state = match_state(&fixture);
    let burbano: Vec<_> = state
        .incidents
        .iter()
        .filter(|i| i.player.as_deref().is_some_and(|p| p.contains("Burbano")))
        .map(|i| i.kind)
        .collect();
    assert_eq!(
        burbano,
        vec![IncidentKind::YellowCard, IncidentKind::SecondYellow]
    );
    assert!(
        !state
            .incidents
            .iter()
            .any(|i| i.kind == IncidentKind::RedCard
                && i.player.as_deref().is_some_and(|p| p.contains("Burbano")))
    );
}

#[test]
fn api_errors_in_a_200_are_errors() {
    let body: Envelope = serde_json::from_str(
        r#"{"errors": {"token": "Error/Missing application key."}, "response": []}"#,
    )
    .unwrap();
    assert_eq!(
        body.errors.message().as_deref(),
        Some("token: Error/Missing application key.")
    );
    let ok: Envelope = serde_json::from_str(r#"{"errors": [], "response": []}"#).unwrap();
    assert_eq!(ok.errors.message(), None);
}

#[test]
fn shootout_kicks_and_own_goals_are_recognised() {
    let fixture: Fixture = serde_json::from_value(serde_json::json!({
        "fixture": {"id": 1, "status": {"short": "P", "elapsed": 120}},
        "teams": {"home": {"id": 26, "name": "Argentina"}, "away": {"id": 2, "name": "France"}},
        "goals": {"home": 1, "away": 1},
        "score": {"penalty": {"home": 1, "away": 0}},
        "events": [
            {"time": {"elapsed": 10, "extra": null}, "team": {"id": 2}, "player": {"id": 7, "name": "Varane"}, "type": "Goal", "detail": "Own Goal", "comments": null},
            {"time": {"elapsed": 80, "extra": null}, "team": {"id": 2}, "player": {"id": 8, "name": "Mbappé"}, "type": "Goal", "detail": "Normal Goal", "comments": null},
            {"time": {"elapsed": 120, "extra": 1}, "team": {"id": 26}, "player": {"id": 154, "name": "Messi"}, "type": "Goal", "detail": "Penalty", "comments": "Penalty Shootout"},
            {"time": {"elapsed": 120, "extra": 2}, "team": {"id": 2}, "player": {"id": 9, "name": "Coman"}, "type": "Goal", "detail": "Missed Penalty", "comments": "Penalty Shootout"}
        ]
    }))
    .unwrap();
    let state = match_state(&fixture);
    let kinds: Vec<_> = state.incidents.iter().map(|i| i.kind).collect();
    assert_eq!(
        kinds,
        vec![
            IncidentKind::OwnGoal,
            IncidentKind::Goal,
            IncidentKind::ShootoutScored,
            IncidentKind::ShootoutMissed
        ]
    );
    assert_eq!(
        state.incidents[0].side,
        Some(Side::Away),
        "own goal team is the credited team"
    );
    assert_eq!(state.phase, Phase::Penalties);
    assert_eq!(state.pens, Some(Score::new(1, 0)));
    assert!(state.extra_time);
}

#[test]
fn daily_quota_is_spread_until_midnight_utc() {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-ratelimit-requests-remaining", "10".parse().unwrap());
    // 20:00 UTC: four hours left, ten requests, two per poll → one poll every 48 minutes.
    let response = Response {
        status: 200,
        headers,
        body: bytes::Bytes::new(),
        now: 1_404_849_600,
    };
    assert_eq!(
        daily_quota_spacing(&response, 2),
        Some(Duration::from_secs(4 * 3600 / 5))
    );
    let mut spent = response;
    spent
        .headers
        .insert("x-ratelimit-requests-remaining", "0".parse().unwrap());
    assert_eq!(
        daily_quota_spacing(&spent, 1),
        Some(Duration::from_secs(4 * 3600))
    );
}

/// A shoot-out as API-Football lists it: `elapsed` 120, `extra` counting the kicks, comments
/// "Penalty Shootout"; and a keeper booked in the middle of it.
fn shootout_fixture() -> Fixture {
    serde_json::from_value(serde_json::json!({
        "fixture": {"id": 1, "timestamp": 1671375600, "status": {"short": "P", "elapsed": 120, "extra": null}},
        "league": {"id": 1, "name": "World Cup", "season": 2022},
        "teams": {"home": {"id": 26, "name": "Argentina"}, "away": {"id": 2, "name": "France"}},
        "goals": {"home": 3, "away": 3},
        "score": {"extratime": {"home": 1, "away": 1}, "penalty": {"home": 2, "away": 1}},
        "events": [
            {"time": {"elapsed": 118, "extra": null}, "team": {"id": 2}, "player": {"id": 21, "name": "T. Hernández"}, "type": "Card", "detail": "Yellow Card", "comments": "Foul"},
            {"time": {"elapsed": 120, "extra": 1}, "team": {"id": 2}, "player": {"id": 278, "name": "K. Mbappé"}, "type": "Goal", "detail": "Penalty", "comments": "Penalty Shootout"},
            {"time": {"elapsed": 120, "extra": 2}, "team": {"id": 26}, "player": {"id": 154, "name": "L. Messi"}, "type": "Goal", "detail": "Penalty", "comments": "Penalty Shootout"},
            {"time": {"elapsed": 120, "extra": 3}, "team": {"id": 2}, "player": {"id": 9, "name": "K. Coman"}, "type": "Goal", "detail": "Missed Penalty", "comments": "Penalty Shootout"},
            {"time": {"elapsed": 120, "extra": 3}, "team": {"id": 26}, "player": {"id": 19, "name": "E. Martínez"}, "type": "Card", "detail": "Yellow Card", "comments": null},
            {"time": {"elapsed": 120, "extra": 4}, "team": {"id": 26}, "player": {"id": 31, "name": "P. Dybala"}, "type": "Goal", "detail": "Penalty", "comments": "Penalty Shootout"}
        ]
    }))
    .unwrap()
}

#[test]
fn shootout_kicks_and_cards_read_minute_120_with_the_kick_number() {
    let state = match_state(&shootout_fixture());
    let mut before = state.clone();
    before.incidents.clear();
    let (tracked, _) = crate::detect::detect(None, before);
    let (_, events) = crate::detect::detect(Some(&tracked), state);
    let got: Vec<_> = events
        .iter()
        .map(|e| (e.kind, e.phase, e.minute, e.extra, e.kick))
        .collect();
    use crate::model::EventKind::{PenaltyGoal, PenaltyMissed, YellowCard};
    let pen = Some(Phase::Penalties);
    assert_eq!(
        got,
        vec![
            (
                YellowCard,
                Some(Phase::ExtraTimeSecondHalf),
                Some(118),
                None,
                None
            ),
            (PenaltyGoal, pen, Some(120), None, Some(1)),
            (PenaltyGoal, pen, Some(120), None, Some(2)),
            (PenaltyMissed, pen, Some(120), None, Some(3)),
            (YellowCard, pen, Some(120), None, None),
            (PenaltyGoal, pen, Some(120), None, Some(4)),
        ]
    );
    let renderer = crate::render::Renderer::new(None, "en").unwrap();
    let card = renderer.render(&events[4], "pt-BR").unwrap();
    assert_eq!(
        card.title,
        "🟨 Cartão amarelo: E. Martínez (Argentina) durante a disputa de pênaltis"
    );
}

const LIVE_REQUEST: &str = "/fixtures?live=all";
const SCHEDULE_REQUEST: &str = "/fixtures?date=2014-07-08&league=1&season=2014";

/// 2014-07-08 18:00 UTC, two hours before Brazil v Germany.
const NOW: i64 = 1_404_842_400;

fn fixture(id: i64, league: i64, short: &str, kickoff: i64) -> serde_json::Value {
    serde_json::json!({
        "fixture": {"id": id, "referee": null, "timezone": "UTC", "date": "2014-07-08T20:00:00+00:00",
                    "timestamp": kickoff, "periods": {"first": null, "second": null},
                    "venue": {"id": 1, "name": "Mineirão", "city": "Belo Horizonte"},
                    "status": {"long": "Not Started", "short": short, "elapsed": null}},
        "league": {"id": league, "name": "World Cup", "country": "World", "season": 2014, "round": "Semi-finals"},
        "teams": {"home": {"id": 6, "name": "Brazil", "winner": null}, "away": {"id": 25, "name": "Germany", "winner": null}},
        "goals": {"home": null, "away": null},
        "score": {"halftime": {"home": null, "away": null}, "fulltime": {"home": null, "away": null},
                  "extratime": {"home": null, "away": null}, "penalty": {"home": null, "away": null}}
    })
}

/// Fixture `id` of league 1 in the first half, `elapsed` minutes in, goalless.
fn first_half(id: i64, kickoff: i64, elapsed: u16) -> serde_json::Value {
    let mut live = fixture(id, 1, "1H", kickoff);
    live["fixture"]["status"]["elapsed"] = serde_json::json!(elapsed);
    live["goals"] = serde_json::json!({"home": 0, "away": 0});
    live
}

fn envelope(fixtures: &[serde_json::Value]) -> serde_json::Value {
    serde_json::json!({"get": "fixtures", "parameters": {}, "errors": [], "results": fixtures.len(),
                       "paging": {"current": 1, "total": 1}, "response": fixtures})
}

#[tokio::test]
async fn the_days_schedule_makes_the_cadence_poll_fast_before_kick_off() {
    let kickoff = NOW + 2 * 3600;
    let transport = crate::sources::testing::Scripted::default();
    transport.set_now(NOW);
    transport.answer(LIVE_REQUEST, envelope(&[]));
    transport.answer(
        SCHEDULE_REQUEST,
        envelope(&[
            fixture(1001, 1, "NS", kickoff),
            fixture(1002, 1, "FT", NOW - 6 * 3600),
        ]),
    );
    let mut source = ApiFootball::new(vec![1], vec![], transport).with_schedule(Some(2014));
    let cadence = crate::sources::Cadence::default();

    let poll = source.poll().await.unwrap();
    assert_eq!(
        source.transport().take_log(),
        vec![LIVE_REQUEST, SCHEDULE_REQUEST]
    );
    let scheduled: Vec<_> = poll
        .snapshot
        .matches
        .iter()
        .map(|m| (m.id.as_str(), m.phase, m.kickoff))
        .collect();
    assert_eq!(scheduled, vec![("1001", Phase::Pre, Some(kickoff))]);
    assert_eq!(
        cadence.delay(&poll.snapshot, Some(NOW)),
        cadence.interval_idle,
        "two hours ahead is not yet pre-match"
    );

    // Five minutes before kick-off: the live pace, and no second schedule request that day
    // (the line-ups are asked for, within the hour before kick-off).
    let soon = kickoff - 300;
    source.transport().set_now(soon);
    let poll = source.poll().await.unwrap();
    assert_eq!(
        source.transport().take_log(),
        vec![LIVE_REQUEST, "/fixtures?id=1001"]
    );
    assert_eq!(
        cadence.delay(&poll.snapshot, Some(soon)),
        cadence.interval_live
    );

    // Once live, the live list has it; the schedule's entry does not double it.
    let live = first_half(1001, kickoff, 1);
    source.transport().answer(LIVE_REQUEST, envelope(&[live]));
    source.transport().set_now(kickoff + 60);
    let poll = source.poll().await.unwrap();
    let phases: Vec<_> = poll.snapshot.matches.iter().map(|m| m.phase).collect();
    assert_eq!(phases, vec![Phase::FirstHalf]);
}

#[tokio::test]
async fn without_a_season_one_request_reads_every_league_and_keeps_the_configured_ones() {
    let transport = crate::sources::testing::Scripted::default();
    // 23:30 UTC: tomorrow's schedule is read ahead of midnight along with today's.
    let late = NOW + 5 * 3600 + 1800;
    transport.set_now(late);
    transport.answer(LIVE_REQUEST, envelope(&[]));
    transport.answer("/fixtures?date=2014-07-08", envelope(&[]));
    transport.answer(
        "/fixtures?date=2014-07-09",
        envelope(&[
            fixture(2001, 1, "NS", late + 1200),
            fixture(2002, 39, "NS", late + 1200),
        ]),
    );
    let mut source = ApiFootball::new(vec![1], vec![], transport).with_schedule(None);
    let poll = source.poll().await.unwrap();
    assert_eq!(
        source.transport().take_log(),
        vec![
            LIVE_REQUEST,
            "/fixtures?date=2014-07-08",
            "/fixtures?date=2014-07-09",
            "/fixtures?id=2001"
        ]
    );
    let ids: Vec<_> = poll
        .snapshot
        .matches
        .iter()
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(ids, vec!["2001"]);
}

#[tokio::test]
async fn a_failed_schedule_request_does_not_fail_the_poll_and_waits_before_trying_again() {
    let transport = crate::sources::testing::Scripted::default();
    transport.set_now(NOW);
    transport.answer(LIVE_REQUEST, envelope(&[]));
    let mut source = ApiFootball::new(vec![1], vec![], transport).with_schedule(Some(2014));
    assert!(source.poll().await.unwrap().snapshot.matches.is_empty());
    assert_eq!(
        source.transport().take_log(),
        vec![LIVE_REQUEST, SCHEDULE_REQUEST]
    );
    source.poll().await.unwrap();
    assert_eq!(source.transport().take_log(), vec![LIVE_REQUEST]);
    source.transport().set_now(NOW + SCHEDULE_RETRY);
    source.poll().await.unwrap();
    assert_eq!(
        source.transport().take_log(),
        vec![LIVE_REQUEST, SCHEDULE_REQUEST]
    );
}

fn lineup(team: i64, names: &[(&str, u16, &str)]) -> serde_json::Value {
    let slots: Vec<_> = names
        .iter()
        .map(|(name, number, pos)| {
            serde_json::json!({"player": {"id": 1, "name": name, "number": number, "pos": pos, "grid": null}})
        })
        .collect();
    serde_json::json!({"team": {"id": team, "name": "x", "logo": "", "colors": null},
                       "formation": "4-2-3-1", "startXI": slots, "substitutes": [],
                       "coach": {"id": 1, "name": "Coach", "photo": ""}})
}

#[tokio::test]
async fn line_ups_are_asked_for_from_an_hour_before_kick_off_until_published_then_kept() {
    const LINEUPS: &str = "/fixtures?id=1001";
    let kickoff = NOW + 3600;
    let transport = crate::sources::testing::Scripted::default();
    transport.set_now(NOW - 600);
    transport.answer(LIVE_REQUEST, envelope(&[]));
    transport.answer(
        SCHEDULE_REQUEST,
        envelope(&[fixture(1001, 1, "NS", kickoff)]),
    );
    let mut source = ApiFootball::new(vec![1], vec![], transport).with_schedule(Some(2014));

    // Seventy minutes ahead: too early to ask.
    let poll = source.poll().await.unwrap();
    assert_eq!(
        source.transport().take_log(),
        vec![LIVE_REQUEST, SCHEDULE_REQUEST]
    );
    assert_eq!(
        poll.snapshot.matches[0].venue,
        Some(Venue {
            name: "Mineirão".into(),
            city: Some("Belo Horizonte".into())
        })
    );
    assert!(poll.snapshot.matches[0].lineups.is_empty());

    // An hour ahead: the fixture is read by id; no line-ups yet, so nothing is invented.
    source.transport().set_now(NOW);
    let mut by_id = fixture(1001, 1, "NS", kickoff);
    by_id["lineups"] = serde_json::json!([]);
    source
        .transport()
        .answer(LINEUPS, envelope(&[by_id.clone()]));
    let poll = source.poll().await.unwrap();
    assert_eq!(source.transport().take_log(), vec![LIVE_REQUEST, LINEUPS]);
    assert!(poll.snapshot.matches[0].lineups.is_empty());

    // Not asked again before the retry interval.
    source.transport().set_now(NOW + 60);
    source.poll().await.unwrap();
    assert_eq!(source.transport().take_log(), vec![LIVE_REQUEST]);

    // Published: read once, then kept without asking again, also once the match is live.
    by_id["lineups"] = serde_json::json!([
        lineup(6, &[("Júlio César", 12, "G"), ("Neymar", 10, "F")]),
        lineup(25, &[("Manuel Neuer", 1, "G")]),
    ]);
    source.transport().answer(LINEUPS, envelope(&[by_id]));
    source.transport().set_now(NOW + lineups::RETRY);
    let poll = source.poll().await.unwrap();
    assert_eq!(source.transport().take_log(), vec![LIVE_REQUEST, LINEUPS]);
    let got = &poll.snapshot.matches[0].lineups;
    let home = got.home.as_ref().unwrap();
    assert_eq!(home.starting[1].name, "Neymar");
    assert_eq!(home.starting[1].number, Some(10));
    assert_eq!(got.away.as_ref().unwrap().starting.len(), 1);

    let live = first_half(1001, kickoff, 3);
    source.transport().answer(LIVE_REQUEST, envelope(&[live]));
    source.transport().set_now(kickoff + 180);
    let poll = source.poll().await.unwrap();
    assert_eq!(source.transport().take_log(), vec![LIVE_REQUEST]);
    assert_eq!(poll.snapshot.matches[0].lineups, *got);
}

#[tokio::test]
async fn a_failed_line_up_request_does_not_fail_the_poll_and_asking_stops_after_a_few_tries() {
    let transport = crate::sources::testing::Scripted::default();
    let live = first_half(1001, NOW, 3);
    transport.answer(LIVE_REQUEST, envelope(&[live]));
    let mut source = ApiFootball::new(vec![1], vec![], transport);
    let mut asked = 0;
    for i in 0..10 {
        source.transport().set_now(NOW + i * lineups::RETRY);
        // Not answered: a 404.
        let poll = source.poll().await.unwrap();
        assert_eq!(poll.snapshot.matches.len(), 1);
        asked += source
            .transport()
            .take_log()
            .iter()
            .filter(|r| r.starts_with("/fixtures?id="))
            .count();
    }
    assert_eq!(asked, lineups::TRIES as usize);
}

#[tokio::test]
async fn a_fixture_read_by_id_anyway_is_not_read_again_for_its_line_ups() {
    let transport = crate::sources::testing::Scripted::default();
    transport.set_now(NOW);
    transport.answer(LIVE_REQUEST, envelope(&[]));
    let mut by_id = fixture(1001, 1, "NS", NOW + 600);
    by_id["lineups"] = serde_json::json!([lineup(6, &[("Júlio César", 12, "G")])]);
    transport.answer("/fixtures?id=1001", envelope(&[by_id]));
    let mut source = ApiFootball::new(vec![1], vec![1001], transport);
    let poll = source.poll().await.unwrap();
    assert_eq!(
        source.transport().take_log(),
        vec![LIVE_REQUEST, "/fixtures?id=1001"]
    );
    let lineups = &poll.snapshot.matches[0].lineups;
    assert_eq!(lineups.home.as_ref().unwrap().starting[0].number, Some(12));
    assert_eq!(lineups.away, None, "not published for Germany");
}

/// Found by fuzzing: a kick-off timestamp at an end of `i64` overflowed the line-up window
/// (`kickoff - now`) and the schedule's late window (`now - kickoff`).
#[tokio::test]
async fn kick_off_timestamps_at_the_ends_of_i64_do_not_overflow() {
    let transport = crate::sources::testing::Scripted::default();
    transport.set_now(NOW);
    transport.answer(LIVE_REQUEST, envelope(&[fixture(3001, 1, "NS", i64::MIN)]));
    transport.answer(
        SCHEDULE_REQUEST,
        envelope(&[
            fixture(3002, 1, "NS", i64::MIN),
            fixture(3003, 1, "NS", i64::MAX),
        ]),
    );
    let mut source = ApiFootball::new(vec![1], vec![], transport).with_schedule(Some(2014));
    let poll = source.poll().await.unwrap();
    let ids: Vec<_> = poll
        .snapshot
        .matches
        .iter()
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(
        ids,
        vec!["3001", "3003"],
        "a kick-off long past leaves the schedule"
    );
}
