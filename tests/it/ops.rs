//! What operators see: `/metrics` (latency, outcomes, polls, quota, queues, stream clients),
//! `/readyz` following a source that stops answering, request ids, JSON logs and
//! `herald status`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use axum::Router;
use axum::response::IntoResponse;
use herald::telemetry::status::{Sample, parse};
use serde_json::{Value, json};
use sink_api::testing::{Behaviour, MemorySink};

use crate::db::TestDb;
use crate::e2e::source_table;
use crate::expected::fixture_dirs;
use crate::fake_provider::{FakeProvider, Fault};
use crate::harness::{Herald, client};
use crate::process::{Process, free_port};
use crate::sse_client::SseClient;

const TOKEN: &str = "ops-admin-token-0123456789";

/// The value of the sample `name` with exactly these labels (others ignored), if any.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
}

async fn scrape(herald: &Herald) -> Vec<Sample> {
    let r = client().get(herald.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        r.headers()
    );
    parse(&r.text().await.unwrap())
}

/// Scrapes until `check` passes, or fails with the last scrape.
async fn scrape_until(
    herald: &Herald,
    what: &str,
    check: impl Fn(&[Sample]) -> bool,
) -> Vec<Sample> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let samples = scrape(herald).await;
        if check(&samples) {
            return samples;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not seen in /metrics:\n{samples:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn fixture(format: &str) -> std::path::PathBuf {
    fixture_dirs()
        .into_iter()
        .find(|d| d.to_string_lossy().contains(&format!("/{format}/")))
        .unwrap()
}

async fn metrics_report_deliveries_queues_and_polls(db: TestDb) {
    // The process's recorder is shared by every test: names of this test's own.
    let id = |name: &str| format!("{name}_{}", db.backend);
    let (fifa_id, sse_id) = (id("ops_fifa"), id("ops_sse"));
    let (ok_id, dead_id, stuck_id) = (id("ops_ok"), id("ops_dead"), id("ops_stuck"));
    let fifa = fixture("fifa");
    let fake = FakeProvider::start(&fifa).await;
    let mut source = source_table(&fake, &fifa);
    crate::harness::merge(
        &mut source,
        json!({"interval_live": "200ms", "interval_break": "200ms", "interval_idle": "200ms"}),
    );
    let ok = MemorySink::new();
    let dead = MemorySink::with_fallback(Behaviour::Permanent);
    let stuck = MemorySink::with_fallback(Behaviour::Hang);
    let herald = Herald::start(
        json!({
            "store": {"url": db.url},
            "http": {"admin_token": TOKEN},
            "sources": {fifa_id.as_str(): source},
            "sinks": {sse_id.as_str(): {"type": "sse"}},
            "dispatch": {"max_attempts": 1, "send_timeout": "60s", "shutdown_grace": "1s"},
        }),
        vec![
            (ok_id.as_str(), ok.clone()),
            (dead_id.as_str(), dead.clone()),
            (stuck_id.as_str(), stuck.clone()),
        ],
    )
    .await;
    let sse = SseClient::connect(herald.addr, "", None).await;

    // Polls: counted, timed, and their detection timed.
    fake.wait_polls(3, Duration::from_secs(20)).await;
    let samples = scrape_until(&herald, "polls of ops_fifa", |s| {
        value(
            s,
            "herald_polls_total",
            &[("source", fifa_id.as_str()), ("outcome", "ok")],
        ) >= Some(2.0)
    })
    .await;
    for histogram in [
        "herald_poll_duration_seconds_count",
        "herald_detect_latency_seconds_count",
    ] {
        assert!(
            value(&samples, histogram, &[("source", fifa_id.as_str())]) >= Some(2.0),
            "{histogram}: {samples:#?}"
        );
    }

    // Three announcements to every sink.
    for i in 0..3 {
        herald.publish(TOKEN, "ops", &format!("news {i}")).await;
    }
    ok.wait_for(3, Duration::from_secs(10)).await;
    let samples = scrape_until(&herald, "three deliveries per sink", |s| {
        value(s, "herald_dead_letters", &[("sink", dead_id.as_str())]) == Some(3.0)
            && value(
                s,
                "herald_delivery_latency_seconds_count",
                &[("sink", sse_id.as_str())],
            ) >= Some(3.0)
            // Deliveries are recorded in batches, just after the platform took them.
            && value(s, "herald_outbox_pending", &[("sink", ok_id.as_str())]) == Some(0.0)
    })
    .await;
    let delivered = |sink: &str| {
        value(
            &samples,
            "herald_deliveries_total",
            &[("sink", sink), ("outcome", "delivered")],
        )
    };
    assert_eq!(delivered(ok_id.as_str()), Some(3.0));
    assert_eq!(
        value(
            &samples,
            "herald_delivery_latency_seconds_count",
            &[("sink", ok_id.as_str())]
        ),
        Some(3.0)
    );
    // Goal-to-phone of an announcement: from its commit to the sink, well under a second.
    let within_1s = value(
        &samples,
        "herald_delivery_latency_seconds_bucket",
        &[("sink", ok_id.as_str()), ("le", "1")],
    );
    assert_eq!(within_1s, Some(3.0), "{samples:#?}");
    assert_eq!(
        value(
            &samples,
            "herald_deliveries_total",
            &[("sink", dead_id.as_str()), ("outcome", "dead")]
        ),
        Some(3.0)
    );
    assert_eq!(delivered(dead_id.as_str()), None);
    assert_eq!(
        value(
            &samples,
            "herald_outbox_pending",
            &[("sink", ok_id.as_str())]
        ),
        Some(0.0)
    );
    // The hanging sink holds its queue: three waiting, the oldest for a while.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let samples = scrape(&herald).await;
    assert_eq!(
        value(
            &samples,
            "herald_outbox_pending",
            &[("sink", stuck_id.as_str())]
        ),
        Some(3.0)
    );
    assert!(
        value(
            &samples,
            "herald_outbox_oldest_pending_seconds",
            &[("sink", stuck_id.as_str())]
        ) >= Some(1.0),
        "{samples:#?}"
    );
    assert_eq!(
        value(&samples, "herald_dead_letters", &[("sink", ok_id.as_str())]),
        Some(0.0)
    );
    assert_eq!(
        value(
            &samples,
            "herald_stream_clients",
            &[("sink", sse_id.as_str())]
        ),
        Some(1.0)
    );
    assert!(value(&samples, "process_resident_memory_bytes", &[]) > Some(1e6));
    sse.stop();
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_report_deliveries_queues_and_polls_on_sqlite() {
    metrics_report_deliveries_queues_and_polls(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_report_deliveries_queues_and_polls_on_postgresql() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    metrics_report_deliveries_queues_and_polls(db).await;
}

#[tokio::test]
async fn metrics_show_the_quota_the_provider_reports() {
    let app = Router::new().fallback(|| async {
        (
            [("x-requests-available-minute", "7")],
            axum::Json(json!({"matches": []})),
        )
            .into_response()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v4", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let db = TestDb::sqlite();
    let herald = Herald::start(
        json!({
            "store": {"url": db.url},
            "sources": {"ops_fd": {"type": "football_data", "endpoint": base, "token": "t"}},
            "sinks": {"sse": {}},
        }),
        vec![],
    )
    .await;
    scrape_until(&herald, "football-data's quota", |s| {
        value(
            s,
            "herald_provider_quota_remaining",
            &[("source", "ops_fd"), ("window", "minute")],
        ) == Some(7.0)
    })
    .await;
    herald.shutdown().await;
}

#[tokio::test]
async fn metrics_can_require_a_read_token() {
    let db = TestDb::sqlite();
    let herald = Herald::start(
        json!({
            "store": {"url": db.url},
            "http": {"admin_token": TOKEN, "tokens": [
                {"name": "grafana", "token": "grafana-read-token-0123", "scopes": ["read"]},
                {"name": "bot", "token": "bot-publish-token-01234", "scopes": ["publish"]},
            ]},
            "metrics": {"require_token": true},
            "sinks": {"sse": {}},
        }),
        vec![],
    )
    .await;
    let get = |token: Option<&'static str>| {
        let mut r = client().get(herald.url("/metrics"));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        async move { r.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(get(None).await, 401);
    assert_eq!(get(Some("bot-publish-token-01234")).await, 403);
    assert_eq!(get(Some("grafana-read-token-0123")).await, 200);
    assert_eq!(get(Some(TOKEN)).await, 200);
    herald.shutdown().await;

    let off_db = TestDb::sqlite();
    let off = Herald::start(
        json!({"store": {"url": off_db.url}, "metrics": {"enabled": false}, "sinks": {"sse": {}}}),
        vec![],
    )
    .await;
    let r = client().get(off.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    off.shutdown().await;
}

async fn readyz(herald: &Herald) -> (u16, Value) {
    let r = client().get(herald.url("/readyz")).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn readyz_until(herald: &Herald, status: u16) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (got, body) = readyz(herald).await;
        if got == status {
            return body;
        }
        assert!(Instant::now() < deadline, "/readyz stayed {got}: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_follows_a_source_that_stops_answering() {
    let fifa = fixture("fifa");
    let fake = FakeProvider::start(&fifa).await;
    let mut source = source_table(&fake, &fifa);
    crate::harness::merge(
        &mut source,
        json!({"interval_live": "300ms", "interval_break": "300ms", "interval_idle": "300ms"}),
    );
    let db = TestDb::sqlite();
    let herald = Herald::start(
        json!({"store": {"url": db.url}, "sources": {"prov": source}, "sinks": {"sse": {}}}),
        vec![],
    )
    .await;
    let body = readyz_until(&herald, 200).await;
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["store"]["ok"], true);
    assert_eq!(body["checks"]["migrations"]["ok"], true);
    assert_eq!(body["checks"]["sources"]["prov"]["state"], "polling");
    assert!(body["checks"]["sources"]["prov"]["last_ok_seconds_ago"].as_f64() < Some(1.0));

    // Three intervals without a successful poll: not ready, and why.
    let broke = Instant::now();
    fake.set_fault(Some(("calendar", Fault::Status(500))));
    let body = readyz_until(&herald, 503).await;
    assert!(
        broke.elapsed() >= Duration::from_millis(850),
        "not ready {:?} after the first failure: sooner than three intervals",
        broke.elapsed()
    );
    assert_eq!(body["status"], "not_ready");
    let prov = &body["checks"]["sources"]["prov"];
    assert_eq!(prov["ok"], false);
    assert!(
        prov["error"].as_str().unwrap().contains("HTTP 500"),
        "{prov}"
    );
    assert_eq!(body["checks"]["store"]["ok"], true);

    // It answers again: ready again.
    fake.set_fault(None);
    readyz_until(&herald, 200).await;
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_carry_ids_into_json_logs_and_status_summarizes() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("herald.toml");
    std::fs::write(
        &config,
        format!(
            "[http]\nlisten = \"127.0.0.1:{port}\"\n\n[store]\nurl = \"sqlite://{}\"\n\n\
             [log]\nformat = \"json\"\nlevel = \"info,herald=debug\"\n\n[sinks.sse]\n",
            dir.path().join("herald.db").display()
        ),
    )
    .unwrap();
    let log = dir.path().join("herald.log");
    let herald = Process::start_as_configured(&config, port, &log).await;

    let r = client()
        .get(herald.url("/api/v1/competitions"))
        .header("x-request-id", "it-req-42")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "it-req-42");
    let r = client()
        .get(herald.url("/healthz"))
        .header("x-request-id", "no spaces allowed")
        .send()
        .await
        .unwrap();
    let made_up = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(made_up.len(), 16, "{made_up}");
    assert!(made_up.bytes().all(|b| b.is_ascii_hexdigit()), "{made_up}");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["status", "--config"])
        .arg(&config)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        text.starts_with(&format!("herald at http://127.0.0.1:{port}: ")),
        "{text}"
    );
    assert!(text.lines().any(|l| l.starts_with("sse ")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("demo ")), "{text}");
    assert!(text.contains("MiB resident"), "{text}");

    // Every line is one JSON object; the request's lines carry its id.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let logged = herald.log();
    herald.terminate().await;
    let lines: Vec<Value> = logged
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "herald is running")
    );
    let request: Vec<&Value> = lines
        .iter()
        .filter(|l| l["span"]["request_id"] == "it-req-42")
        .collect();
    assert!(
        !request.is_empty(),
        "no line of request it-req-42:\n{logged}"
    );
    assert_eq!(request[0]["span"]["path"], "/api/v1/competitions");
    assert!(
        lines
            .iter()
            .any(|l| l["span"]["request_id"] == made_up.as_str())
    );
    let by_level: BTreeMap<&str, usize> = lines.iter().fold(BTreeMap::new(), |mut m, l| {
        *m.entry(l["level"].as_str().unwrap_or("?")).or_default() += 1;
        m
    });
    assert!(by_level.contains_key("INFO"), "{by_level:?}");
}
