//! Run with `cargo bench --bench outbox_throughput` (options after `--`: `--recipients N`,
//! `--postgres URL` to add the PostgreSQL runs; `HERALD_TEST_POSTGRES_URL` works too).
//!
//! Outbox throughput: one message to N subscribers of a chat sink whose platform answers at
//! once (a sink in this process that counts and returns a message id), through the publish
//! API, the store, the worker's reads of the queue and the settlement. Reported: deliveries
//! per second from the publish until the last delivery was sent, and until the last one was
//! recorded in the store; and the sending rate once the message was committed. Runs on
//! SQLite, on PostgreSQL with one instance, and on PostgreSQL with three instances (three
//! herald apps sharing the database, each with its own pool and worker: one of them holds
//! the sink's lease and delivers, the others stand by).
//! Target: at least 20,000 deliveries/s on each.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use herald::app::App;
use herald::config::{Config, RouteConfig};
use herald::routing::{Scope, Subscription};
use herald::store::Store;
use sink_api::{Notification, Receipt, Recipient, Sink, SinkError};

#[path = "common/postgres.rs"]
mod postgres;

/// The publish API's token.
const TOKEN: &str = "bench-admin-token-0123456789";

/// A platform that takes every message at once and answers with a message id.
#[derive(Clone)]
struct Instant0 {
    sent: Arc<AtomicUsize>,
}

impl Sink for Instant0 {
    const KIND: &'static str = "bench-chat";

    async fn send(&self, _to: &Recipient, msg: &Notification) -> Result<Receipt, SinkError> {
        let n = self.sent.fetch_add(1, Ordering::SeqCst);
        Ok(Receipt {
            platform_id: Some(format!("{}-{n}", msg.id)),
        })
    }
}

fn option(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    addr: std::net::SocketAddr,
}

async fn start(url: &str, sent: &Arc<AtomicUsize>) -> Running {
    let config = Config::from_value(serde_json::json!({
        "http": {"admin_token": TOKEN},
        "store": {"url": url, "max_connections": 8},
        "sources": {},
        "sinks": {"sse": {}},
        "dispatch": {"max_in_flight": option("--in-flight").and_then(|v| v.parse::<usize>().ok()).unwrap_or(64)},
    }))
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = App::builder(config)
        .listener(listener)
        .sink(
            "chat",
            Instant0 {
                sent: Arc::clone(sent),
            },
            &RouteConfig::default(),
        )
        .build()
        .await
        .unwrap();
    let addr = app.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run(async move {
        let _stopped = stopped.await;
    }));
    Running { stop, task, addr }
}

async fn subscribe(url: &str, recipients: usize) {
    let store = Store::connect(&herald::config::StoreConfig {
        url: url.to_owned(),
        ..Default::default()
    })
    .await
    .unwrap();
    store.migrate().await.unwrap();
    for r in 0..recipients {
        store
            .subscribe(&Subscription {
                sink: "chat".into(),
                recipient: Recipient::new(format!("{}", 100_000 + r)),
                scope: Scope::All,
                kinds: vec![],
                locale: None,
            })
            .await
            .unwrap();
    }
    store.close().await;
}

/// One run: `instances` apps on `url`, one publish, until every delivery is sent and
/// recorded. Prints and returns deliveries/s (sent, recorded).
async fn run(label: &str, url: &str, instances: usize, recipients: usize) {
    subscribe(url, recipients).await;
    let sent = Arc::new(AtomicUsize::new(0));
    let mut apps = Vec::new();
    for _ in 0..instances {
        apps.push(start(url, &sent).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let http = sink_api::http::client().unwrap();
    // A connection of its own to watch the queue, opened before the clock starts.
    let watcher = Store::connect(&herald::config::StoreConfig {
        url: url.to_owned(),
        max_connections: 1,
        ..Default::default()
    })
    .await
    .unwrap();
    let started = Instant::now();
    let r = http
        .post(format!("http://{}/api/v1/publish", apps[0].addr))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"topic": "bench", "title": "kick-off", "body": "b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let committed = started.elapsed();
    while sent.load(Ordering::SeqCst) < recipients {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "{label}: only {} of {recipients} sent",
            sent.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let all_sent = started.elapsed();
    while watcher.pending("chat").await.unwrap() > 0 {
        assert!(started.elapsed() < Duration::from_secs(300));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let all_recorded = started.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let extra = sent.load(Ordering::SeqCst) - recipients;
    watcher.close().await;
    for app in apps {
        let _stopped = app.stop.send(());
        app.task.await.unwrap().unwrap();
    }
    println!(
        "{label}: {recipients} deliveries; queued in {:.0} ms; all sent in {:.0} ms ({:.0}/s; \
         {:.0}/s after the commit); all recorded in {:.0} ms ({:.0}/s); sent twice: {extra}",
        committed.as_secs_f64() * 1000.0,
        all_sent.as_secs_f64() * 1000.0,
        recipients as f64 / all_sent.as_secs_f64(),
        recipients as f64 / (all_sent - committed).as_secs_f64(),
        all_recorded.as_secs_f64() * 1000.0,
        recipients as f64 / all_recorded.as_secs_f64(),
    );
}

#[tokio::main]
async fn main() {
    herald::app::install_crypto_provider();
    let recipients: usize = option("--recipients")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    run("sqlite, 1 instance", &sqlite, 1, recipients).await;
    let Some(admin) = postgres::postgres_admin() else {
        println!("PostgreSQL runs skipped: pass --postgres URL");
        return;
    };
    for instances in [1, 3] {
        let name = format!("herald_bench_outbox_{instances}");
        let url = postgres::fresh_postgres(&admin, &name).await;
        run(
            &format!("postgres, {instances} instance(s)"),
            &url,
            instances,
            recipients,
        )
        .await;
    }
}
