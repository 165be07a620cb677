//! Run with `cargo bench --bench sse_fanout` (options after `--`: `--clients N --events N --rate N`,
//! and `--instances N --postgres URL` for N herald processes sharing one PostgreSQL database,
//! clients and publishes spread over them in turn).
//!
//! SSE fan-out through the real pipeline: starts the herald binary (SQLite store, SSE sink, no
//! sources), connects N SSE clients on loopback, publishes events through
//! `POST /api/v1/publish` at a steady rate, and reports deliveries per second, latency from
//! publish to receipt (p50/p99/max), loss, and the server's resident memory per connection.
//! Targets: 0 loss, p99 under 1 s, at most 24 KiB RSS per connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;
#[path = "common/fanout.rs"]
mod fanout;
use fanout::{Report, now_nanos};
#[path = "common/postgres.rs"]
mod postgres;
use common::rss_kib;

struct Options {
    clients: usize,
    events: usize,
    rate: f64,
    /// herald processes sharing one PostgreSQL database (1: SQLite).
    instances: usize,
}

fn options() -> Options {
    Options {
        clients: common::option("--clients", 10_000),
        events: common::option("--events", 200),
        rate: common::option("--rate", 20.0),
        instances: common::option("--instances", 1),
    }
}

/// One SSE client on a raw socket: reads the stream and records, for each event, the latency
/// between the `t=<nanos>` stamp in its body and its arrival.
async fn client(
    port: u16,
    connected: Arc<AtomicUsize>,
    expected: usize,
    deadline: Instant,
) -> Vec<u64> {
    let mut stream = loop {
        match TcpStream::connect(("127.0.0.1", port)).await {
            Ok(s) => break s,
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    stream
        .write_all(format!("GET /stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = vec![0_u8; 16 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    let mut latencies = Vec::with_capacity(expected);
    let mut announced = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let n = match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => n,
        };
        let arrived = now_nanos();
        pending.extend_from_slice(&buf[..n]);
        if !announced && pending.windows(4).any(|w| w == b"\r\n\r\n") {
            announced = true;
            connected.fetch_add(1, Ordering::SeqCst);
        }
        // Every complete `"body":"t=<digits>` stamp is one event (the stamp also appears in
        // `data.text`, which is not counted).
        const MARK: &[u8] = b"\"body\":\"t=";
        let mut consumed = 0;
        let mut i = 0;
        while i + MARK.len() <= pending.len() {
            if &pending[i..i + MARK.len()] != MARK {
                i += 1;
                continue;
            }
            let start = i + MARK.len();
            let digits = pending[start..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if start + digits == pending.len() {
                break; // the stamp may continue in the next read
            }
            if digits > 0 {
                let sent: u128 = std::str::from_utf8(&pending[start..start + digits])
                    .unwrap()
                    .parse()
                    .unwrap();
                latencies
                    .push(u64::try_from(arrived.saturating_sub(sent) / 1000).unwrap_or(u64::MAX));
            }
            i = start + digits;
            consumed = i;
        }
        pending.drain(
            ..consumed
                .max(pending.len().saturating_sub(64))
                .min(pending.len()),
        );
        if latencies.len() >= expected {
            break;
        }
    }
    latencies
}

#[tokio::main]
async fn main() {
    let opts = options();
    let rest = format!(
        "[sources]\n\n[sinks.sse]\nmax_clients = {}\n",
        opts.clients + 100
    );
    let mut servers = Vec::new();
    if opts.instances > 1 {
        let admin = postgres::postgres_admin()
            .expect("several instances share PostgreSQL: pass --postgres URL");
        let url = postgres::fresh_postgres(&admin, "herald_bench_fanout").await;
        for _ in 0..opts.instances {
            servers.push(common::Server::start(Some(&url), "", &rest).await);
        }
    } else {
        servers.push(common::Server::start(None, "", &rest).await);
    }
    let ports: Vec<u16> = servers.iter().map(|s| s.port).collect();
    let (pid, http) = (servers[0].pid(), servers[0].http.clone());
    let rss_idle = rss_kib(pid);

    println!(
        "sse_fanout: {} clients on {} instance(s), {} events at {}/s",
        opts.clients, opts.instances, opts.events, opts.rate
    );
    let connected = Arc::new(AtomicUsize::new(0));
    let publish_time = Duration::from_secs_f64(opts.events as f64 / opts.rate);
    let deadline = Instant::now() + Duration::from_secs(120) + publish_time;
    let connect_start = Instant::now();
    let mut tasks = Vec::with_capacity(opts.clients);
    for c in 0..opts.clients {
        tasks.push(tokio::spawn(client(
            ports[c % ports.len()],
            Arc::clone(&connected),
            opts.events,
            deadline,
        )));
    }
    while connected.load(Ordering::SeqCst) < opts.clients {
        assert!(
            connect_start.elapsed() < Duration::from_secs(120),
            "only {} clients connected",
            connected.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let connect_time = connect_start.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_connected = rss_kib(pid);

    let publish_urls: Vec<String> = ports
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}/api/v1/publish"))
        .collect();
    let interval = Duration::from_secs_f64(1.0 / opts.rate);
    let mut ticker = tokio::time::interval(interval);
    let mut rss_peak = rss_connected;
    let send_start = Instant::now();
    for i in 0..opts.events {
        ticker.tick().await;
        let body = serde_json::json!({"topic": "bench", "title": format!("bench {i}"), "body": format!("t={}", now_nanos())});
        let r = http
            .post(&publish_urls[i % publish_urls.len()])
            .bearer_auth(common::TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        if i % 20 == 0 {
            rss_peak = rss_peak.max(rss_kib(pid));
        }
    }
    let mut latencies = Vec::with_capacity(opts.clients * opts.events);
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let total_time = send_start.elapsed();
    rss_peak = rss_peak.max(rss_kib(pid));
    for server in servers {
        server.stop();
    }

    Report {
        clients: opts.clients,
        connect_time,
        expected: opts.clients * opts.events,
        latencies,
        total_time,
        rss_idle,
        rss_connected,
        rss_peak,
    }
    .print();
}
