//! Unit tests of detection, one behaviour each, on hand-built snapshots.

use super::*;
use crate::model::Team;

fn state(phase: Phase, clock: Option<Clock>, score: (u16, u16)) -> MatchState {
    MatchState {
        id: "t:1".into(),
        competition: Some("Cup".into()),
        home: Team {
            id: "h".into(),
            name: "France".into(),
        },
        away: Team {
            id: "a".into(),
            name: "Croatia".into(),
        },
        kickoff: None,
        phase,
        clock,
        score: Score::new(score.0, score.1),
        pens: None,
        extra_time: false,
        winner: None,
        incidents: Vec::new(),
        venue: None,
        lineups: Default::default(),
    }
}

fn incident(key: &str, kind: IncidentKind, side: Side, player: &str, minute: u16) -> Incident {
    Incident {
        at: None,
        key: key.into(),
        kind,
        side: Some(side),
        player: Some(player.into()),
        period: None,
        clock: Some(Clock::at(minute)),
        score_after: None,
        pens_after: None,
        detail: None,
        order: 0,
    }
}

fn goal(key: &str, side: Side, player: &str, minute: u16) -> Incident {
    incident(key, IncidentKind::Goal, side, player, minute)
}

fn kinds(events: &[Event]) -> Vec<EventKind> {
    events.iter().map(|e| e.kind).collect()
}

/// The kinds of the events that are not period changes.
fn incident_kinds(events: &[Event]) -> Vec<EventKind> {
    events
        .iter()
        .map(|e| e.kind)
        .filter(|k| k.group() != "periods")
        .collect()
}

/// Runs a sequence of snapshots through detection like the poller does.
fn play(snapshots: Vec<MatchState>) -> (Tracked, Vec<Event>) {
    let mut tracked: Option<Tracked> = None;
    let mut all = Vec::new();
    for snap in snapshots {
        let (next, events) = detect(tracked.as_ref(), snap);
        all.extend(events);
        tracked = Some(next);
    }
    (tracked.unwrap(), all)
}

#[test]
fn a_pre_match_snapshot_notifies_nothing() {
    let (_, events) = detect(None, state(Phase::Pre, None, (0, 0)));
    assert!(events.is_empty());
}

#[test]
fn kick_off_is_notified_once_at_minute_zero() {
    let (_, events) = play(vec![
        state(Phase::Pre, None, (0, 0)),
        state(Phase::FirstHalf, Some(Clock::at(1)), (0, 0)),
        state(Phase::FirstHalf, Some(Clock::at(2)), (0, 0)),
    ]);
    assert_eq!(kinds(&events), vec![EventKind::KickOff]);
    assert_eq!(events[0].id, "t:1:kick_off");
    assert_eq!(events[0].minute, Some(0));
    assert_eq!(events[0].score, Some(Score::new(0, 0)));
}

#[test]
fn a_goal_is_notified_with_scorer_team_and_score() {
    let mut live = state(Phase::FirstHalf, Some(Clock::at(18)), (1, 0));
    let mut g1 = goal("g1", Side::Home, "GRIEZMANN", 18);
    g1.at = Some(1_531_667_880_000);
    live.incidents.push(g1);
    let (_, events) = play(vec![
        state(Phase::FirstHalf, Some(Clock::at(10)), (0, 0)),
        live,
    ]);
    assert_eq!(kinds(&events), vec![EventKind::KickOff, EventKind::Goal]);
    let g = &events[1];
    // The provider's event time is kept: the delivery latency starts there.
    assert_eq!(g.occurred_at, Some(1_531_667_880_000));
    assert_eq!(g.id, "t:1:g1");
    assert_eq!(g.team.as_deref(), Some("France"));
    assert_eq!(g.player.as_deref(), Some("GRIEZMANN"));
    assert_eq!(g.score, Some(Score::new(1, 0)));
    assert_eq!(g.minute, Some(18));
    assert_eq!(g.phase, Some(Phase::FirstHalf));
}

#[test]
fn a_repeated_poll_notifies_nothing_new() {
    let mut live = state(Phase::FirstHalf, Some(Clock::at(18)), (1, 0));
    live.incidents.push(goal("g1", Side::Home, "X", 18));
    let (tracked, _) = play(vec![live.clone()]);
    let (_, again) = detect(Some(&tracked), live);
    assert!(again.is_empty(), "{again:?}");
}

#[test]
fn a_reordered_timeline_notifies_nothing_new() {
    let mut live = state(Phase::FirstHalf, Some(Clock::at(30)), (2, 0));
    live.incidents.push(goal("g1", Side::Home, "A", 10));
    live.incidents.push(goal("g2", Side::Home, "B", 20));
    let (tracked, _) = play(vec![live.clone()]);
    live.incidents.reverse();
    let (_, again) = detect(Some(&tracked), live);
    assert!(again.is_empty(), "{again:?}");
}

#[test]
fn two_goals_in_one_poll_are_both_notified_in_order_with_running_scores() {
    let before = state(Phase::FirstHalf, Some(Clock::at(20)), (0, 1));
    let mut after = state(Phase::FirstHalf, Some(Clock::at(24)), (0, 3));
    let mut first = goal("a1", Side::Away, "MULLER", 11);
    first.order = 1;
    after.incidents.push(first.clone());
    let mut b = before;
    b.incidents.push(first);
    after.incidents.push(goal("a3", Side::Away, "KROOS", 24));
    after.incidents.push(goal("a2", Side::Away, "KLOSE", 23));
    let (_, events) = play(vec![b, after]);
    let goals: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::Goal)
        .collect();
    assert_eq!(goals.len(), 3);
    assert_eq!(goals[1].player.as_deref(), Some("KLOSE"));
    assert_eq!(goals[1].score, Some(Score::new(0, 2)));
    assert_eq!(goals[2].player.as_deref(), Some("KROOS"));
    assert_eq!(goals[2].score, Some(Score::new(0, 3)));
}

#[test]
fn an_own_goal_names_the_credited_team_and_the_players_team() {
    let mut live = state(Phase::FirstHalf, Some(Clock::at(18)), (1, 0));
    live.incidents.push(incident(
        "og",
        IncidentKind::OwnGoal,
        Side::Home,
        "MANDZUKIC",
        18,
    ));
    let (_, events) = play(vec![
        state(Phase::FirstHalf, Some(Clock::at(1)), (0, 0)),
        live,
    ]);
    let og = events
        .iter()
        .find(|e| e.kind == EventKind::OwnGoal)
        .unwrap();
    assert_eq!(og.team.as_deref(), Some("France"));
    assert_eq!(og.player_team.as_deref(), Some("Croatia"));
    assert_eq!(og.score, Some(Score::new(1, 0)));
    assert!(!events.iter().any(|e| e.kind == EventKind::Goal));
}

#[test]
fn cards_carry_the_score_at_their_minute() {
    let mut live = state(Phase::FirstHalf, Some(Clock::at(30)), (1, 1));
    live.incidents.push(goal("g1", Side::Home, "A", 18));
    live.incidents.push(incident(
        "y1",
        IncidentKind::YellowCard,
        Side::Home,
        "KANTE",
        27,
    ));
    live.incidents.push(goal("g2", Side::Away, "B", 28));
    let (_, events) = play(vec![
        state(Phase::FirstHalf, Some(Clock::at(1)), (0, 0)),
        live,
    ]);
    let card = events
        .iter()
        .find(|e| e.kind == EventKind::YellowCard)
        .unwrap();
    assert_eq!(card.score, Some(Score::new(1, 0)));
    assert_eq!(
        kinds(&events),
        vec![
            EventKind::KickOff,
            EventKind::Goal,
            EventKind::YellowCard,
            EventKind::Goal
        ]
    );
}

#[test]
fn every_card_and_penalty_kind_maps_to_its_event() {
    let mut live = state(Phase::SecondHalf, Some(Clock::at(80)), (0, 0));
    let cases = [
        (IncidentKind::YellowCard, EventKind::YellowCard),
        (IncidentKind::SecondYellow, EventKind::SecondYellow),
        (IncidentKind::RedCard, EventKind::RedCard),
        (IncidentKind::PenaltyAwarded, EventKind::PenaltyAwarded),
        (IncidentKind::PenaltyMissed, EventKind::PenaltyMissed),
    ];
    for (i, (kind, _)) in cases.iter().enumerate() {
        let mut inc = incident(
            &format!("k{i}"),
            *kind,
            Side::Away,
            "P",
            50 + u16::try_from(i).unwrap(),
        );
        inc.detail = (*kind == IncidentKind::PenaltyMissed).then(|| "saved".to_owned());
        live.incidents.push(inc);
    }
    let (_, events) = play(vec![
        state(Phase::SecondHalf, Some(Clock::at(49)), (0, 0)),
        live,
    ]);
    let got = incident_kinds(&events);
    let want: Vec<_> = cases.iter().map(|(_, k)| *k).collect();
    assert_eq!(got, want);
    let missed = events
        .iter()
        .find(|e| e.kind == EventKind::PenaltyMissed)
        .unwrap();
    assert_eq!(missed.detail.as_deref(), Some("saved"));
}

#[test]
fn penalty_and_free_kick_goals_keep_their_kind() {
    let mut live = state(Phase::FirstHalf, Some(Clock::at(40)), (2, 0));
    live.incidents.push(incident(
        "p",
        IncidentKind::PenaltyGoal,
        Side::Home,
        "GRIEZMANN",
        38,
    ));
    live.incidents.push(incident(
        "f",
        IncidentKind::FreeKickGoal,
        Side::Home,
        "PJANIC",
        39,
    ));
    let (_, events) = play(vec![
        state(Phase::FirstHalf, Some(Clock::at(30)), (0, 0)),
        live,
    ]);
    assert_eq!(
        incident_kinds(&events),
        vec![EventKind::PenaltyGoal, EventKind::FreeKickGoal]
    );
}

#[test]
fn periods_are_notified_in_order_with_added_time_at_the_end_of_a_half() {
    let (_, events) = play(vec![
        state(Phase::Pre, None, (0, 0)),
        state(Phase::FirstHalf, Some(Clock::at(1)), (0, 0)),
        state(Phase::FirstHalf, Some(Clock::added(45, 2)), (0, 0)),
        state(Phase::HalfTime, None, (0, 0)),
        state(Phase::HalfTime, None, (0, 0)),
        state(Phase::SecondHalf, Some(Clock::at(46)), (0, 0)),
        state(Phase::SecondHalf, Some(Clock::added(90, 4)), (0, 0)),
        state(Phase::Finished, None, (0, 0)),
        state(Phase::Finished, None, (0, 0)),
    ]);
    assert_eq!(
        kinds(&events),
        vec![
            EventKind::KickOff,
            EventKind::HalfTime,
            EventKind::SecondHalfStart,
            EventKind::FullTime
        ]
    );
    assert_eq!((events[1].minute, events[1].extra), (Some(45), Some(2)));
    assert_eq!(events[2].minute, Some(46));
    assert_eq!((events[3].minute, events[3].extra), (Some(90), Some(4)));
}

#[test]
fn a_missed_half_time_poll_still_notifies_half_time() {
    let (_, events) = play(vec![
        state(Phase::FirstHalf, Some(Clock::at(44)), (0, 0)),
        state(Phase::SecondHalf, Some(Clock::at(47)), (0, 0)),
    ]);
    assert_eq!(
        kinds(&events),
        vec![
            EventKind::KickOff,
            EventKind::HalfTime,
            EventKind::SecondHalfStart
        ]
    );
}

#[test]
fn phases_never_go_backwards() {
    let (_, events) = play(vec![
        state(Phase::SecondHalf, Some(Clock::at(50)), (0, 0)),
        state(Phase::HalfTime, None, (0, 0)),
        state(Phase::SecondHalf, Some(Clock::at(51)), (0, 0)),
    ]);
    assert_eq!(
        kinds(&events),
        vec![
            EventKind::KickOff,
            EventKind::HalfTime,
            EventKind::SecondHalfStart
        ]
    );
}

#[test]
fn extra_time_and_a_shootout_notify_every_stage_and_the_winner() {
    let mut shootout = state(Phase::Penalties, None, (1, 1));
    shootout.extra_time = true;
    shootout.pens = Some(Score::new(1, 0));
    let mut kick1 = incident("s1", IncidentKind::ShootoutScored, Side::Home, "A", 120);
    kick1.order = 1;
    let mut kick2 = incident("s2", IncidentKind::ShootoutMissed, Side::Away, "B", 120);
    kick2.order = 2;
    kick2.detail = Some("saved".into());
    shootout.incidents = vec![
        goal("g1", Side::Home, "H", 10),
        goal("g2", Side::Away, "W", 100),
        kick1,
        kick2,
    ];
    let mut finished = shootout.clone();
    finished.phase = Phase::Finished;
    finished.pens = Some(Score::new(4, 2));
    let mut sixty = state(Phase::SecondHalf, Some(Clock::at(60)), (1, 0));
    sixty.incidents = vec![goal("g1", Side::Home, "H", 10)];
    let mut et = state(Phase::ExtraTimeFirstHalf, Some(Clock::at(100)), (1, 1));
    et.extra_time = true;
    et.incidents = vec![
        goal("g1", Side::Home, "H", 10),
        goal("g2", Side::Away, "W", 100),
    ];
    let (_, events) = play(vec![sixty, et, shootout, finished]);
    assert_eq!(
        kinds(&events),
        vec![
            EventKind::KickOff,
            EventKind::Goal,
            EventKind::HalfTime,
            EventKind::SecondHalfStart,
            EventKind::EndOfRegulation,
            EventKind::ExtraTimeStart,
            EventKind::Goal,
            EventKind::ExtraTimeHalfTime,
            EventKind::ExtraTimeSecondHalfStart,
            EventKind::ExtraTimeEnd,
            EventKind::PenaltyShootoutStart,
            EventKind::PenaltyGoal,
            EventKind::PenaltyMissed,
            EventKind::PenaltyShootoutResult,
            EventKind::FullTime,
        ]
    );
    let kick = &events[11];
    assert_eq!(kick.phase, Some(Phase::Penalties));
    assert_eq!(kick.pens, Some(Score::new(1, 0)));
    assert_eq!(kick.score, Some(Score::new(1, 1)));
    let result = &events[13];
    assert_eq!(result.team.as_deref(), Some("France"));
    assert_eq!(result.pens, Some(Score::new(4, 2)));
    let full_time = &events[14];
    assert_eq!(full_time.winner.as_deref(), Some("France"));
    assert_eq!(full_time.team, None);
}

#[test]
fn full_time_after_extra_time_without_shootout_notifies_extra_time_end() {
    let mut et2 = state(Phase::ExtraTimeSecondHalf, Some(Clock::at(110)), (0, 0));
    et2.extra_time = true;
    let mut ft = state(Phase::Finished, None, (0, 0));
    ft.extra_time = true;
    let (tracked, _) = play(vec![et2]);
    let (_, events) = detect(Some(&tracked), ft);
    assert_eq!(
        kinds(&events),
        vec![EventKind::ExtraTimeEnd, EventKind::FullTime]
    );
}

#[test]
fn a_vanished_goal_with_the_score_going_down_is_disallowed() {
    let mut scored = state(Phase::FirstHalf, Some(Clock::at(20)), (1, 0));
    scored.incidents.push(goal("g1", Side::Home, "GIROUD", 20));
    let annulled = state(Phase::FirstHalf, Some(Clock::at(23)), (0, 0));
    let (tracked, _) = play(vec![scored]);
    let (after, events) = detect(Some(&tracked), annulled.clone());
    assert_eq!(kinds(&events), vec![EventKind::GoalDisallowed]);
    assert_eq!(events[0].corrects.as_deref(), Some("t:1:g1"));
    assert_eq!(events[0].id, "t:1:g1:disallowed");
    assert_eq!(events[0].score, Some(Score::new(0, 0)));
    assert_eq!(events[0].team.as_deref(), Some("France"));
    // Polling the corrected state again changes nothing.
    let (_, again) = detect(Some(&after), annulled);
    assert!(again.is_empty());
}

#[test]
fn a_score_going_down_without_timeline_disallows_the_latest_goal_of_that_side() {
    let mut two = state(Phase::SecondHalf, Some(Clock::at(60)), (2, 0));
    two.incidents.push(goal("g1", Side::Home, "A", 10));
    two.incidents.push(goal("g2", Side::Home, "B", 55));
    let mut one = two.clone();
    one.score = Score::new(1, 0);
    let (tracked, _) = play(vec![two]);
    let (_, events) = detect(Some(&tracked), one);
    assert_eq!(kinds(&events), vec![EventKind::GoalDisallowed]);
    assert_eq!(events[0].corrects.as_deref(), Some("t:1:g2"));
}

#[test]
fn a_goal_missing_from_one_poll_without_score_change_is_kept_not_disallowed() {
    let mut scored = state(Phase::FirstHalf, Some(Clock::at(20)), (1, 0));
    scored.incidents.push(goal("g1", Side::Home, "A", 20));
    let mut glitch = state(Phase::FirstHalf, Some(Clock::at(21)), (1, 0));
    glitch.incidents.clear();
    let (tracked, _) = play(vec![scored.clone()]);
    let (kept, events) = detect(Some(&tracked), glitch);
    assert!(events.is_empty(), "{events:?}");
    assert!(kept.state.incidents.iter().any(|i| i.key == "g1"));
    let (_, back) = detect(Some(&kept), scored);
    assert!(back.is_empty(), "{back:?}");
}

#[test]
fn a_goal_scored_again_after_a_disallowed_one_is_notified() {
    let mut scored = state(Phase::FirstHalf, Some(Clock::at(20)), (1, 0));
    scored.incidents.push(goal("g1", Side::Home, "A", 20));
    let annulled = state(Phase::FirstHalf, Some(Clock::at(22)), (0, 0));
    let mut again = state(Phase::FirstHalf, Some(Clock::at(30)), (1, 0));
    again.incidents.push(goal("g2", Side::Home, "B", 30));
    let (_, events) = play(vec![scored, annulled, again]);
    assert_eq!(
        kinds(&events),
        vec![
            EventKind::KickOff,
            EventKind::Goal,
            EventKind::GoalDisallowed,
            EventKind::Goal
        ]
    );
}

#[test]
fn score_only_goals_are_notified_and_absorbed_when_the_scorer_arrives() {
    let before = state(Phase::FirstHalf, Some(Clock::at(10)), (0, 0));
    let score_only = state(Phase::FirstHalf, Some(Clock::at(12)), (1, 0));
    let mut detailed = state(Phase::FirstHalf, Some(Clock::at(13)), (1, 0));
    detailed.incidents.push(goal("g1", Side::Home, "A", 11));
    let (tracked, events) = play(vec![before, score_only, detailed]);
    assert_eq!(kinds(&events), vec![EventKind::KickOff, EventKind::Goal]);
    assert_eq!(events[1].id, "t:1:score:home:1");
    assert_eq!(events[1].player, None);
    assert!(tracked.memo.derived_goals.is_empty());
}

#[test]
fn score_only_goals_after_a_disallowed_one_get_new_ids() {
    let (_, events) = play(vec![
        state(Phase::FirstHalf, Some(Clock::at(10)), (0, 0)),
        state(Phase::FirstHalf, Some(Clock::at(11)), (1, 0)),
        state(Phase::FirstHalf, Some(Clock::at(13)), (0, 0)),
        state(Phase::FirstHalf, Some(Clock::at(20)), (1, 0)),
    ]);
    let ids: Vec<_> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            "t:1:kick_off",
            "t:1:score:home:1",
            "t:1:score:home:1:disallowed",
            "t:1:score:home:1:v1"
        ]
    );
}

#[test]
fn a_corrected_minute_is_the_same_goal() {
    let mut first = state(Phase::FirstHalf, Some(Clock::at(25)), (1, 0));
    first
        .incidents
        .push(goal("goal:h:A:23", Side::Home, "A", 23));
    let mut corrected = first.clone();
    corrected.incidents = vec![goal("goal:h:A:24", Side::Home, "A", 24)];
    let (tracked, _) = play(vec![first]);
    let (_, events) = detect(Some(&tracked), corrected);
    assert!(events.is_empty(), "{events:?}");
}

#[test]
fn a_goal_the_provider_cancels_is_disallowed_once() {
    let mut scored = state(Phase::SecondHalf, Some(Clock::at(60)), (1, 0));
    scored.incidents.push(goal("g1", Side::Home, "A", 58));
    let mut cancelled = state(Phase::SecondHalf, Some(Clock::at(61)), (0, 0));
    cancelled.incidents = vec![
        goal("g1", Side::Home, "A", 58),
        incident("var1", IncidentKind::GoalCancelled, Side::Home, "A", 60),
    ];
    let (tracked, _) = play(vec![scored]);
    let (after, events) = detect(Some(&tracked), cancelled.clone());
    assert_eq!(kinds(&events), vec![EventKind::GoalDisallowed]);
    assert_eq!(events[0].corrects.as_deref(), Some("t:1:g1"));
    let (_, again) = detect(Some(&after), cancelled);
    assert!(again.is_empty(), "{again:?}");
}

#[test]
fn a_goal_that_appears_already_cancelled_is_never_notified() {
    let mut first = state(Phase::SecondHalf, Some(Clock::at(60)), (0, 0));
    first.incidents = vec![
        goal("g1", Side::Home, "A", 58),
        incident("var1", IncidentKind::GoalCancelled, Side::Home, "A", 59),
    ];
    let (tracked, _) = play(vec![state(Phase::SecondHalf, Some(Clock::at(55)), (0, 0))]);
    let (_, events) = detect(Some(&tracked), first);
    assert!(events.is_empty(), "{events:?}");
}

#[test]
fn baseline_remembers_the_past_without_notifying_it() {
    let mut live = state(Phase::SecondHalf, Some(Clock::at(70)), (2, 1));
    live.incidents.push(goal("g1", Side::Home, "A", 10));
    live.incidents.push(goal("g2", Side::Away, "B", 20));
    let tracked = baseline(live.clone());
    assert_eq!(tracked.memo.progress, Some(Phase::SecondHalf));
    let (_, events) = detect(Some(&tracked), live.clone());
    assert!(events.is_empty(), "{events:?}");
    // One home goal has no scorer yet; when it arrives it must not notify either.
    let mut later = live;
    later.incidents.push(goal("g3", Side::Home, "C", 30));
    let (_, events) = detect(Some(&tracked), later);
    assert!(events.is_empty(), "{events:?}");
}

#[test]
fn events_of_a_poll_are_sorted_by_match_time() {
    let mut ht = state(Phase::HalfTime, None, (1, 0));
    ht.incidents.push(goal("g1", Side::Home, "A", 44));
    let (_, events) = play(vec![state(Phase::Pre, None, (0, 0)), ht]);
    assert_eq!(
        kinds(&events),
        vec![EventKind::KickOff, EventKind::Goal, EventKind::HalfTime]
    );
    assert_eq!(events[2].score, Some(Score::new(1, 0)));
}

#[test]
fn suspended_matches_notify_nothing_and_resume_where_they_were() {
    let (_, events) = play(vec![
        state(Phase::FirstHalf, Some(Clock::at(30)), (0, 0)),
        state(Phase::Suspended, Some(Clock::at(30)), (0, 0)),
        state(Phase::FirstHalf, Some(Clock::at(31)), (0, 0)),
    ]);
    assert_eq!(kinds(&events), vec![EventKind::KickOff]);
}

#[test]
fn shootout_kicks_and_its_cards_are_at_minute_120_and_kicks_are_numbered() {
    let mut before = state(Phase::Penalties, None, (2, 2));
    before.extra_time = true;
    before.pens = Some(Score::new(0, 0));
    let mut next = before.clone();
    next.pens = Some(Score::new(1, 1));
    // A provider whose clock runs on through the shoot-out, kicks listed out of order.
    let kick = |key: &str, kind, side, minute, order| {
        let mut k = incident(key, kind, side, key, minute);
        k.period = Some(Phase::Penalties);
        k.order = order;
        k
    };
    let mut card = incident("c", IncidentKind::YellowCard, Side::Away, "K", 125);
    card.period = Some(Phase::Penalties);
    card.order = 4;
    next.incidents = vec![
        kick("k3", IncidentKind::ShootoutScored, Side::Home, 124, 3),
        kick("k1", IncidentKind::ShootoutScored, Side::Away, 122, 1),
        card,
        kick("k2", IncidentKind::ShootoutMissed, Side::Home, 123, 2),
        kick("k4", IncidentKind::ShootoutMissed, Side::Away, 126, 5),
    ];
    let (tracked, _) = detect(None, before);
    let (_, events) = detect(Some(&tracked), next);
    let got: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e.player.as_deref().unwrap(),
                e.phase,
                e.minute,
                e.extra,
                e.kick,
                e.pens,
            )
        })
        .collect();
    let pen = Some(Phase::Penalties);
    assert_eq!(
        got,
        vec![
            ("k1", pen, Some(120), None, Some(1), Some(Score::new(0, 1))),
            ("k2", pen, Some(120), None, Some(2), Some(Score::new(0, 1))),
            ("k3", pen, Some(120), None, Some(3), Some(Score::new(1, 1))),
            ("K", pen, Some(120), None, None, None),
            ("k4", pen, Some(120), None, Some(4), Some(Score::new(1, 1))),
        ]
    );
}

#[test]
fn what_ends_after_a_shootout_is_at_minute_120_whatever_the_clock_ran_on_to() {
    let mut shootout = state(Phase::Penalties, Some(Clock::at(128)), (3, 3));
    shootout.extra_time = true;
    shootout.pens = Some(Score::new(4, 2));
    let mut finished = shootout.clone();
    finished.phase = Phase::Finished;
    let (tracked, _) = play(vec![shootout]);
    let (_, events) = detect(Some(&tracked), finished);
    let got: Vec<_> = events.iter().map(|e| (e.kind, e.minute)).collect();
    assert_eq!(
        got,
        vec![
            (EventKind::PenaltyShootoutResult, Some(120)),
            (EventKind::FullTime, Some(120))
        ]
    );
}

#[test]
fn venue_and_line_ups_a_snapshot_leaves_out_are_kept_and_never_notified() {
    use crate::model::{Lineup, Player, Venue};
    let player = |name: &str| Player {
        name: name.into(),
        number: Some(10),
        position: None,
        captain: false,
    };
    let mut detailed = state(Phase::FirstHalf, Some(Clock::at(10)), (0, 0));
    detailed.venue = Venue::named(Some("Luzhniki Stadium"), Some("Moscow"));
    detailed.lineups.home = Some(Lineup {
        starting: vec![player("Griezmann")],
        ..Lineup::default()
    });
    let (tracked, events) = detect(None, detailed.clone());
    assert!(!events.is_empty(), "the kick-off");
    // A later snapshot without them (a list answer) keeps them and notifies nothing.
    let bare = state(Phase::FirstHalf, Some(Clock::at(11)), (0, 0));
    let (kept, events) = detect(Some(&tracked), bare);
    assert!(events.is_empty());
    assert_eq!(kept.state.venue, detailed.venue);
    assert_eq!(kept.state.lineups, detailed.lineups);
    // One that brings the away side adds it; the home side stays.
    let mut more = state(Phase::FirstHalf, Some(Clock::at(12)), (0, 0));
    more.lineups.away = Some(Lineup {
        starting: vec![player("Modrić")],
        ..Lineup::default()
    });
    let (both, events) = detect(Some(&kept), more);
    assert!(events.is_empty());
    assert_eq!(both.state.lineups.home, detailed.lineups.home);
    assert_eq!(both.state.lineups.away.unwrap().starting[0].name, "Modrić");
}
