//! Run with `cargo bench --bench sse_stalled` (options after `--`: `--clients N --history N`).
//!
//! What clients that resume from the start of a full history and then never read cost the
//! server: starts the herald binary (SQLite store, SSE sink, `http.write_timeout = 10s`),
//! publishes `--history` messages, connects `--clients` raw SSE clients with
//! `Last-Event-ID: -1` that read nothing, and reports the server's resident memory and the
//! kernel's TCP memory while they hang on, then again after the write timeout dropped them.
//! Target: a stalled client costs about what an idle one does, and is gone after the timeout.

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

mod common;
use common::{option, rss_kib};

/// Descriptors the server process holds (its open connections, plus a few files).
fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

/// The kernel's TCP buffer memory (all sockets), in KiB, and the sockets in use.
fn tcp_kernel() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/net/sockstat").unwrap_or_default();
    let line = text.lines().find(|l| l.starts_with("TCP:")).unwrap_or("");
    let field = |name: &str| -> u64 {
        let words: Vec<&str> = line.split_whitespace().collect();
        words
            .iter()
            .position(|w| *w == name)
            .and_then(|i| words.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("mem") * 4, field("inuse"))
}

#[tokio::main]
async fn main() {
    let clients = option("--clients", 2_000);
    let history = option("--history", 1_024);
    let server = common::Server::start(
        None,
        "write_timeout = \"10s\"",
        &format!(
            "[sources]\n\n[sinks.sse]\nhistory = {history}\nmax_clients = {}\n",
            clients + 100
        ),
    )
    .await;
    let (port, pid, http) = (server.port, server.pid(), server.http.clone());
    let base = server.url("");
    for i in 0..history {
        let r = http
            .post(format!("{base}/api/v1/publish"))
            .bearer_auth(common::TOKEN)
            .json(&serde_json::json!({"topic": "bench", "title": format!("history {i}"), "body": "x".repeat(120)}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = rss_kib(pid);
    let (kernel_idle, _) = tcp_kernel();
    let fds_idle = fds(pid);
    println!("sse_stalled: {clients} clients resuming {history} messages, reading nothing");

    let mut sockets = Vec::with_capacity(clients);
    for _ in 0..clients {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(
            format!("GET /stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nLast-Event-ID: -1\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
        sockets.push(s);
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss_stalled = rss_kib(pid);
    let (kernel_stalled, inuse_stalled) = tcp_kernel();
    println!(
        "stalled: server RSS {:.1} MiB (+{:.1} KiB per client), kernel TCP memory {:.1} MiB (+{:.1} KiB per client, both ends), {inuse_stalled} TCP sockets, server holds {} connections",
        rss_stalled as f64 / 1024.0,
        rss_stalled.saturating_sub(rss_idle) as f64 / clients as f64,
        kernel_stalled as f64 / 1024.0,
        kernel_stalled.saturating_sub(kernel_idle) as f64 / clients as f64,
        fds(pid).saturating_sub(fds_idle),
    );
    // The write timeout (10 s) drops them; give it a margin.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let rss_after = rss_kib(pid);
    let (kernel_after, inuse_after) = tcp_kernel();
    println!(
        "after http.write_timeout: server RSS {:.1} MiB (freed memory stays with the allocator), kernel TCP memory {:.1} MiB, {inuse_after} TCP sockets, server holds {} connections",
        rss_after as f64 / 1024.0,
        kernel_after as f64 / 1024.0,
        fds(pid).saturating_sub(fds_idle),
    );
    drop(sockets);
    server.stop();
}
