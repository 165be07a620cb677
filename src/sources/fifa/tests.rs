//! Tests of the FIFA API source against recorded responses.

use super::*;

const CALENDAR: &str =
    include_str!("../../../tests/data/reference-responses/fifa/_api_v3_calendar_matches.json");
const TIMELINE: &str = include_str!(
    "../../../tests/data/reference-responses/fifa/_api_v3_timelines_17_255711_285063_400128082.json"
);
const EXCERPT: &str = include_str!(
    "../../../tests/data/reference-responses/fifa/timeline_excerpt_NED-QAT_2022-11-29.json"
);

#[test]
fn parses_a_real_finished_match() {
    let calendar: Calendar = serde_json::from_str(CALENDAR).unwrap();
    let timeline: Timeline = serde_json::from_str(TIMELINE).unwrap();
    let entry = &calendar.results[0];
    let state = match_state(entry, timeline.event, None);
    assert_eq!(state.home.name, "Qatar");
    assert_eq!(state.away.name, "Ecuador");
    assert_eq!(state.phase, Phase::Finished);
    assert_eq!(state.score, Score::new(0, 2));
    assert_eq!(
        state.pens, None,
        "0-0 penalty fields without a shoot-out are not a shoot-out"
    );
    // "MatchTime": "0'" on a finished match must not become the clock.
    assert_eq!(state.clock, Some(Clock::added(90, 6)));
}

#[test]
fn timeline_events_out_of_id_order_are_sorted_by_time() {
    let timeline: Timeline = serde_json::from_str(EXCERPT).unwrap();
    let mut events = timeline.event;
    assert!(
        events
            .windows(2)
            .any(|w| event_order(&w[0]) > event_order(&w[1]))
    );
    events.sort_by_key(|e| e.timestamp.as_deref().and_then(parse_rfc3339_ms));
    let phase = phase(Some(3), &events);
    assert_eq!(phase, Phase::HalfTime);
}

fn event(
    id: u64,
    kind: i64,
    period: i64,
    team: &str,
    score: (u16, u16),
    pens: (u16, u16),
    text: &str,
) -> serde_json::Value {
    serde_json::json!({
        "EventId": id.to_string(), "IdTeam": team, "IdPlayer": format!("p{id}"),
        "Timestamp": format!("2022-12-18T18:{:02}:00.000Z", id % 60), "MatchMinute": "120'",
        "Period": period, "HomeGoals": score.0, "AwayGoals": score.1, "Type": kind,
        "HomePenaltyGoals": pens.0, "AwayPenaltyGoals": pens.1,
        "EventDescription": [{"Locale": "en-GB", "Description": text}]
    })
}

#[test]
fn a_shootout_is_read_kick_by_kick_with_the_running_penalty_score() {
    let entry: CalendarMatch = serde_json::from_value(serde_json::json!({
        "IdCompetition": "17", "IdSeason": "255711", "IdStage": "285077", "IdMatch": "400128145",
        "Home": {"IdTeam": "43922", "TeamName": [{"Locale": "en-GB", "Description": "Argentina"}]},
        "Away": {"IdTeam": "43946", "TeamName": [{"Locale": "en-GB", "Description": "France"}]},
        "HomeTeamScore": 3, "AwayTeamScore": 3, "HomeTeamPenaltyScore": 4, "AwayTeamPenaltyScore": 2,
        "MatchStatus": 0, "ResultType": 2, "Winner": "43922"
    }))
    .unwrap();
    let events: Vec<TimelineEvent> = serde_json::from_value(serde_json::json!([
        event(
            1,
            7,
            11,
            "",
            (3, 3),
            (0, 0),
            "The penalty shoot-out starts."
        ),
        event(
            2,
            41,
            11,
            "43946",
            (3, 3),
            (0, 1),
            "MBAPPE (France) successfully converts the penalty!"
        ),
        event(
            3,
            41,
            11,
            "43922",
            (3, 3),
            (1, 1),
            "MESSI (Argentina) successfully converts the penalty!"
        ),
        event(
            4,
            60,
            11,
            "43946",
            (3, 3),
            (1, 1),
            "COMAN (France) sees his penalty saved by the goalkeeper."
        ),
        event(
            5,
            65,
            11,
            "43946",
            (3, 3),
            (2, 2),
            "TCHOUAMENI (France) misses from the penalty spot!"
        ),
        event(6, 26, 10, "", (3, 3), (4, 2), "The final whistle sounds."),
    ]))
    .unwrap();
    let state = match_state(&entry, events, None);
    assert_eq!(state.phase, Phase::Finished);
    assert_eq!(state.pens, Some(Score::new(4, 2)));
    assert!(state.extra_time);
    assert_eq!(state.winner, Some(Side::Home));
    let kicks: Vec<_> = state
        .incidents
        .iter()
        .map(|i| {
            (
                i.kind,
                i.side,
                i.player.clone(),
                i.detail.clone(),
                i.pens_after,
            )
        })
        .collect();
    assert_eq!(
        kicks,
        vec![
            (
                IncidentKind::ShootoutScored,
                Some(Side::Away),
                Some("MBAPPE".into()),
                None,
                Some(Score::new(0, 1))
            ),
            (
                IncidentKind::ShootoutScored,
                Some(Side::Home),
                Some("MESSI".into()),
                None,
                Some(Score::new(1, 1))
            ),
            (
                IncidentKind::ShootoutMissed,
                Some(Side::Away),
                Some("COMAN".into()),
                Some("saved".into()),
                Some(Score::new(1, 1))
            ),
            (
                IncidentKind::ShootoutMissed,
                Some(Side::Away),
                Some("TCHOUAMENI".into()),
                Some("missed".into()),
                Some(Score::new(2, 2))
            ),
        ]
    );
}

#[test]
fn player_names_come_from_the_description() {
    let e = TimelineEvent {
        event_id: "1".into(),
        id_team: None,
        id_player: None,
        timestamp: None,
        match_minute: None,
        period: None,
        home_goals: None,
        away_goals: None,
        kind: 0,
        home_penalty_goals: None,
        away_penalty_goals: None,
        event_description: vec![Localized {
            description: "Zinedine ZIDANE (France) is sent off".into(),
        }],
    };
    assert_eq!(player_name(&e).as_deref(), Some("Zinedine ZIDANE"));
}
