//! The match data API on SQLite and PostgreSQL, over matches pushed through the ingest API:
//! competitions with counts, matches filtered and paged, a match in detail, its events with
//! corrections, a team with its matches; ETags, 400s naming the parameter, 404s.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::db::TestDb;
use crate::harness::{Herald, client};

const PRODUCER: &str = "producer-token-0123456789";

async fn start(db: &TestDb) -> Herald {
    Herald::start(
        json!({
            "store": { "url": db.url },
            "http": { "tokens": [{"name": "producer", "token": PRODUCER, "scopes": ["ingest"]}] },
            "sources": { "town": { "type": "push" } },
            "sinks": { "sse": {} },
        }),
        vec![],
    )
    .await
}

fn snapshot(
    id: &str,
    home: &str,
    away: &str,
    kickoff: &str,
    phase: &str,
    goals: &[(&str, &str)],
) -> Value {
    let incidents: Vec<Value> = goals
        .iter()
        .enumerate()
        .map(|(i, (id, side))| json!({"id": id, "type": "goal", "side": side, "player": format!("Player {i}"), "minute": 10 + i}))
        .collect();
    let home_goals = goals.iter().filter(|(_, s)| *s == "home").count();
    json!({"match": {
        "id": id,
        "competition": "Town League",
        "home": {"id": home.to_lowercase(), "name": home},
        "away": {"name": away},
        "kickoff": kickoff,
        "phase": phase,
        "minute": if phase == "2H" { json!(70) } else { Value::Null },
        "score": {"home": home_goals, "away": goals.len() - home_goals},
        "incidents": incidents,
    }})
}

async fn push(herald: &Herald, body: &Value) {
    let r = client()
        .post(herald.url("/api/v1/ingest"))
        .bearer_auth(PRODUCER)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
}

async fn get(herald: &Herald, path: &str) -> (StatusCode, Value, Option<String>) {
    let r = client().get(herald.url(path)).send().await.unwrap();
    let status = r.status();
    let etag = r
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, r.json().await.unwrap_or(Value::Null), etag)
}

async fn until_events(herald: &Herald, id: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, page, _) = get(herald, &format!("/api/v1/matches/{id}/events")).await;
        if page["events"].as_array().is_some_and(|e| e.len() >= n) {
            return;
        }
        assert!(Instant::now() < deadline, "{id}: {page}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn competitions_matches_events_and_teams_read_back_what_was_recorded() {
    for db in TestDb::all().await {
        let herald = start(&db).await;
        let label = db.backend;
        push(
            &herald,
            &snapshot(
                "old",
                "Northfield",
                "USA",
                "2026-04-01T15:00:00Z",
                "FT",
                &[("a1", "home")],
            ),
        )
        .await;
        push(
            &herald,
            &snapshot(
                "now",
                "Southbury",
                "Northfield",
                "2026-05-01T15:00:00Z",
                "2H",
                &[("b1", "away"), ("b2", "home")],
            ),
        )
        .await;
        push(
            &herald,
            &snapshot(
                "later",
                "Northfield",
                "Eastwick",
                "2026-06-01T15:00:00Z",
                "PRE",
                &[],
            ),
        )
        .await;
        until_events(&herald, "town:now", 2).await;
        // The second goal of "now" is taken back.
        push(
            &herald,
            &snapshot(
                "now",
                "Southbury",
                "Northfield",
                "2026-05-01T15:00:00Z",
                "2H",
                &[("b1", "away")],
            ),
        )
        .await;
        until_events(&herald, "town:now", 3).await;
        until_events(&herald, "town:old", 1).await;

        let (status, list, _) = get(&herald, "/api/v1/competitions").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            list["competitions"],
            json!([{"id": "town:town-league", "name": "Town League", "source": "town", "live": 1, "scheduled": 1, "finished": 1}]),
            "{label}"
        );

        let (_, all, etag) = get(&herald, "/api/v1/matches").await;
        assert_eq!(
            ids(&all),
            ["town:later", "town:now", "town:old"],
            "{label}: latest kick-off first"
        );
        let now = &all["matches"][1];
        assert_eq!(now["status"], "live");
        assert_eq!(now["home_score"], 0);
        assert_eq!(
            now["away_score"], 1,
            "{label}: the disallowed goal no longer counts"
        );
        assert_eq!(now["competition_id"], "town:town-league");
        // Unchanged: 304 with the same tag.
        let r = client()
            .get(herald.url("/api/v1/matches"))
            .header("if-none-match", etag.clone().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(r.headers()["etag"].to_str().unwrap(), etag.unwrap());

        for (query, want) in [
            ("status=live", vec!["town:now"]),
            ("status=scheduled", vec!["town:later"]),
            ("status=finished", vec!["town:old"]),
            (
                "team=northfield",
                vec!["town:later", "town:now", "town:old"],
            ),
            ("team=United%20States", vec!["town:old"]),
            ("team=Eastwick&status=scheduled", vec!["town:later"]),
            ("date=2026-05-01", vec!["town:now"]),
            ("date=2026-05-02", vec![]),
            (
                "competition=town:town-league",
                vec!["town:later", "town:now", "town:old"],
            ),
            ("competition=Town%20League&status=live", vec!["town:now"]),
        ] {
            let (status, page, _) = get(&herald, &format!("/api/v1/matches?{query}")).await;
            assert_eq!(status, StatusCode::OK, "{query}: {page}");
            assert_eq!(ids(&page), want, "{label}: {query}");
        }
        // Pages of one, followed by their cursors, give every match once.
        let mut seen = Vec::new();
        let mut path = "/api/v1/matches?limit=1".to_owned();
        loop {
            let (_, page, _) = get(&herald, &path).await;
            seen.extend(ids(&page));
            match page["next_cursor"].as_str() {
                Some(cursor) => path = format!("/api/v1/matches?limit=1&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(seen, ["town:later", "town:now", "town:old"], "{label}");
        for (query, field) in [
            ("status=over", "status"),
            ("date=May", "date"),
            ("limit=0", "limit"),
            ("cursor=zzz", "cursor"),
            ("competition=Nowhere%20Cup", "competition"),
            ("team=Atlantis", "team"),
            ("colour=red", "colour"),
        ] {
            let (status, answer, _) = get(&herald, &format!("/api/v1/matches?{query}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
            assert_eq!(answer["field"], field, "{query}: {answer}");
        }

        let (status, detail, _) = get(&herald, "/api/v1/matches/town:now").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            detail["home"],
            json!({"id": "southbury", "name": "Southbury", "source_id": "southbury", "lineup": null})
        );
        assert_eq!(detail["away"]["id"], "northfield");
        assert_eq!(detail["score"], json!({"home": 0, "away": 1}));
        assert_eq!(detail["minute"], 70);
        assert_eq!(detail["phase"], "2H");
        assert_eq!(detail["kickoff"], "2026-05-01T15:00:00Z");
        assert!(
            detail["away"]["lineup"].is_null() && detail["venue"].is_null(),
            "never invented: {detail}"
        );
        let (status, _, _) = get(&herald, "/api/v1/matches/town:nowhere").await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let (_, events, _) = get(&herald, "/api/v1/matches/town:now/events").await;
        let events = events["events"].as_array().unwrap();
        let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(
            kinds.iter().filter(|k| k.starts_with("goal")).count(),
            3,
            "{kinds:?}"
        );
        let disallowed = events
            .iter()
            .find(|e| e["kind"] == "goal_disallowed")
            .unwrap();
        let second_goal = events
            .iter()
            .filter(|e| e["kind"] == "goal")
            .find(|e| e["team"] == "Southbury")
            .unwrap();
        assert_eq!(disallowed["replaces"], second_goal["id"], "{label}");
        let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order: {seqs:?}");
        let (_, first, _) = get(&herald, "/api/v1/matches/town:now/events?limit=1").await;
        let cursor = first["next_cursor"].as_str().unwrap();
        let (_, rest, _) = get(
            &herald,
            &format!("/api/v1/matches/town:now/events?cursor={cursor}"),
        )
        .await;
        assert_eq!(rest["events"].as_array().unwrap().len(), events.len() - 1);
        let (status, _, _) = get(&herald, "/api/v1/matches/town:nowhere/events").await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let (status, team, _) = get(&herald, "/api/v1/teams/northfield").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(team["name"], "Northfield");
        let recent: Vec<&str> = team["recent"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        assert_eq!(recent, ["town:now", "town:old"], "{label}");
        assert_eq!(team["next"][0]["id"], "town:later");
        let (_, usa, _) = get(&herald, "/api/v1/teams/USA").await;
        assert_eq!(usa["id"], "unitedstates");
        let aliases = usa["aliases"].to_string();
        assert!(
            aliases.contains("United States") && aliases.contains("USMNT"),
            "{usa}"
        );
        let (status, _, _) = get(&herald, "/api/v1/teams/atlantis").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        herald.shutdown().await;
    }
}

/// GETs `path` until `done` holds of the answer, for up to 10 s.
async fn until_answer(herald: &Herald, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, answer, _) = get(herald, path).await;
        if done(&answer) {
            return answer;
        }
        assert!(Instant::now() < deadline, "{path}: {answer}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn line_ups_and_venue_are_shown_kept_when_a_snapshot_leaves_them_out_and_checked() {
    for db in TestDb::all().await {
        let herald = start(&db).await;
        let label = db.backend;
        let mut with = snapshot(
            "final",
            "Argentina",
            "France",
            "2022-12-18T15:00:00Z",
            "PRE",
            &[],
        );
        with["match"]["venue"] = json!({"name": "Lusail Stadium", "city": "Lusail"});
        with["match"]["home"]["lineup"] = json!({
            "formation": "4-4-2",
            "coach": "Lionel Scaloni",
            "starting": [{"name": "Emiliano Martínez", "number": 23, "position": "goalkeeper"},
                         {"name": "Lionel Messi", "number": 10, "position": "forward", "captain": true}],
            "bench": [{"name": "Paulo Dybala", "number": 21}]
        });
        push(&herald, &with).await;
        let detail = until_answer(&herald, "/api/v1/matches/town:final", |d| {
            !d["home"]["lineup"].is_null()
        })
        .await;
        assert_eq!(
            detail["venue"],
            json!({"name": "Lusail Stadium", "city": "Lusail"}),
            "{label}"
        );
        assert_eq!(
            detail["home"]["lineup"],
            json!({
                "formation": "4-4-2",
                "coach": "Lionel Scaloni",
                "starting": [
                    {"name": "Emiliano Martínez", "number": 23, "position": "goalkeeper"},
                    {"name": "Lionel Messi", "number": 10, "position": "forward", "captain": true}
                ],
                "bench": [{"name": "Paulo Dybala", "number": 21}]
            }),
            "{label}"
        );
        assert!(detail["away"]["lineup"].is_null(), "{label}: {detail}");

        // Kick-off: the producer sends the score and a goal, without line-ups or venue.
        let mut live = snapshot(
            "final",
            "Argentina",
            "France",
            "2022-12-18T15:00:00Z",
            "2H",
            &[("g1", "home")],
        );
        live["match"]["away"]["lineup"] = json!({
            "starting": [{"name": "Hugo Lloris", "number": 1, "position": "goalkeeper", "captain": true}]
        });
        push(&herald, &live).await;
        until_events(&herald, "town:final", 1).await;
        let detail = until_answer(&herald, "/api/v1/matches/town:final", |d| {
            !d["away"]["lineup"].is_null()
        })
        .await;
        assert_eq!(detail["score"], json!({"home": 1, "away": 0}), "{label}");
        assert_eq!(detail["venue"]["name"], "Lusail Stadium", "{label}");
        assert_eq!(
            detail["home"]["lineup"]["starting"][1]["name"], "Lionel Messi",
            "{label}: kept"
        );
        assert_eq!(detail["away"]["lineup"]["starting"][0]["number"], 1);

        // A bad line-up is refused naming the field, and nothing of it is stored.
        let mut bad = live.clone();
        bad["match"]["score"] = json!({"home": 2, "away": 0});
        bad["match"]["home"]["lineup"] =
            json!({"starting": [{"name": "Lionel Messi", "number": 1010}]});
        let r = client()
            .post(herald.url("/api/v1/ingest"))
            .bearer_auth(PRODUCER)
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let answer: Value = r.json().await.unwrap();
        assert_eq!(answer["field"], "match.home.lineup.starting[0].number");
        let (_, detail, _) = get(&herald, "/api/v1/matches/town:final").await;
        assert_eq!(detail["score"], json!({"home": 1, "away": 0}), "{label}");
        assert_eq!(detail["home"]["lineup"]["starting"][1]["number"], 10);
        herald.shutdown().await;
    }
}
