//! What a hostile or careless client cannot do to herald's HTTP server: send bodies past the
//! cap on any route, get plain-text or echoing errors, hold sockets open without sending a
//! request, exhaust file descriptors, or make herald buffer a history replay it never reads.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::db::TestDb;
use crate::harness::{Herald, client, merge};
use crate::process::{Process, free_port};

const TOKEN: &str = "limits-admin-token-0123456789";

async fn start(db: &TestDb, http: Value, sse: Value) -> Herald {
    let mut http_table = json!({ "admin_token": TOKEN });
    merge(&mut http_table, http);
    Herald::start(
        json!({
            "store": { "url": db.url },
            "http": http_table,
            "sources": {},
            "sinks": { "sse": sse },
        }),
        vec![],
    )
    .await
}

async fn json_error(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let content_type = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{status} answered {content_type}"
    );
    (status, r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_publish_api_takes_one_json_object_and_every_error_is_json() {
    let db = TestDb::sqlite();
    let herald = start(&db, json!({}), json!({})).await;
    let url = herald.url("/api/v1/publish");
    let post = |body: &'static str, content_type: &'static str| {
        client()
            .post(&url)
            .bearer_auth(TOKEN)
            .header("content-type", content_type)
            .body(body)
    };
    let ok = r#"{"topic": "t", "title": "x", "body": "y"}"#;
    let (status, body) = json_error(
        post(
            r#"{"topic": "t", "title": "x", "body": "y"} trailing"#,
            "application/json",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = json_error(
        post(r#"["t", "x", "y"]"#, "application/json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("the body must be a JSON object"))
    );
    let (status, _) = json_error(post(ok, "text/plain").send().await.unwrap()).await;
    assert_eq!(status, 415);
    assert_eq!(
        post(ok, "application/json; charset=utf-8")
            .send()
            .await
            .unwrap()
            .status(),
        202
    );
    // 405 and 404 and 413 as JSON, on herald's routes and on the sinks' alike.
    let (status, body) = json_error(client().delete(&url).send().await.unwrap()).await;
    assert_eq!(status, 405, "{body}");
    let (status, _) = json_error(client().post(herald.url("/stream")).send().await.unwrap()).await;
    assert_eq!(status, 405);
    let (status, _) = json_error(client().get(herald.url("/nope")).send().await.unwrap()).await;
    assert_eq!(status, 404);
    for path in ["/api/v1/publish", "/stream", "/nope"] {
        let r = client()
            .post(herald.url(path))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(vec![b'x'; 1024 * 1024])
            .send()
            .await
            .unwrap();
        let (status, body) = json_error(r).await;
        assert!(
            status == 413 || status == 405 || status == 404,
            "{path}: {status}"
        );
        if path == "/api/v1/publish" {
            assert_eq!(status, 413, "{body}");
        }
    }
    // Whatever the client sends, an error message stays short.
    let long_key = format!(
        r#"{{"topic": "t", "title": "x", "body": "y", "{}": 1}}"#,
        "k".repeat(30_000)
    );
    let r = client()
        .post(&url)
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(long_key)
        .send()
        .await
        .unwrap();
    let (status, body) = json_error(r).await;
    assert_eq!(status, 400);
    assert!(
        body.to_string().len() < 1_000,
        "{} bytes",
        body.to_string().len()
    );
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_half_sent_requests_are_closed_and_capped() {
    let db = TestDb::sqlite();
    let herald = start(
        &db,
        json!({"header_timeout": "1s", "max_pending_connections": 20}),
        json!({}),
    )
    .await;
    let mut silent = Vec::new();
    for i in 0..20 {
        let mut s = TcpStream::connect(herald.addr).await.unwrap();
        if i % 2 == 0 {
            s.write_all(b"GET /healthz HT").await.unwrap();
        }
        silent.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Over the cap: not served until a silent one is closed (it waits, it is not refused).
    let mut extra = TcpStream::connect(herald.addr).await.unwrap();
    extra
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: herald\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    assert!(
        tokio::time::timeout(Duration::from_millis(300), extra.read(&mut buf))
            .await
            .is_err(),
        "served while 20 silent connections held every slot"
    );
    let waiting = Instant::now();
    // The silent ones are closed after the header timeout.
    let started = Instant::now();
    for mut s in silent {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .expect("a silent socket is closed after http.header_timeout")
            .unwrap_or(0);
        assert!(
            n == 0 || buf.starts_with(b"HTTP/1.1 408"),
            "{:?}",
            &buf[..n]
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // The waiting connection is served once slots free.
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), extra.read_to_end(&mut answer))
        .await
        .expect("the waiting connection was served")
        .unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert!(
        waiting.elapsed() < Duration::from_secs(3),
        "{:?}",
        waiting.elapsed()
    );
    // And the server serves again.
    assert_eq!(
        client()
            .get(herald.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_file_descriptors_herald_backs_off_and_serves_again() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("herald.toml");
    std::fs::write(
        &config,
        format!(
            "[http]\nlisten = \"127.0.0.1:{port}\"\nheader_timeout = \"1s\"\n\n[store]\nurl = \"sqlite://{}\"\n\n\
             [sources]\n\n[sinks.sse]\n",
            dir.path().join("h.db").display()
        ),
    )
    .unwrap();
    let log = dir.path().join("herald.log");
    let process = Process::start(&config, port, &log, Some("ulimit -n 64")).await;
    // More silent sockets than herald has descriptors.
    let mut silent = Vec::new();
    for _ in 0..150 {
        silent.push(TcpStream::connect(process.addr()).await.unwrap());
    }
    // Within a few header timeouts herald has closed them and answers again.
    let started = Instant::now();
    let answered = loop {
        let attempt = tokio::time::timeout(
            Duration::from_secs(2),
            client().get(process.url("/healthz")).send(),
        )
        .await;
        if let Ok(Ok(r)) = attempt
            && r.status() == 200
        {
            break true;
        }
        if started.elapsed() > Duration::from_secs(15) {
            break false;
        }
    };
    let log_text = process.log();
    assert!(answered, "herald did not serve again\n{log_text}");
    assert!(
        log_text.matches("cannot accept connections").count() <= 3,
        "logged once per episode, not per attempt:\n{log_text}"
    );
    drop(silent);
    process.terminate().await;
}

/// Reads an HTTP/1.1 chunked response: returns the size of each chunk until `until` says the
/// bytes so far are enough.
async fn chunks(stream: &mut TcpStream, until: impl Fn(&[u8]) -> bool) -> (Vec<usize>, Vec<u8>) {
    let mut raw = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let head_end = loop {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before the headers");
        raw.extend_from_slice(&buf[..n]);
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_lowercase();
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    let mut pending = raw.split_off(head_end);
    let mut sizes = Vec::new();
    let mut body = Vec::new();
    loop {
        // Parse whole chunks out of `pending`.
        while let Some(line_end) = pending.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(
                std::str::from_utf8(&pending[..line_end]).unwrap().trim(),
                16,
            )
            .unwrap();
            if pending.len() < line_end + 2 + size + 2 {
                break;
            }
            sizes.push(size);
            body.extend_from_slice(&pending[line_end + 2..line_end + 2 + size]);
            pending.drain(..line_end + 2 + size + 2);
        }
        if until(&body) {
            return (sizes, body);
        }
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed mid-stream");
        pending.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_replay_is_sent_in_bounded_chunks_and_a_client_that_stops_reading_is_dropped() {
    let db = TestDb::sqlite();
    let herald = start(
        &db,
        json!({"write_timeout": "1s"}),
        json!({"history": 1024}),
    )
    .await;
    let body = "x".repeat(3_900);
    for n in 0..300 {
        let r = client()
            .post(herald.url("/api/v1/publish"))
            .bearer_auth(TOKEN)
            .json(&json!({"topic": "t", "title": format!("m{n}"), "body": body}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    let request = b"GET /stream HTTP/1.1\r\nHost: herald\r\nLast-Event-ID: -1\r\n\r\n";
    // Wait until the dispatcher has put all 300 in the history.
    let deadline = Instant::now() + Duration::from_secs(20);
    let (sizes, replay) = loop {
        let mut reader = TcpStream::connect(herald.addr).await.unwrap();
        reader.write_all(request).await.unwrap();
        let result = tokio::time::timeout(
            Duration::from_secs(3),
            chunks(&mut reader, |b| {
                String::from_utf8_lossy(b).matches("\nid: ").count()
                    + usize::from(b.starts_with(b"id: "))
                    >= 300
            }),
        )
        .await;
        if let Ok(done) = result {
            break done;
        }
        assert!(
            Instant::now() < deadline,
            "the history never held 300 messages"
        );
    };
    let total: usize = sizes.iter().sum();
    assert!(total > 1_000_000, "{total} bytes replayed");
    let largest = *sizes.iter().max().unwrap();
    assert!(largest <= 16 * 1024, "a chunk of {largest} bytes");
    assert!(String::from_utf8_lossy(&replay).contains("m299"));

    // A client with a small window that reads nothing: dropped after write_timeout.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket.connect(herald.addr).await.unwrap();
    stalled.write_all(request).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut buf = vec![0u8; 64 * 1024];
    let mut received = 0;
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stalled.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received += n,
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the stalled client was still connected after {received} bytes"
    );
    assert!(
        received < total,
        "it got everything ({received} bytes): it was not dropped"
    );
    herald.shutdown().await;
}
