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
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

mod common;
#[path = "common/fanout.rs"]
mod fanout;
use common::rss_kib;
use fanout::{Report, now_nanos};

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
    let mut latencies = Vec::with_capacity(expected);
    let mut announced = false;
    // Like the JavaScript client, connect again when the connection closes before joining
    // (under a storm of handshakes the server may time one out).
    while !announced && Instant::now() < deadline {
        let connected = tokio::time::timeout(
            Duration::from_secs(10),
            tokio_tungstenite::connect_async(&url),
        )
        .await;
        let Ok(Ok((ws, _))) = connected else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        session(
            ws,
            &room,
            &name,
            &joined,
            &mut announced,
            &mut latencies,
            expected,
            deadline,
        )
        .await;
    }
    latencies
}

/// One connection's life: see [`client`].
#[allow(clippy::too_many_arguments)]
async fn session(
    mut ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    room: &str,
    name: &str,
    joined: &AtomicUsize,
    announced: &mut bool,
    latencies: &mut Vec<u64>,
    expected: usize,
    deadline: Instant,
) {
    // A connection that has not joined in this long is given up and made again.
    let join_by = Instant::now() + Duration::from_secs(15);
    loop {
        let until = if *announced {
            deadline
        } else {
            join_by.min(deadline)
        };
        let left = until.saturating_duration_since(Instant::now());
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
        } else if !*announced
            && packet.starts_with("42[\"status\"")
            && packet.contains(&format!("\"{name} has entered"))
        {
            *announced = true;
            joined.fetch_add(1, Ordering::SeqCst);
        }
    }
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

    Report {
        clients: opts.clients,
        connect_time,
        expected,
        latencies,
        total_time,
        rss_idle,
        rss_connected,
        rss_peak,
    }
    .print();
}
