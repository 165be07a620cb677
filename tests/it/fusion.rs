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
use crate::fake_provider::{Fault, FakeProvider};
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
    assert_eq!(api["matches"].as_array().map(Vec::len), Some(1), "{label}: {api}");
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
