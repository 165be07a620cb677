//! Run with `cargo bench --bench socketio_rooms` (options after `--`: `--clients N --rooms N
//! --events N --rate N`).
//!
//! Socket.IO rooms through the real pipeline: starts the herald binary (SQLite store,
//! `socketio` sink, no sources), connects N WebSocket clients speaking Engine.IO v4 /
//! Socket.IO v5 on loopback, each joining one of the rooms `topic:room-<k>`, then publishes
//! announcements through `POST /api/v1/publish` at a steady rate, each to one room's topic in
//! turn, and reports deliveries per second, latency from publish to receipt (p50/p99/max),
//! loss, and the server's resident memory per connection. Targets: 0 loss, p99 under 1 s, at
//! most 32 KiB RSS per connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

mod common;
use common::rss_kib;

struct Options {
    clients: usize,
    rooms: usize,
    events: usize,
    rate: f64,
}

fn options() -> Options {
    Options {
        clients: common::option("--clients", 10_000),
        rooms: common::option("--rooms", 100),
        events: common::option("--events", 200),
        rate: common::option("--rate", 20.0),
    }
}

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// The latency (µs) of a `notification` packet stamped `t=<nanos>` in its body.
fn stamp_latency(packet: &str, arrived: u128) -> Option<u64> {
    const MARK: &str = "\"body\":\"t=";
    let (_, after) = packet.split_once(MARK)?;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    let sent: u128 = digits.parse().ok()?;
    u64::try_from(arrived.saturating_sub(sent) / 1000).ok()
}

/// One Socket.IO client over a raw WebSocket: handshake, join `room`, answer pings, and record
/// each notification's latency until `expected` arrived or `deadline`.
async fn client(
    port: u16,
    room: String,
    name: String,
    joined: Arc<AtomicUsize>,
    expected: usize,
    deadline: Instant,
) -> Vec<u64> {
    let url = format!("ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket");
    let mut ws = loop {
        match tokio_tungstenite::connect_async(&url).await {
            Ok((ws, _)) => break ws,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    let mut latencies = Vec::with_capacity(expected);
    let mut announced = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(Some(Ok(message))) = tokio::time::timeout(left, ws.next()).await else {
            break;
        };
        let Message::Text(text) = message else {
            continue;
        };
        let arrived = now_nanos();
        let packet = text.as_str();
        if packet.starts_with('0') {
            ws.send(Message::text("40")).await.unwrap();
        } else if packet.starts_with("40") {
            let join = serde_json::json!(["joined", {"room": room, "name": name}]);
            ws.send(Message::text(format!("42{join}"))).await.unwrap();
        } else if packet == "2" {
            ws.send(Message::text("3")).await.unwrap();
        } else if packet.starts_with("42[\"notification\"") {
            if let Some(latency) = stamp_latency(packet, arrived) {
                latencies.push(latency);
            }
            if latencies.len() >= expected {
                break;
            }
        } else if !announced && packet.starts_with("42[\"status\"") && packet.contains(&name) {
            announced = true;
            joined.fetch_add(1, Ordering::SeqCst);
        }
    }
    latencies
}

#[tokio::main]
async fn main() {
    let opts = options();
    let rest = format!(
        "[sources]\n\n[sinks.rooms]\ntype = \"socketio\"\nmax_clients = {}\n",
        opts.clients + 100
    );
    let server = common::Server::start(None, "", &rest).await;
    let (pid, http, port) = (server.pid(), server.http.clone(), server.port);
    let rss_idle = rss_kib(pid);
    println!(
        "socketio_rooms: {} WebSocket clients in {} rooms, {} notifications at {}/s",
        opts.clients, opts.rooms, opts.events, opts.rate
    );
    // Each room gets every `rooms`-th notification.
    let per_room = |room: usize| (opts.events + opts.rooms - 1 - room) / opts.rooms;
    let joined = Arc::new(AtomicUsize::new(0));
    let publish_time = Duration::from_secs_f64(opts.events as f64 / opts.rate);
    let deadline = Instant::now() + Duration::from_secs(180) + publish_time;
    let connect_start = Instant::now();
    let mut tasks = Vec::with_capacity(opts.clients);
    let mut expected = 0;
    for c in 0..opts.clients {
        let room = c % opts.rooms;
        expected += per_room(room);
        tasks.push(tokio::spawn(client(
            port,
            format!("topic:room-{room}"),
            format!("c{c}"),
            Arc::clone(&joined),
            per_room(room),
            deadline,
        )));
    }
    while joined.load(Ordering::SeqCst) < opts.clients {
        assert!(
            connect_start.elapsed() < Duration::from_secs(180),
            "only {} clients joined",
            joined.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let connect_time = connect_start.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_connected = rss_kib(pid);

    let url = server.url("/api/v1/publish");
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / opts.rate));
    let mut rss_peak = rss_connected;
    let send_start = Instant::now();
    for i in 0..opts.events {
        ticker.tick().await;
        let body = serde_json::json!({"topic": format!("room-{}", i % opts.rooms), "title": format!("bench {i}"), "body": format!("t={}", now_nanos())});
        let r = http
            .post(&url)
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
    let mut latencies = Vec::with_capacity(expected);
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let total_time = send_start.elapsed();
    rss_peak = rss_peak.max(rss_kib(pid));
    server.stop();

    latencies.sort_unstable();
    let received = latencies.len();
    let per_conn = rss_connected.saturating_sub(rss_idle) as f64 / opts.clients as f64;
    println!(
        "connected and joined {} clients in {:.1} s",
        opts.clients,
        connect_time.as_secs_f64()
    );
    println!(
        "deliveries: {received} of {expected} (loss {})",
        expected - received.min(expected)
    );
    println!(
        "throughput: {:.0} deliveries/s over {:.1} s",
        received as f64 / total_time.as_secs_f64(),
        total_time.as_secs_f64()
    );
    println!(
        "latency publish→client: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&latencies, 0.50) as f64 / 1000.0,
        percentile(&latencies, 0.99) as f64 / 1000.0,
        latencies.last().copied().unwrap_or(0) as f64 / 1000.0
    );
    println!(
        "server RSS: {:.1} MiB idle, {:.1} MiB with clients, {:.1} MiB peak; {:.1} KiB per connection",
        rss_idle as f64 / 1024.0,
        rss_connected as f64 / 1024.0,
        rss_peak as f64 / 1024.0,
        per_conn
    );
}
