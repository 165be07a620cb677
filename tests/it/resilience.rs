//! What users never see: failed and malformed polls (the previous state stays and nothing is
//! lost), and a first start in the middle of a match (the past is not replayed unless asked).

use std::time::Duration;

use serde_json::json;

use crate::db::TestDb;
use crate::e2e::source_table;
use crate::expected::{Expected, check, fixture_dirs};
use crate::fake_provider::{FakeProvider, Fault};
use crate::harness::Herald;
use crate::sse_client::{SseClient, as_got};

/// herald polling `fake`, and an SSE client that sees everything it ever streamed.
struct Running {
    herald: Herald,
    sse: SseClient,
}

async fn start(
    fake: &FakeProvider,
    fixture: &std::path::Path,
    db: &TestDb,
    backlog: &str,
) -> Running {
    let herald = Herald::start(
        json!({
            "store": { "url": db.url },
            "detect": { "backlog": backlog },
            "sources": { "provider": source_table(fake, fixture) },
            "sinks": { "sse": {} },
        }),
        vec![],
    )
    .await;
    // Resuming from 0 replays the stream's history: whatever herald sent before this client
    // connected is seen too, so "nothing was sent" is really nothing.
    let sse = SseClient::connect(herald.addr, "", Some(0)).await;
    Running { herald, sse }
}

impl Running {
    async fn finish(self) -> Vec<sink_api::Notification> {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let received = self.sse.received();
        self.sse.stop();
        self.herald.shutdown().await;
        received
    }
}

fn fifa() -> std::path::PathBuf {
    fixture_dirs()
        .into_iter()
        .find(|d| d.to_string_lossy().contains("/fifa/"))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_and_malformed_polls_keep_the_previous_state_and_lose_nothing() {
    let fixture = fifa();
    let expected = Expected::load(&fixture);
    let db = TestDb::sqlite();
    let fake = FakeProvider::start(&fixture).await;
    let herald = start(&fake, &fixture, &db, "skip").await;
    for step in 0..fake.steps() {
        fake.set_fault(match step {
            // The own goal's step: the timeline is garbage for every poll of it.
            3 => Some(("timeline", Fault::Malformed)),
            // Half-time: the calendar is down.
            9 => Some(("calendar", Fault::Status(503))),
            // A goal's step: the timeline answers 500.
            13 => Some(("timeline", Fault::Status(500))),
            _ => None,
        });
        fake.set_step(step);
        fake.wait_polls(3, Duration::from_secs(20)).await;
    }
    fake.set_fault(None);
    fake.wait_polls(3, Duration::from_secs(20)).await;
    let received = herald.finish().await;
    let problems = check(&expected, &as_got(&received));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let hits = fake.hits();
    for (step, endpoint) in [(3, "timeline"), (9, "calendar"), (13, "timeline")] {
        let served = hits
            .iter()
            .filter(|h| h.fault && h.step == step && h.endpoint == endpoint)
            .count();
        assert!(
            served >= 2,
            "step {step}: {endpoint} failed {served} time(s), expected every poll of the step to fail"
        );
    }
}

/// Starts herald for the first time with the fixture already at step 12 (France lead 2-1 in
/// the second half) and plays on to the end.
async fn start_mid_match(backlog: &str) -> (Expected, Vec<sink_api::Notification>) {
    let fixture = fifa();
    let expected = Expected::load(&fixture);
    let db = TestDb::sqlite();
    let fake = FakeProvider::start(&fixture).await;
    fake.set_step(12);
    let herald = start(&fake, &fixture, &db, backlog).await;
    for step in 12..fake.steps() {
        fake.set_step(step);
        fake.wait_polls(2, Duration::from_secs(20)).await;
    }
    (expected, herald.finish().await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_start_mid_match_does_not_replay_the_past() {
    let (expected, received) = start_mid_match("skip").await;
    let got = as_got(&received);
    let future: Vec<_> = expected
        .notifications
        .iter()
        .filter(|n| n.first_observable_step > 12)
        .collect();
    assert_eq!(
        got.len(),
        future.len(),
        "only what happened after the start: {got:?}"
    );
    for (got, want) in got.iter().zip(future) {
        assert_eq!(
            (got.kind.as_str(), got.score),
            (want.kind.as_str(), Some(want.score))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_start_mid_match_can_notify_the_past_when_configured() {
    let (expected, received) = start_mid_match("notify").await;
    let problems = check(&expected, &as_got(&received));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
