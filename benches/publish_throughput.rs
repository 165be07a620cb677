//! Run with `cargo bench --bench publish_throughput` (options after `--`: `--seconds N`,
//! `--in-flight N`, `--postgres URL` to add the PostgreSQL run).
//!
//! Durable publish throughput: `POST /api/v1/publish` as fast as the server answers, with a
//! fixed number of requests in flight, while 10 SSE clients follow the stream. A 202 means the
//! message is committed (publishes that arrive together share a transaction). Reported:
//! publishes per second, and whether every client received every message.
//! Target: at least 10,000/s on SQLite and on PostgreSQL.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;
#[path = "common/postgres.rs"]
mod postgres;

const CLIENTS: usize = 10;

/// An SSE client counting the `bench` messages it receives.
async fn follow(
    port: u16,
    counted: Arc<AtomicUsize>,
    connected: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream
        .write_all(format!("GET /stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    connected.fetch_add(1, Ordering::SeqCst);
    let mut buf = vec![0_u8; 64 * 1024];
    let mut tail: Vec<u8> = Vec::new();
    const MARK: &[u8] = b"\"title\":\"bench ";
    while !stop.load(Ordering::SeqCst) {
        let n = match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await
        {
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => n,
            Err(_) => continue,
        };
        tail.extend_from_slice(&buf[..n]);
        let hits = tail.windows(MARK.len()).filter(|w| *w == MARK).count();
        counted.fetch_add(hits, Ordering::SeqCst);
        let keep = tail.len().min(MARK.len() - 1);
        tail.drain(..tail.len() - keep);
    }
}

async fn run(label: &str, store: Option<&str>) {
    let seconds = common::option("--seconds", 10);
    let in_flight = common::option("--in-flight", 8_usize);
    let server = common::Server::start(store, "", "[sources]\n\n[sinks.sse]\n").await;
    let counted = Arc::new(AtomicUsize::new(0));
    let connected = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        clients.push(tokio::spawn(follow(
            server.port,
            Arc::clone(&counted),
            Arc::clone(&connected),
            Arc::clone(&stop),
        )));
    }
    while connected.load(Ordering::SeqCst) < CLIENTS {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let url = server.url("/api/v1/publish");
    let published = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut publishers = Vec::new();
    for p in 0..in_flight {
        let (http, url, published) = (server.http.clone(), url.clone(), Arc::clone(&published));
        publishers.push(tokio::spawn(async move {
            let mut i = 0;
            while Instant::now() < until {
                let body = serde_json::json!({"topic": "bench", "title": format!("bench {p}-{i}"), "body": "b"});
                let r = http
                    .post(&url)
                    .bearer_auth(common::TOKEN)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 202);
                published.fetch_add(1, Ordering::SeqCst);
                i += 1;
            }
        }));
    }
    for p in publishers {
        p.await.unwrap();
    }
    let elapsed = started.elapsed();
    let total = published.load(Ordering::SeqCst);
    let expected = total * CLIENTS;
    let wait = Instant::now();
    while counted.load(Ordering::SeqCst) < expected && wait.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let caught_up = wait.elapsed();
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        let _ended = c.await;
    }
    let rss = common::rss_kib(server.pid());
    server.stop();
    println!(
        "{label}: {total} publishes in {:.1} s with {in_flight} in flight: {:.0}/s; \
         {CLIENTS} SSE clients received {} of {expected} ({:.1} s after the last publish); \
         server RSS {:.1} MiB",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        counted.load(Ordering::SeqCst),
        caught_up.as_secs_f64(),
        rss as f64 / 1024.0
    );
}

#[tokio::main]
async fn main() {
    run("sqlite", None).await;
    let Some(admin) = postgres::postgres_admin() else {
        println!("PostgreSQL run skipped: pass --postgres URL");
        return;
    };
    let url = postgres::fresh_postgres(&admin, "herald_bench_publish").await;
    run("postgres", Some(&url)).await;
}
