//! A `kill -9` does not freeze anything: the leases a dead instance held (on delivering a sink,
//! on polling a source) are taken over in seconds (at once by a restart on SQLite, by instance
//! liveness on PostgreSQL), not after `lease_ttl` (30 s), and what it was sending goes out.
//! Both run with the default timings, which is where the freeze showed.

use std::time::{Duration, Instant};

use sink_x::testing::{Credentials, FakeX};
use sqlx::Row;

use crate::db::TestDb;
use crate::e2e::source_table;
use crate::expected::fixture_dirs;
use crate::fake_provider::FakeProvider;
use crate::harness::client;
use crate::process::{Process, free_port, source_toml};
use crate::sse_client::SseClient;

const TOKEN: &str = "crash-test-token-0123456789";

/// Leases held by an instance that is not alive.
async fn orphan_leases(db: &TestDb) -> i64 {
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    sqlx::query("SELECT COUNT(*) FROM leases WHERE holder NOT IN (SELECT id FROM instances)")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0)
}

/// An X that takes connections and never answers; counts them.
struct Hanging {
    url: String,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Hanging {
    fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = std::sync::Arc::clone(&connections);
        std::thread::spawn(move || {
            let mut open = Vec::new();
            for stream in listener.incoming().flatten() {
                open.push(stream);
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        });
        Self { url, connections }
    }

    fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
}

async fn publish(url: &str, title: &str) -> bool {
    client()
        .post(url)
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"topic": "crash", "title": title, "body": "b"}))
        .send()
        .await
        .is_ok_and(|r| r.status() == 202)
}

fn config_text(port: u16, db: &TestDb, x_endpoint: &str) -> String {
    format!(
        "[http]\nlisten = \"127.0.0.1:{port}\"\nadmin_token = {TOKEN:?}\n\n\
         [store]\nurl = {url:?}\n\n[dispatch]\nsend_timeout = \"5s\"\n\n[sources]\n\n\
         [sinks.sse]\n\n[sinks.x]\napi_key = \"key\"\napi_secret = \"secret\"\n\
         access_token = \"token\"\naccess_token_secret = \"token-secret\"\nendpoint = {x_endpoint:?}\n",
        url = db.url
    )
}

/// Waits until a message whose title ends with `title` reaches the stream, up to `within`.
async fn arrives(sse: &SseClient, title: &str, within: Duration) -> bool {
    let sent = Instant::now();
    loop {
        if sse.received().iter().any(|m| m.title.ends_with(title)) {
            return true;
        }
        if sent.elapsed() > within {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_kill_mid_delivery_the_work_is_taken_over_within_seconds() {
    for db in TestDb::all().await {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let config = dir.path().join("herald.toml");
        let log = dir.path().join("herald.log");
        // X that never answers: the delivery to it is in flight when herald dies.
        let hanging = Hanging::start();
        std::fs::write(&config, config_text(port, &db, &hanging.url)).unwrap();
        let first = Process::start(&config, port, &log, None).await;
        let url = first.url("/api/v1/publish");
        for n in 0..20 {
            assert!(publish(&url, &format!("before {n}")).await);
        }
        // The healthcheck times out (send_timeout), then the worker's first send hangs.
        let deadline = Instant::now() + Duration::from_secs(20);
        while hanging.connections() < 2 {
            assert!(
                Instant::now() < deadline,
                "nothing was sent\n{}",
                first.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        first.kill9();

        let fake = FakeX::start(Credentials {
            api_key: "key".into(),
            api_secret: "secret".into(),
            access_token: "token".into(),
            access_token_secret: "token-secret".into(),
        })
        .await;
        std::fs::write(&config, config_text(port, &db, &fake.endpoint())).unwrap();
        let second = Process::start(&config, port, &log, None).await;
        let restarted = Instant::now();
        let sse = SseClient::connect(second.addr(), "?topic=crash", None).await;

        // The deliveries to X go out once the dead instance is known to be dead.
        let posts = fake.wait_posts(20, Duration::from_secs(20)).await;
        let x_after = restarted.elapsed();
        assert!(
            posts.iter().any(|p| p.text.contains("before 0")),
            "{posts:?}"
        );

        // Messages published now reach the stream within a second.
        let url = second.url("/api/v1/publish");
        let mut live = None;
        for n in 0.. {
            if restarted.elapsed() > Duration::from_secs(30) {
                break;
            }
            let title = format!("probe {n}");
            assert!(publish(&url, &title).await, "{}", second.log());
            if arrives(&sse, &title, Duration::from_secs(1)).await {
                live = Some(restarted.elapsed());
                break;
            }
        }
        let live = live.unwrap_or_else(|| {
            panic!(
                "{}: no message reached the stream within 1 s for 30 s after the restart\n{}",
                db.backend,
                second.log()
            )
        });
        eprintln!(
            "{}: X delivered {:.1} s and the stream live {:.1} s after the restart",
            db.backend,
            x_after.as_secs_f64(),
            live.as_secs_f64()
        );
        assert!(
            x_after < Duration::from_secs(15) && live < Duration::from_secs(15),
            "{}: frozen for {x_after:?} (X) / {live:?} (SSE) after the restart",
            db.backend
        );
        assert_eq!(
            orphan_leases(&db).await,
            0,
            "{}: leases of a dead instance left over",
            db.backend
        );
        sse.stop();
        second.terminate().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_kill_the_restarted_poller_does_not_wait_for_the_dead_ones_lease() {
    let fixture = fixture_dirs()
        .into_iter()
        .find(|d| d.to_string_lossy().contains("fifa"))
        .unwrap();
    for db in TestDb::all().await {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeProvider::start(&fixture).await;
        let port = free_port();
        let config = dir.path().join("herald.toml");
        std::fs::write(
            &config,
            format!(
                "[http]\nlisten = \"127.0.0.1:{port}\"\n\n[store]\nurl = {url:?}\n\n\
                 [sinks.sse]\n\n{source}",
                url = db.url,
                source = source_toml("provider", &source_table(&fake, &fixture)),
            ),
        )
        .unwrap();
        let log = dir.path().join("herald.log");
        let first = Process::start(&config, port, &log, None).await;
        fake.wait_polls(2, Duration::from_secs(20)).await;
        first.kill9();
        // A new step: only a new poll sees it.
        fake.set_step(1);
        let second = Process::start(&config, port, &log, None).await;
        let restarted = Instant::now();
        // Well under the 30 s lease: at once on SQLite, after instance_timeout on PostgreSQL.
        let limit = match db.backend {
            "sqlite" => Duration::from_secs(5),
            _ => Duration::from_secs(15),
        };
        fake.wait_polls(1, limit).await;
        eprintln!(
            "{}: polling again {:.1} s after the restart",
            db.backend,
            restarted.elapsed().as_secs_f64()
        );
        second.terminate().await;
        db.cleanup().await;
    }
}
