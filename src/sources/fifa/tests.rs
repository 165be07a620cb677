//! Tests of the FIFA API source against recorded responses.

use super::*;
use crate::model::Position;

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
    ); // Each kick carries FIFA's event time, where its delivery latency starts.
    let at = time::macros::datetime!(2022-12-18 18:02:00 UTC).unix_timestamp() * 1000;
    assert_eq!(state.incidents[0].at, Some(at));
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

/// A timeline event in the real format, at `minute` of `period`.
#[allow(clippy::too_many_arguments)] // reads like the JSON it builds
fn timed(
    id: u64,
    kind: i64,
    period: i64,
    minute: &str,
    team: &str,
    score: (u16, u16),
    pens: (u16, u16),
    text: &str,
) -> serde_json::Value {
    let mut e = event(id, kind, period, team, score, pens, text);
    e["MatchMinute"] = serde_json::json!(minute);
    e
}

fn final_2022(status: i64) -> CalendarMatch {
    serde_json::from_value(serde_json::json!({
        "IdCompetition": "17", "IdSeason": "255711", "IdStage": "285077", "IdMatch": "400128145",
        "CompetitionName": [{"Locale": "en-GB", "Description": "FIFA World Cup™"}],
        "Date": "2022-12-18T15:00:00Z",
        "Home": {"IdTeam": "43922", "TeamName": [{"Locale": "en-GB", "Description": "Argentina"}]},
        "Away": {"IdTeam": "43946", "TeamName": [{"Locale": "en-GB", "Description": "France"}]},
        "HomeTeamScore": 3, "AwayTeamScore": 3, "HomeTeamPenaltyScore": 4, "AwayTeamPenaltyScore": 2,
        "MatchStatus": status, "ResultType": 2, "Winner": "43922", "MatchTime": "128'"
    }))
    .unwrap()
}

/// The shoot-out of the 2022 final as the timeline has it: Period 11, the clock running on
/// past 120', plus a booking during the shoot-out.
fn shootout_2022() -> Vec<TimelineEvent> {
    serde_json::from_value(serde_json::json!([
        timed(
            1,
            7,
            11,
            "121'",
            "",
            (3, 3),
            (0, 0),
            "The penalty shoot-out starts."
        ),
        timed(
            2,
            41,
            11,
            "122'",
            "43946",
            (3, 3),
            (0, 1),
            "MBAPPE (France) successfully converts the penalty!"
        ),
        timed(
            3,
            41,
            11,
            "123'",
            "43922",
            (3, 3),
            (1, 1),
            "MESSI (Argentina) successfully converts the penalty!"
        ),
        timed(
            4,
            60,
            11,
            "124'",
            "43946",
            (3, 3),
            (1, 1),
            "COMAN (France) sees his penalty saved by the goalkeeper."
        ),
        timed(
            5,
            2,
            11,
            "126'",
            "43922",
            (3, 3),
            (1, 1),
            "E. MARTINEZ (Argentina) is booked by the referee."
        ),
        timed(
            6,
            41,
            11,
            "126'",
            "43922",
            (3, 3),
            (2, 1),
            "DYBALA (Argentina) successfully converts the penalty!"
        ),
    ]))
    .unwrap()
}

#[test]
fn shootout_kicks_and_cards_read_minute_120_with_the_kick_number() {
    let state = match_state(&final_2022(3), shootout_2022(), None);
    assert_eq!(state.phase, Phase::Penalties);
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
            (PenaltyGoal, pen, Some(120), None, Some(1)),
            (PenaltyGoal, pen, Some(120), None, Some(2)),
            (PenaltyMissed, pen, Some(120), None, Some(3)),
            (YellowCard, pen, Some(120), None, None),
            (PenaltyGoal, pen, Some(120), None, Some(4)),
        ]
    );
    let card = &events[3];
    let renderer = crate::render::Renderer::new(None, "en").unwrap();
    let text = renderer.render(card, "en").unwrap();
    assert_eq!(
        text.title,
        "🟨 Yellow card: E. MARTINEZ (Argentina) during the shoot-out"
    );
}

#[test]
fn a_foul_giving_away_a_penalty_awards_it_to_the_other_side() {
    let entry = final_2022(3);
    let foul = timed(
        10,
        72,
        3,
        "21'",
        "43946",
        (0, 0),
        (0, 0),
        "DEMBELE (France) commits a foul that leads to a penalty.",
    );
    let events: Vec<TimelineEvent> = serde_json::from_value(serde_json::json!([foul])).unwrap();
    let state = match_state(&entry, events, None);
    let awarded: Vec<_> = state
        .incidents
        .iter()
        .map(|i| (i.kind, i.side, i.player.clone(), i.clock))
        .collect();
    assert_eq!(
        awarded,
        vec![(
            IncidentKind::PenaltyAwarded,
            Some(Side::Home),
            None,
            Some(Clock::at(21))
        )],
        "IdTeam of a type 72 is the fouling team: the penalty is Argentina's"
    );

    // When the feed also has the type 6 of the same penalty, it is notified once.
    let both: Vec<TimelineEvent> = serde_json::from_value(serde_json::json!([
        foul,
        timed(
            11,
            6,
            3,
            "22'",
            "43922",
            (0, 0),
            (0, 0),
            "Penalty awarded to Argentina."
        ),
    ]))
    .unwrap();
    let state = match_state(&entry, both, None);
    let kinds: Vec<_> = state.incidents.iter().map(|i| (i.kind, i.side)).collect();
    assert_eq!(
        kinds,
        vec![(IncidentKind::PenaltyAwarded, Some(Side::Home))]
    );
}

const CALENDAR_REQUEST: &str =
    "/calendar/matches?idCompetition=17&idSeason=255711&count=500&language=en-GB";
const TIMELINE_REQUEST: &str = "/timelines/17/255711/285077/400128145?language=en-GB";
const LIVE_REQUEST: &str = "/live/football/17/255711/285077/400128145?language=en-GB";

/// The 2022 World Cup's source over scripted answers.
fn final_2022_source(
    transport: crate::sources::testing::Scripted,
) -> Fifa<crate::sources::testing::Scripted> {
    let config = Config {
        endpoint: String::new(),
        competition: "17".into(),
        season: "255711".into(),
        language: "en-GB".into(),
    };
    Fifa::new(config, transport)
}

fn calendar(status: i64) -> serde_json::Value {
    serde_json::json!({"Results": [{
        "IdCompetition": "17", "IdSeason": "255711", "IdStage": "285077", "IdMatch": "400128145",
        "Date": "2022-12-18T15:00:00Z",
        "Home": {"IdTeam": "43922", "TeamName": [{"Locale": "en-GB", "Description": "Argentina"}]},
        "Away": {"IdTeam": "43946", "TeamName": [{"Locale": "en-GB", "Description": "France"}]},
        "HomeTeamScore": 1, "AwayTeamScore": 0, "MatchStatus": status, "ResultType": 0,
        "MatchTime": if status == 0 { "0'" } else { "90'" }
    }]})
}

#[tokio::test]
async fn a_match_followed_live_is_read_until_its_full_time_whatever_the_providers_clock() {
    let kickoff = parse_rfc3339("2022-12-18T15:00:00Z").unwrap();
    let transport = crate::sources::testing::Scripted::default();
    // The provider's `Date` header runs hours ahead of the calendar's kick-off.
    transport.set_now(kickoff + RECENT_AFTER_KICKOFF + 3600);
    transport.answer(CALENDAR_REQUEST, calendar(3));
    transport.answer(
        TIMELINE_REQUEST,
        serde_json::json!({"Event": [
            timed(1, 7, 3, "0'", "", (0, 0), (0, 0), "The referee signals the start of the first period."),
        ]}),
    );
    let mut source = final_2022_source(transport);
    let live = source.poll().await.unwrap().snapshot.matches;
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].phase, Phase::FirstHalf);

    source.transport().answer(CALENDAR_REQUEST, calendar(0));
    source.transport().answer(
        TIMELINE_REQUEST,
        serde_json::json!({"Event": [
            timed(1, 7, 3, "0'", "", (0, 0), (0, 0), "The referee signals the start of the first period."),
            timed(2, 26, 10, "90'+4'", "", (1, 0), (0, 0), "The final whistle sounds."),
        ]}),
    );
    source.transport().take_log();
    let finished = source.poll().await.unwrap().snapshot.matches;
    assert_eq!(
        source.transport().take_log(),
        vec![CALENDAR_REQUEST, TIMELINE_REQUEST],
        "line-ups not out by full time are no longer looked for"
    );
    assert_eq!(finished.len(), 1, "its full time must be seen");
    assert_eq!(finished[0].phase, Phase::Finished);

    // Seen finished: back to the recent window, which this match is outside of.
    assert!(source.poll().await.unwrap().snapshot.matches.is_empty());
}

fn live_object(players: bool) -> serde_json::Value {
    let player = |number: u16, status: i64, position: i64, name: &str, captain: bool| {
        serde_json::json!({"IdPlayer": name, "ShirtNumber": number, "Status": status, "Captain": captain,
            "PlayerName": [{"Locale": "en-GB", "Description": name}], "ShortName": [],
            "Position": position, "FieldStatus": 1})
    };
    let home_players = if players {
        serde_json::json!([
            player(23, 1, 0, "Emiliano MARTINEZ", false),
            player(10, 1, 3, "Lionel MESSI", true),
            player(21, 2, 3, "Paulo DYBALA", false),
        ])
    } else {
        serde_json::json!([])
    };
    let away_players = if players {
        serde_json::json!([player(23, 1, 0, "Hugo LLORIS", true)])
    } else {
        serde_json::json!([])
    };
    serde_json::json!({
        "IdMatch": "400128145", "MatchStatus": 3, "Period": 3, "MatchTime": "2'",
        "HomeTeam": {"IdTeam": "43922", "Tactics": if players { "4-3-3" } else { "" },
                     "Coaches": [{"Name": [{"Locale": "en-GB", "Description": "Lionel SCALONI"}], "Role": 0}],
                     "Players": home_players, "Goals": [], "Bookings": [], "Substitutions": []},
        "AwayTeam": {"IdTeam": "43946", "Tactics": null, "Coaches": [], "Players": away_players,
                     "Goals": [], "Bookings": [], "Substitutions": []}
    })
}

#[tokio::test]
async fn line_ups_come_from_the_live_object_once_it_lists_players_and_venue_from_the_calendar() {
    let kickoff = parse_rfc3339("2022-12-18T15:00:00Z").unwrap();
    let transport = crate::sources::testing::Scripted::default();
    transport.set_now(kickoff + 120);
    let mut entry = calendar(3);
    entry["Results"][0]["Stadium"] = serde_json::json!({
        "IdStadium": "400107822",
        "Name": [{"Locale": "en-GB", "Description": "Lusail Stadium"}],
        "CityName": [{"Locale": "en-GB", "Description": "Lusail"}]
    });
    transport.answer(CALENDAR_REQUEST, entry);
    transport.answer(TIMELINE_REQUEST, serde_json::json!({"Event": []}));
    // Not out yet: the object lists no players.
    transport.answer(LIVE_REQUEST, live_object(false));
    let mut source = final_2022_source(transport);
    let polled = source.poll().await.unwrap().snapshot.matches;
    assert_eq!(
        polled[0].venue,
        Some(Venue {
            name: "Lusail Stadium".into(),
            city: Some("Lusail".into())
        })
    );
    assert!(polled[0].lineups.is_empty(), "never invented");
    assert_eq!(
        source.transport().take_log(),
        vec![CALENDAR_REQUEST, TIMELINE_REQUEST, LIVE_REQUEST]
    );

    source.transport().answer(LIVE_REQUEST, live_object(true));
    let polled = source.poll().await.unwrap().snapshot.matches;
    let home = polled[0].lineups.home.clone().expect("home line-up");
    assert_eq!(home.formation.as_deref(), Some("4-3-3"));
    assert_eq!(home.coach.as_deref(), Some("Lionel SCALONI"));
    let starting: Vec<_> = home
        .starting
        .iter()
        .map(|p| (p.number, p.name.as_str(), p.position, p.captain))
        .collect();
    assert_eq!(
        starting,
        vec![
            (
                Some(23),
                "Emiliano MARTINEZ",
                Some(Position::Goalkeeper),
                false
            ),
            (Some(10), "Lionel MESSI", Some(Position::Forward), true),
        ]
    );
    assert_eq!(home.bench[0].name, "Paulo DYBALA");
    let away = polled[0].lineups.away.clone().expect("away line-up");
    assert_eq!(
        (away.formation, away.coach, away.starting[0].captain),
        (None, None, true)
    );

    // Out: kept, and not asked for again.
    source.transport().take_log();
    let polled = source.poll().await.unwrap().snapshot.matches;
    assert_eq!(
        source.transport().take_log(),
        vec![CALENDAR_REQUEST, TIMELINE_REQUEST]
    );
    assert_eq!(polled[0].lineups.home, Some(home));
}
