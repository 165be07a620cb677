//! Several sources for one match, end to end: the shared fixtures of one real match recorded
//! in two providers' formats are served by two fakes at once, and herald polls both. One
//! source runs a step behind, answers 429 for a while, and the other is dropped mid-match:
//! the stream carries exactly the expected notifications, once each, each by the step it
//! became observable at the fastest source; the match is listed once; the metrics say which
//! source was first and how far behind the other was. On SQLite and PostgreSQL.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::db::TestDb;
use crate::e2e::source_table;
use crate::expected::{Expected, check, fixture_dirs, observed_by};
use crate::fake_provider::{FakeProvider, Fault};
use crate::harness::{Herald, client};
use crate::sse_client::{SseClient, as_got};

/// The fixtures recorded in more than one format, by match.
fn same_match_in_several_formats() -> Vec<Vec<PathBuf>> {
    let mut by_match: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for dir in fixture_dirs() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        by_match.entry(name).or_default().push(dir);
    }
    let groups: Vec<Vec<PathBuf>> = by_match.into_values().filter(|d| d.len() > 1).collect();
    assert!(!groups.is_empty(), "no match is recorded in two formats");
    groups
}

async fn fused_replay(dirs: &[PathBuf], db: &TestDb) {
    let label = format!("{} on {}", dirs[0].display(), db.backend);
    let expected = Expected::merged(dirs);
    let first = FakeProvider::start(&dirs[0]).await;
    let second = FakeProvider::start(&dirs[1]).await;
    let herald = Herald::start(
        json!({
            "store": { "url": db.url },
            "sources": {
                "first": source_table(&first, &dirs[0]),
                "second": source_table(&second, &dirs[1]),
            },
            "sinks": { "sse": {} },
        }),
        vec![],
    )
    .await;
    let sse = SseClient::connect(herald.addr, "", None).await;
    let steps = first.steps();
    assert_eq!(steps, second.steps(), "{label}");
    // The first source is the fast one until it is dropped; the second runs a step behind,
    // refuses with 429 for two steps, and carries the match alone after the drop.
    let dropped = steps / 2;
    for step in 0..steps {
        if step < dropped {
            first.set_step(step);
            second.set_step(step.saturating_sub(1));
        } else {
            if step == dropped {
                first.set_fault(Some((first.first_endpoint(), Fault::Status(503))));
            }
            second.set_step(step);
        }
        if step == 3 {
            second.set_fault(Some((second.first_endpoint(), Fault::RateLimited(1))));
        }
        if step == 5 {
            second.set_fault(None);
        }
        if step < dropped {
            first.wait_polls(2, Duration::from_secs(20)).await;
        }
        second.wait_polls(2, Duration::from_secs(20)).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !observed_by(&expected, &as_got(&sse.received()), step) {
            assert!(
                Instant::now() < deadline,
                "{label}: what was observable at step {step} did not arrive: {:#?}",
                as_got(&sse.received())
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    // More polls of the final state add nothing.
    second.wait_polls(4, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let received = sse.received();
    let problems = check(&expected, &as_got(&received));
    assert!(problems.is_empty(), "{label}:\n{}", problems.join("\n"));

    // One match, wherever it is listed.
    let listed = herald.store.matches(50).await.unwrap();
    assert_eq!(listed.len(), 1, "{label}: {listed:#?}");
    assert_eq!(listed[0].phase, "FT", "{label}");
    let api: serde_json::Value = client()
        .get(herald.url("/api/v1/matches"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        api["matches"].as_array().map(Vec::len),
        Some(1),
        "{label}: {api}"
    );
    // Who was first, and how late the other one was.
    let metrics = client()
        .get(herald.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "herald_source_events_first_total{source=\"first\"}",
        "herald_source_events_first_total{source=\"second\"}",
        "herald_source_lag_seconds_count{source=\"second\"}",
    ] {
        assert!(metrics.contains(line), "{label}: no {line} in\n{metrics}");
    }
    sse.stop();
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_match_from_two_providers_is_notified_once_and_survives_a_dropped_source() {
    for dirs in same_match_in_several_formats() {
        for db in TestDb::all().await {
            fused_replay(&dirs, &db).await;
            db.cleanup().await;
        }
    }
}

const PRODUCER: &str = "producer-token-for-fusion";

/// Match `id` of push source `source` at `minute`, with goals `(id, player, minute)` for the
/// home side.
fn pushed(source: &str, id: &str, minute: u16, goals: &[(&str, &str, u16)]) -> serde_json::Value {
    let incidents: Vec<serde_json::Value> = goals
        .iter()
        .map(|(i, player, m)| json!({"id": i, "type": "goal", "side": "home", "player": player, "minute": m}))
        .collect();
    json!({"source": source, "match": {
        "id": id, "competition": "Town League",
        "home": {"name": "Northbridge"}, "away": {"name": "Southbury"},
        "kickoff": "2026-05-01T15:00:00Z", "phase": "1H", "minute": minute,
        "score": {"home": goals.len(), "away": 0}, "incidents": incidents,
    }})
}

/// herald with two push sources, `a` and `b`, `[detect]` settings `detect`, and a client of
/// its stream.
async fn two_sources(db: &TestDb, detect: serde_json::Value) -> (Herald, SseClient) {
    let herald = Herald::start(
        json!({
            "store": { "url": db.url },
            "http": { "tokens": [{"name": "producer", "token": PRODUCER, "scopes": ["ingest"]}] },
            "detect": detect,
            "sources": { "a": { "type": "push" }, "b": { "type": "push" } },
            "sinks": { "sse": {} },
        }),
        vec![],
    )
    .await;
    let sse = SseClient::connect(herald.addr, "", None).await;
    (herald, sse)
}

async fn push_to(herald: &Herald, body: serde_json::Value) {
    crate::harness::push_snapshot(&herald.url(""), PRODUCER, &body).await;
}

/// Waits until match `id` is stored.
async fn stored(herald: &Herald, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while herald.store.fused_id(id).await.unwrap().is_none() {
        assert!(Instant::now() < deadline, "{id} never stored");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the stream has `n` notifications of `kind`; returns them all.
async fn wait_kind(sse: &SseClient, kind: &str, n: usize) -> Vec<sink_api::Notification> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = sse.received();
        if got.iter().filter(|g| g.kind == kind).count() >= n || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_goal_one_source_takes_back_is_held_until_the_other_agrees() {
    for db in TestDb::all().await {
        let (herald, sse) = two_sources(&db, json!({ "stall_after": "5s" })).await;
        let push = |body: serde_json::Value| push_to(&herald, body);
        push(pushed("a", "m1", 5, &[])).await;
        stored(&herald, "a:m1").await;
        push(pushed("b", "x9", 5, &[])).await;
        stored(&herald, "b:x9").await;
        // B's match is A's, which came first; its id still names it.
        assert_eq!(
            herald.store.fused_id("b:x9").await.unwrap().as_deref(),
            Some("a:m1")
        );
        // Both report the goal, spelt and timed their own way: one notification.
        push(pushed("a", "m1", 10, &[("g1", "Player Zero", 10)])).await;
        push(pushed("b", "x9", 11, &[("b-7", "P. ZERO", 11)])).await;
        let got = wait_kind(&sse, "goal", 1).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let goals: Vec<_> = sse
            .received()
            .into_iter()
            .filter(|g| g.kind == "goal")
            .collect();
        assert_eq!(goals.len(), 1, "{}: {got:#?}", db.backend);
        let goal_id = goals[0].event_id.clone();
        assert_eq!(herald.store.matches(10).await.unwrap().len(), 1);

        // B takes it back; A keeps it: held.
        push(pushed("b", "x9", 12, &[])).await;
        tokio::time::sleep(Duration::from_millis(800)).await;
        let disallowed = |got: &[sink_api::Notification]| {
            got.iter().filter(|g| g.kind == "goal_disallowed").count()
        };
        assert_eq!(disallowed(&sse.received()), 0, "{}", db.backend);
        // B has it again: kept, nothing to say.
        push(pushed("b", "x9", 13, &[("b-7", "P. ZERO", 11)])).await;
        // B takes it back again, then A agrees: one correction, of the goal as notified.
        push(pushed("b", "x9", 14, &[])).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(disallowed(&sse.received()), 0, "{}", db.backend);
        push(pushed("a", "m1", 14, &[])).await;
        wait_kind(&sse, "goal_disallowed", 1).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let got = sse.received();
        assert_eq!(disallowed(&got), 1, "{}: {got:#?}", db.backend);
        let correction = got.iter().find(|g| g.kind == "goal_disallowed").unwrap();
        assert_eq!(
            correction.replaces.as_ref().map(|r| r.event_id.as_str()),
            Some(goal_id.as_str())
        );

        // A second goal; A takes it back and then stalls: B, which still has it, decides.
        push(pushed("a", "m1", 20, &[("g2", "Player Two", 20)])).await;
        push(pushed("b", "x9", 20, &[("b-8", "TWO", 20)])).await;
        wait_kind(&sse, "goal", 2).await;
        push(pushed("b", "x9", 21, &[])).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(disallowed(&sse.received()), 1, "{}", db.backend);
        stall(&db, "a").await;
        push(pushed("b", "x9", 22, &[])).await;
        let got = wait_kind(&sse, "goal_disallowed", 2).await;
        assert_eq!(disallowed(&got), 2, "{}: {got:#?}", db.backend);
        assert_eq!(
            got.iter().filter(|g| g.kind == "goal").count(),
            2,
            "{}",
            db.backend
        );
        sse.stop();
        herald.shutdown().await;
        db.cleanup().await;
    }
}

/// Makes `source`'s matches look unchanged for longer than `detect.stall_after` (5 s).
async fn stall(db: &TestDb, source: &str) {
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    let long_ago = herald::store::now_ms() - 10_000;
    sqlx::query("UPDATE matches SET updated_at = $1 WHERE source = $2")
        .bind(long_ago)
        .bind(source)
        .execute(&mut conn)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_confirm_2_a_goal_waits_for_a_second_source_or_the_timeout() {
    for db in TestDb::all().await {
        let (herald, sse) = two_sources(
            &db,
            json!({ "confirm": { "goals": 2 }, "confirm_timeout": "2s" }),
        )
        .await;
        let push = |body: serde_json::Value| push_to(&herald, body);
        let goals = || {
            sse.received()
                .into_iter()
                .filter(|g| g.kind == "goal")
                .count()
        };
        push(pushed("a", "m1", 5, &[])).await;
        stored(&herald, "a:m1").await;
        push(pushed("b", "x9", 5, &[])).await;
        stored(&herald, "b:x9").await;
        // B's match is A's, which came first; its id still names it.
        assert_eq!(
            herald.store.fused_id("b:x9").await.unwrap().as_deref(),
            Some("a:m1")
        );
        wait_kind(&sse, "kick_off", 1).await;

        // A alone has it: nothing yet. B confirms: notified at once, once.
        push(pushed("a", "m1", 10, &[("g1", "Player Zero", 10)])).await;
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(
            goals(),
            0,
            "{}: notified before a second source",
            db.backend
        );
        let confirmed = Instant::now();
        push(pushed("b", "x9", 10, &[("b-1", "ZERO", 10)])).await;
        wait_kind(&sse, "goal", 1).await;
        assert!(
            confirmed.elapsed() < Duration::from_secs(1),
            "{:?}",
            confirmed.elapsed()
        );
        let got = sse.received();
        let goal = got.iter().find(|g| g.kind == "goal").unwrap();
        assert_eq!(
            goal.event_id, "a:m1:g1",
            "the first source's report, under its id"
        );

        // A goal only B has: notified when the timeout passes (the next commit after it).
        let held = Instant::now();
        push(pushed(
            "b",
            "x9",
            30,
            &[("b-1", "ZERO", 10), ("b-2", "TWO", 30)],
        ))
        .await;
        tokio::time::sleep(Duration::from_millis(1_000)).await;
        assert_eq!(goals(), 1, "{}: notified before the timeout", db.backend);
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        push(pushed("a", "m1", 31, &[("g1", "Player Zero", 10)])).await;
        wait_kind(&sse, "goal", 2).await;
        assert!(
            held.elapsed() >= Duration::from_secs(2),
            "{:?}",
            held.elapsed()
        );

        // A goal taken back before anyone confirmed it: never said, nothing to correct.
        push(pushed(
            "a",
            "m1",
            40,
            &[("g1", "Player Zero", 10), ("g3", "Three", 40)],
        ))
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        push(pushed("a", "m1", 41, &[("g1", "Player Zero", 10)])).await;
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        push(pushed("a", "m1", 42, &[("g1", "Player Zero", 10)])).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let got = sse.received();
        assert_eq!(
            got.iter().filter(|g| g.kind == "goal").count(),
            2,
            "{}: {got:#?}",
            db.backend
        );
        assert_eq!(
            got.iter().filter(|g| g.kind == "goal_disallowed").count(),
            0,
            "{}",
            db.backend
        );
        sse.stop();
        herald.shutdown().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_source_polls_less_while_a_free_one_carries_the_match() {
    let dirs = same_match_in_several_formats()
        .into_iter()
        .find(|d| d.iter().any(|p| p.to_string_lossy().contains("/fifa/")))
        .unwrap();
    let is_fifa = |p: &&PathBuf| p.to_string_lossy().contains("/fifa/");
    let fifa_dir = dirs.iter().find(is_fifa).unwrap();
    let fd_dir = dirs.iter().find(|p| !is_fifa(p)).unwrap();
    let db = TestDb::sqlite();
    let fifa = FakeProvider::start(fifa_dir).await;
    let fd = FakeProvider::start(fd_dir).await;
    let mut quota = source_table(&fd, fd_dir);
    quota["interval_live"] = json!("50ms");
    quota["interval_idle"] = json!("50ms");
    quota["interval_break"] = json!("1s");
    let herald = Herald::start(
        json!({
            "store": { "url": db.url },
            "detect": { "stall_after": "2s" },
            "sources": { "fifa": source_table(&fifa, fifa_dir), "fd": quota },
            "sinks": { "sse": {} },
        }),
        vec![],
    )
    .await;
    // The first half, both sources moving, a step every 400 ms.
    for step in 0..=8 {
        fifa.set_step(step);
        fd.set_step(step);
        if step < 2 {
            fifa.wait_polls(2, Duration::from_secs(20)).await;
            fd.wait_polls(2, Duration::from_secs(20)).await;
        } else {
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
    }
    let endpoint = fd.first_endpoint();
    let polls = |steps: std::ops::RangeInclusive<usize>| {
        fd.hits()
            .iter()
            .filter(|h| h.endpoint == endpoint && steps.contains(&h.step))
            .count()
    };
    // 2.4 s at the break pace (1 s) instead of the live one (50 ms: some 48 polls).
    let carried = polls(3..=8);
    assert!(
        carried <= 6,
        "football-data polled {carried} times while FIFA carried the match"
    );
    // FIFA drops out in the second half: football-data goes back to its live pace.
    fifa.set_fault(Some((fifa.first_endpoint(), Fault::Status(503))));
    fd.set_step(11);
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    fd.set_step(12);
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let alone = polls(12..=12);
    assert!(
        alone >= 8,
        "football-data polled {alone} times in 1 s once FIFA had stalled"
    );
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_later_goal_making_the_same_score_as_one_taken_back_is_a_new_goal() {
    for db in TestDb::all().await {
        let (herald, sse) = two_sources(&db, json!({})).await;
        let push = |body: serde_json::Value| push_to(&herald, body);
        push(pushed("a", "m1", 5, &[])).await;
        stored(&herald, "a:m1").await;
        push(pushed("b", "x9", 5, &[])).await;
        stored(&herald, "b:x9").await;
        // Only A saw the goal before VAR took it back.
        push(pushed("a", "m1", 10, &[("g1", "Player One", 10)])).await;
        wait_kind(&sse, "goal", 1).await;
        push(pushed("a", "m1", 12, &[])).await;
        wait_kind(&sse, "goal_disallowed", 1).await;
        // Twenty minutes later B is first with a goal that makes 1-0 again: a new goal, once.
        push(pushed("b", "x9", 30, &[("b-1", "Player Two", 30)])).await;
        let got = wait_kind(&sse, "goal", 2).await;
        push(pushed("a", "m1", 30, &[("g2", "TWO", 30)])).await;
        tokio::time::sleep(Duration::from_millis(700)).await;
        let got = if got.len() < sse.received().len() {
            sse.received()
        } else {
            got
        };
        let goals: Vec<_> = got.iter().filter(|g| g.kind == "goal").collect();
        assert_eq!(goals.len(), 2, "{}: {got:#?}", db.backend);
        assert_eq!(goals[1].event_id, "a:m1:b/b-1", "{}", db.backend);
        sse.stop();
        herald.shutdown().await;
        db.cleanup().await;
    }
}
