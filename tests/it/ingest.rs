//! Producers pushing match snapshots (`POST /api/v1/ingest`, `herald ingest`) and polls on
//! demand (`POST /api/v1/sources/{id}/poll`), through real herald instances on SQLite and
//! PostgreSQL: every shared fixture, converted to the push schema and pushed step by step,
//! yields exactly its expected notifications; repeats and re-orders notify nothing twice; a
//! goal taken back is disallowed; bad input stores nothing.

use std::time::{Duration, Instant};

use herald::model::MatchState;
use herald::sources::Source;
use herald::sources::replay::{Config, ReplaySource};
use serde_json::{Value, json};

use crate::db::TestDb;
use crate::e2e::source_table;
use crate::expected::{Expected, check, fixture_dirs, observed_by};
use crate::fake_provider::FakeProvider;
use crate::harness::{Herald, client};
use crate::sse_client::{SseClient, as_got};

const PRODUCER: &str = "producer-token-0123456789";
const READER: &str = "reader-token-0123456789ab";
const ADMIN: &str = "ingest-admin-token-0123456789";

/// A match state in the documented push schema, written from the schema's documentation
/// (not from herald's parser): what a producer would send.
fn to_push(state: &MatchState) -> Value {
    let team = |t: &herald::model::Team| {
        let mut team = json!({ "name": t.name });
        if !t.id.is_empty() {
            team["id"] = json!(t.id);
        }
        team
    };
    let mut incidents = state.incidents.clone();
    incidents.sort_by_key(|i| i.order);
    let incidents: Vec<Value> = incidents
        .iter()
        .map(|i| {
            json!({
                "id": i.key,
                "type": i.kind,
                "side": i.side,
                "player": i.player,
                "minute": i.clock.map(|c| c.minute),
                "extra": i.clock.and_then(|c| c.extra),
                "period": i.period,
                "score": i.score_after,
                "penalties": i.pens_after,
                "detail": i.detail,
            })
        })
        .collect();
    let kickoff = state.kickoff.map(|k| {
        time::OffsetDateTime::from_unix_timestamp(k)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    });
    json!({
        "source": "feed",
        "match": {
            "id": state.id,
            "competition": state.competition,
            "home": team(&state.home),
            "away": team(&state.away),
            "kickoff": kickoff,
            "phase": state.phase,
            "minute": state.clock.map(|c| c.minute),
            "extra": state.clock.and_then(|c| c.extra),
            "score": state.score,
            "penalties": state.pens,
            "extra_time": state.extra_time,
            "winner": state.winner,
            "incidents": incidents,
        }
    })
}

/// Every step of the fixture at `dir`, as the snapshots its provider parser reads.
async fn steps(dir: &std::path::Path) -> Vec<Vec<MatchState>> {
    let mut replay = ReplaySource::open(Config {
        path: dir.to_owned(),
        speed: 1e9,
        max_gap: Duration::ZERO,
        repeat: false,
    })
    .unwrap();
    let mut out = Vec::new();
    for _ in 0..replay.steps() {
        out.push(replay.poll().await.unwrap().snapshot.matches);
    }
    out
}

async fn start(db: &TestDb, extra_sources: Value) -> Herald {
    let mut sources = json!({ "feed": { "type": "push" } });
    for (k, v) in extra_sources.as_object().into_iter().flatten() {
        sources[k] = v.clone();
    }
    Herald::start(
        json!({
            "store": { "url": db.url },
            "http": {
                "admin_token": ADMIN,
                "tokens": [
                    {"name": "producer", "token": PRODUCER, "scopes": ["ingest"]},
                    {"name": "reader", "token": READER, "scopes": ["read"]},
                ],
            },
            "sources": sources,
            "sinks": { "sse": {} },
        }),
        vec![],
    )
    .await
}

async fn push(herald: &Herald, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = client().post(herald.url("/api/v1/ingest")).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn push_ok(herald: &Herald, body: &Value) {
    let (status, answer) = push(herald, Some(PRODUCER), body).await;
    assert_eq!(status, 202, "{answer}");
}

async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn play_fixture(dir: &std::path::Path, db: &TestDb) {
    let label = format!("{} on {}", dir.display(), db.backend);
    let expected = Expected::load(dir);
    let herald = start(db, json!({})).await;
    let sse = SseClient::connect(herald.addr, "", None).await;
    for (step, matches) in steps(dir).await.into_iter().enumerate() {
        for state in &matches {
            let body = to_push(state);
            push_ok(&herald, &body).await;
            // A repeat, and the same snapshot with its incidents in another order, change
            // nothing.
            push_ok(&herald, &body).await;
            let mut reordered = body.clone();
            if let Some(list) = reordered["match"]["incidents"].as_array_mut() {
                list.reverse();
            }
            push_ok(&herald, &reordered).await;
        }
        until(
            &format!(
                "{label}: what is observable at step {step} did not arrive: {:?}",
                as_got(&sse.received())
            ),
            || observed_by(&expected, &as_got(&sse.received()), step),
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received = sse.received();
    let problems = check(&expected, &as_got(&received));
    assert!(problems.is_empty(), "{label}:\n{}", problems.join("\n"));
    sse.stop();
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fixture_pushed_step_by_step_yields_exactly_its_expected_notifications() {
    for dir in fixture_dirs() {
        for db in TestDb::all().await {
            play_fixture(&dir, &db).await;
            db.cleanup().await;
        }
    }
}

fn snapshot(sequence: u64, goals: &[(&str, &str)]) -> Value {
    let incidents: Vec<Value> = goals
        .iter()
        .enumerate()
        .map(|(i, (id, side))| json!({"id": id, "type": "goal", "side": side, "player": format!("Player {i}"), "minute": 10 + i}))
        .collect();
    let home = goals.iter().filter(|(_, s)| *s == "home").count();
    let away = goals.len() - home;
    json!({
        "match": {
            "id": "derby-1",
            "sequence": sequence,
            "competition": "Town League",
            "home": {"id": "n", "name": "Northfield"},
            "away": {"id": "s", "name": "Southbury"},
            "kickoff": "2026-05-01T15:00:00Z",
            "phase": "2H",
            "minute": 60 + sequence,
            "score": {"home": home, "away": away},
            "incidents": incidents,
        }
    })
}

/// The goals and disallowed goals received, in order.
fn kinds(sse: &SseClient) -> Vec<String> {
    sse.received()
        .into_iter()
        .map(|n| n.kind)
        .filter(|k| k.starts_with("goal"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_goal_taken_back_is_disallowed_and_a_late_older_snapshot_is_ignored() {
    for db in TestDb::all().await {
        let herald = start(&db, json!({})).await;
        let sse = SseClient::connect(herald.addr, "", None).await;
        push_ok(&herald, &snapshot(1, &[("g1", "home")])).await;
        until("the goal", || kinds(&sse) == ["goal"]).await;
        push_ok(&herald, &snapshot(3, &[("g1", "home"), ("g2", "away")])).await;
        until("the second goal", || kinds(&sse).len() == 2).await;
        // Sequence 2 arrives late: older than 3, it is ignored (no goal taken back).
        push_ok(&herald, &snapshot(2, &[("g1", "home")])).await;
        // Sequence 4 takes the second goal back.
        push_ok(&herald, &snapshot(4, &[("g1", "home")])).await;
        until("the disallowed goal", || kinds(&sse).len() == 3).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            kinds(&sse),
            ["goal", "goal", "goal_disallowed"],
            "{}",
            db.backend
        );
        let goals: Vec<_> = sse
            .received()
            .into_iter()
            .filter(|n| n.kind.starts_with("goal"))
            .collect();
        assert_eq!(
            goals[2].replaces.as_ref().map(|r| r.event_id.clone()),
            Some(goals[1].event_id.clone()),
            "the second goal is the one disallowed"
        );
        let (_, matches) = get(&herald, "/api/v1/matches").await;
        assert!(
            matches.to_string().contains("feed:derby-1"),
            "the match is known as <source>:<id>: {matches}"
        );
        sse.stop();
        herald.shutdown().await;
    }
}

async fn get(herald: &Herald, path: &str) -> (u16, Value) {
    let r = client().get(herald.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_pushes_are_400_naming_the_field_and_store_nothing() {
    for db in TestDb::all().await {
        let herald = start(&db, json!({})).await;
        let good = snapshot(1, &[("g1", "home")]);
        let (status, _) = push(&herald, None, &good).await;
        assert_eq!(status, 401, "no token");
        let (status, _) = push(&herald, Some(READER), &good).await;
        assert_eq!(status, 403, "a token without the ingest scope");
        let with = |path: &[&str], value: Value| {
            let mut body = good.clone();
            let mut at = &mut body;
            for key in &path[..path.len() - 1] {
                at = &mut at[*key];
            }
            at[path[path.len() - 1]] = value;
            body
        };
        let cases = [
            (with(&["match", "phase"], json!("3H")), "match.phase"),
            (with(&["match", "id"], json!("")), "match.id"),
            (with(&["match", "kickoff"], json!("soon")), "match.kickoff"),
            (
                with(&["match", "score"], json!({"home": "one"})),
                "match.score.home",
            ),
            (with(&["match", "home"], json!({"id": "x"})), "match.home"),
            (
                with(
                    &["match", "incidents"],
                    json!([{"id": "a", "type": "goal"}]),
                ),
                "match.incidents[0].side",
            ),
            (with(&["source"], json!("nowhere")), "source"),
            (json!({"snapshot": {}}), "snapshot"),
        ];
        for (body, field) in cases {
            let (status, answer) = push(&herald, Some(PRODUCER), &body).await;
            assert_eq!(status, 400, "{body}: {answer}");
            assert!(
                answer["field"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with(field),
                "{field}: {answer}"
            );
        }
        assert!(
            herald
                .store
                .pushed_after("feed", 0, 10)
                .await
                .unwrap()
                .is_empty(),
            "{}: nothing stored",
            db.backend
        );
        let (_, matches) = get(&herald, "/api/v1/matches").await;
        assert_eq!(matches["matches"], json!([]), "{}", db.backend);
        herald.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn herald_ingest_pushes_a_file_in_order() {
    let db = TestDb::sqlite();
    let herald = start(&db, json!({})).await;
    let sse = SseClient::connect(herald.addr, "", None).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("match.jsonl");
    let lines: Vec<String> = [
        snapshot(1, &[]),
        snapshot(2, &[("g1", "home")]),
        snapshot(3, &[("g1", "home"), ("g2", "home")]),
    ]
    .iter()
    .map(|s| s["match"].to_string())
    .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let url = format!("http://{}", herald.addr);
    let run = |file: std::path::PathBuf| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
                .args(["ingest", "--url", &url, "--source", "feed"])
                .arg(file)
                .env("HERALD_TOKEN", PRODUCER)
                .output()
                .unwrap()
        })
    };
    let out = run(file.clone()).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        3,
        "one line per snapshot"
    );
    until("two goals", || kinds(&sse) == ["goal", "goal"]).await;
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"id": "x", "home": {"name": "A"}, "away": {"name": "B"}, "phase": "9H"}"#,
    )
    .unwrap();
    let out = run(bad).await.unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("match.phase"), "{stderr}");
    sse.stop();
    herald.shutdown().await;
}

/// A FIFA fixture polled by a source whose cadence would not poll again for an hour.
async fn slow_source(fake: &FakeProvider, dir: &std::path::Path) -> Value {
    let mut table = source_table(fake, dir);
    for key in ["interval_live", "interval_break", "interval_idle"] {
        table[key] = json!("1h");
    }
    json!({ "provider": table })
}

fn polls(fake: &FakeProvider) -> usize {
    let first = fake.hits().first().map(|h| h.endpoint.clone());
    fake.hits()
        .iter()
        .filter(|h| Some(&h.endpoint) == first.as_ref())
        .count()
}

async fn ask_poll(herald: &Herald, token: Option<&str>, source: &str) -> u16 {
    let mut request = client().post(herald.url(&format!("/api/v1/sources/{source}/poll")));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_asked_for_happens_at_once_on_the_instance_that_holds_the_source() {
    let dir = fixture_dirs()
        .into_iter()
        .find(|d| d.to_string_lossy().contains("fifa"))
        .expect("a FIFA fixture");
    for db in TestDb::all().await {
        let fake = FakeProvider::start(&dir).await;
        let first = start(&db, slow_source(&fake, &dir).await).await;
        until("the first poll", || polls(&fake) >= 1).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let before = polls(&fake);
        assert_eq!(ask_poll(&first, None, "provider").await, 401);
        assert_eq!(ask_poll(&first, Some(PRODUCER), "provider").await, 403);
        assert_eq!(ask_poll(&first, Some(ADMIN), "nowhere").await, 404);
        assert_eq!(ask_poll(&first, Some(ADMIN), "provider").await, 202);
        until("the poll asked for", || polls(&fake) > before).await;
        if db.backend == "postgres" {
            // A second instance stands by; asked there, the holder polls, once.
            let second = start(&db, slow_source(&fake, &dir).await).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            let before = polls(&fake);
            assert_eq!(ask_poll(&second, Some(ADMIN), "provider").await, 202);
            until("the poll asked of the other instance", || {
                polls(&fake) > before
            })
            .await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            assert_eq!(polls(&fake), before + 1, "polled once, by the holder");
            second.shutdown().await;
        }
        first.shutdown().await;
        db.cleanup().await;
    }
}
