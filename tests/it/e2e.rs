//! End to end: every fixture is served by a fake of its provider's API, herald polls it over
//! HTTP, and the SSE stream must carry exactly the fixture's expected notifications — none
//! missing, none extra, none twice, each by the step after it became observable — on SQLite
//! and on PostgreSQL.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use sink_api::Notification;

use crate::db::TestDb;
use crate::expected::{Expected, check, fixture_dirs, observed_by};
use crate::fake_provider::FakeProvider;
use crate::harness::Herald;
use crate::sse_client::{SseClient, as_got};

/// Polling as fast as the fake can answer.
const FAST: &str = "20ms";

/// The `[sources.<id>]` table pointing herald's real poller for `format` at the fake.
pub(crate) fn source_table(fake: &FakeProvider, fixture: &Path) -> Value {
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(fixture.join("manifest.json")).unwrap()).unwrap();
    let ids = &manifest["ids"];
    let base = fake.base();
    let mut table = match fake.format() {
        "fifa" => json!({
            "type": "fifa",
            "endpoint": format!("{base}/api/v1"),
            "competition": ids["idCompetition"],
            "season": ids["idSeason"],
        }),
        "football-data" => json!({
            "type": "football_data",
            "endpoint": format!("{base}/v4"),
            "token": "test-token",
            "requests_per_minute": 100_000,
        }),
        "livescore" => json!({
            "type": "livescore",
            "endpoint": format!("{base}/api-client"),
            "key": "demo-key",
            "secret": "demo-secret",
        }),
        "api-football" => json!({
            "type": "api_football",
            "endpoint": base,
            "key": "test-key",
            "fixtures": [ids["fixture"]],
            "requests_per_minute": 100_000,
        }),
        other => panic!("unknown format {other}"),
    };
    for key in ["interval_live", "interval_break", "interval_idle"] {
        table[key] = json!(FAST);
    }
    table
}

/// Plays every step: set it, let herald poll it twice (one complete poll plus the start of the
/// next), and check that what became observable by then has arrived.
pub(crate) async fn play(
    fake: &FakeProvider,
    received: impl Fn() -> Vec<Notification>,
    expected: &Expected,
    steps: std::ops::Range<usize>,
    label: &str,
) {
    for step in steps {
        fake.set_step(step);
        fake.wait_polls(2, Duration::from_secs(20)).await;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !observed_by(expected, &as_got(&received()), step) {
            assert!(
                std::time::Instant::now() < deadline,
                "{label}: notifications observable at step {step} did not arrive in time: {:?}",
                as_got(&received())
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn run_fixture(fixture: &Path, db: &TestDb) {
    let label = format!("{} on {}", fixture.display(), db.backend);
    let expected = Expected::load(fixture);
    let fake = FakeProvider::start(fixture).await;
    let herald = Herald::start(
        json!({
            "store": { "url": db.url },
            "sources": { "provider": source_table(&fake, fixture) },
            "sinks": { "sse": {} },
        }),
        vec![],
    )
    .await;
    let addr = herald.addr;
    let sse = SseClient::connect(addr, "", None).await;

    play(&fake, || sse.received(), &expected, 0..fake.steps(), &label).await;
    // Repeated polls of the final state must not add anything.
    fake.wait_polls(4, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let received = sse.received();
    let problems = check(&expected, &as_got(&received));
    assert!(problems.is_empty(), "{label}:\n{}", problems.join("\n"));
    let ids: std::collections::HashSet<i64> = received.iter().map(|n| n.id).collect();
    assert_eq!(
        ids.len(),
        received.len(),
        "{label}: a delivery was streamed twice"
    );

    let hits = fake.hits();
    let refused: Vec<_> = hits.iter().filter(|h| h.status >= 400).collect();
    assert!(
        refused.is_empty(),
        "{label}: herald made requests the API refuses: {refused:?}"
    );
    if fake.format() == "fifa" {
        assert!(
            hits.iter().any(|h| h.status == 304),
            "{label}: ETags were never revalidated"
        );
    }

    sse.stop();
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fixture_streams_exactly_its_expected_notifications_on_sqlite() {
    for fixture in fixture_dirs() {
        let db = TestDb::sqlite();
        run_fixture(&fixture, &db).await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fixture_streams_exactly_its_expected_notifications_on_postgres() {
    for fixture in fixture_dirs() {
        let Some(db) = TestDb::postgres().await else {
            return;
        };
        run_fixture(&fixture, &db).await;
        db.cleanup().await;
    }
}
