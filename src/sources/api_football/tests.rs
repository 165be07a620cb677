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
