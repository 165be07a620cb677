//! The SSE sink over real HTTP: framing, resume, filters, heartbeats, back-pressure and limits.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use eventsource_stream::Eventsource;
use futures::StreamExt;
use sink_api::{Notification, Recipient, Sink};
use sink_sse::{Config, SseSink};

fn note(id: i64, kind: &str, match_id: &str, teams: &[&str]) -> Notification {
    Notification {
        id,
        event_id: format!("e{id}"),
        kind: kind.into(),
        match_id: Some(match_id.into()),
        topic: None,
        teams: teams.iter().map(|t| (*t).to_owned()).collect(),
        title: format!("title {id}"),
        body: "body".into(),
        locale: "en".into(),
        data: serde_json::json!({"n": id}),
        replaces: None,
        spoiler_free: None,
        created_at_ms: 0,
    }
}

async fn serve(config: Config) -> (SseSink, SocketAddr) {
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
    let sink = SseSink::new(config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router: axum::Router = sink.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (sink, addr)
}

fn client() -> reqwest::Client {
    sink_api::http::client_builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

async fn open(addr: SocketAddr, query: &str, last_id: Option<&str>) -> reqwest::Response {
    let mut request = client().get(format!("http://{addr}/stream{query}"));
    if let Some(id) = last_id {
        request = request.header("Last-Event-ID", id);
    }
    request.send().await.unwrap()
}

/// Reads events until `n` arrived or `timeout` passed.
async fn take(
    response: reqwest::Response,
    n: usize,
    timeout: Duration,
) -> Vec<(String, Notification)> {
    let mut events = response.bytes_stream().eventsource();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + timeout;
    while out.len() < n {
        match tokio::time::timeout_at(deadline, events.next()).await {
            Ok(Some(Ok(e))) => out.push((e.id.clone(), serde_json::from_str(&e.data).unwrap())),
            _ => break,
        }
    }
    out
}

async fn send(sink: &SseSink, n: &Notification) {
    sink.send(&Recipient::broadcast(), n).await.unwrap();
}

#[tokio::test]
async fn every_event_has_an_id_and_the_stream_starts_with_retry() {
    let (sink, addr) = serve(Config::default()).await;
    let response = open(addr, "", None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["cache-control"], "no-cache");
    send(&sink, &note(41, "goal", "m1", &["France"])).await;
    let mut body = response.bytes_stream();
    let mut text = String::new();
    while !text.contains("\n\nid: 41") || !text.ends_with("\n\n") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), body.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(text.starts_with("retry: 3000\n\n"), "{text}");
    assert!(text.contains("id: 41\ndata: {"), "{text}");
}

#[tokio::test]
async fn a_client_resumes_after_its_last_event_id_by_header_or_query() {
    let (sink, addr) = serve(Config::default()).await;
    for id in 1..=5 {
        send(&sink, &note(id, "goal", "m1", &["France"])).await;
    }
    let resumed = take(open(addr, "", Some("3")).await, 2, Duration::from_secs(5)).await;
    assert_eq!(
        resumed
            .iter()
            .map(|(id, _)| id.as_str())
            .collect::<Vec<_>>(),
        ["4", "5"]
    );
    let resumed = take(
        open(addr, "?last_event_id=4", None).await,
        1,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(resumed[0].1.id, 5);
    // Then it continues live, without repeating what it resumed.
    let response = open(addr, "", Some("5")).await;
    send(&sink, &note(6, "goal", "m1", &["France"])).await;
    let live = take(response, 1, Duration::from_secs(5)).await;
    assert_eq!(live[0].1.id, 6);
}

#[tokio::test]
async fn history_seeded_from_before_a_restart_serves_resumes() {
    let (sink, addr) = serve(Config::default()).await;
    sink.hub()
        .preload([note(7, "goal", "m1", &[]), note(8, "goal", "m1", &[])]);
    let resumed = take(open(addr, "", Some("7")).await, 1, Duration::from_secs(5)).await;
    assert_eq!(resumed[0].1.id, 8);
}

#[tokio::test]
async fn filters_select_by_team_match_and_kind() {
    let (sink, addr) = serve(Config::default()).await;
    let by_team = open(addr, "?team=croatia", None).await;
    let by_match = open(addr, "?match=m2", None).await;
    let by_kind = open(addr, "?kind=full_time&kind=half_time", None).await;
    send(&sink, &note(1, "goal", "m1", &["France", "Croatia"])).await;
    send(&sink, &note(2, "goal", "m2", &["Brazil", "Germany"])).await;
    send(&sink, &note(3, "full_time", "m2", &["Brazil", "Germany"])).await;
    let ids = |events: Vec<(String, Notification)>| {
        events.into_iter().map(|(_, n)| n.id).collect::<Vec<_>>()
    };
    assert_eq!(ids(take(by_team, 1, Duration::from_secs(2)).await), [1]);
    assert_eq!(ids(take(by_match, 2, Duration::from_secs(2)).await), [2, 3]);
    assert_eq!(ids(take(by_kind, 1, Duration::from_secs(2)).await), [3]);
    let bad = open(addr, "?teams=croatia", None).await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("`teams`"));
}

#[tokio::test]
async fn idle_streams_get_a_heartbeat_comment() {
    let (_sink, addr) = serve(Config {
        heartbeat: Duration::from_secs(1),
        ..Config::default()
    })
    .await;
    let response = open(addr, "", None).await;
    let started = Instant::now();
    let mut body = response.bytes_stream();
    let mut text = String::new();
    while !text.contains(": keep-alive") {
        let chunk = tokio::time::timeout(Duration::from_secs(3), body.next())
            .await
            .expect("no heartbeat")
            .unwrap()
            .unwrap();
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "heartbeat came too early"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_does_not_stall_the_others() {
    let (sink, addr) = serve(Config::default()).await;
    // This one never reads its body.
    let _stalled = open(addr, "", None).await;
    let reader = open(addr, "", None).await;
    let total = 5000;
    let collector = tokio::spawn(take(reader, total, Duration::from_secs(20)));
    let started = Instant::now();
    for id in 1..=total {
        let mut n = note(i64::try_from(id).unwrap(), "goal", "m1", &[]);
        n.body = "x".repeat(400);
        send(&sink, &n).await;
        if id % 256 == 0 {
            // Let the reader's connection task run, as a busy server would.
            tokio::task::yield_now().await;
        }
    }
    let publish_time = started.elapsed();
    let got = collector.await.unwrap();
    assert!(
        publish_time < Duration::from_secs(2),
        "publishing waited for a client: {publish_time:?}"
    );
    assert_eq!(got.len(), total, "the reading client got everything");
    assert!(got.windows(2).all(|w| w[0].1.id < w[1].1.id), "in order");
}

#[tokio::test]
async fn connections_beyond_the_limit_are_refused_and_closing_ends_streams() {
    let (sink, addr) = serve(Config {
        max_clients: 1,
        ..Config::default()
    })
    .await;
    let first = open(addr, "", None).await;
    assert_eq!(first.status(), 200);
    let second = open(addr, "", None).await;
    assert_eq!(second.status(), 503);
    assert!(second.headers().contains_key("retry-after"));
    sink.hub().close();
    let rest = tokio::time::timeout(Duration::from_secs(5), first.bytes()).await;
    assert!(rest.is_ok(), "the stream ends when the hub closes");
    assert!(
        sink.send(&Recipient::broadcast(), &note(1, "goal", "m", &[]))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn spoilers_off_streams_the_spoiler_free_text_and_data() {
    let (sink, addr) = serve(Config::default()).await;
    let mut goal = note(7, "goal", "m1", &["France"]);
    goal.title = "GOAL! France 1-0 Croatia".into();
    goal.data = serde_json::json!({"score": {"home": 1, "away": 0}});
    goal.spoiler_free = Some(sink_api::SpoilerFree {
        title: "Goal in France v Croatia (62')".into(),
        body: String::new(),
        data: serde_json::json!({"minute": 62}),
    });
    let announcement = Notification {
        match_id: None,
        ..note(8, "announcement", "", &[])
    };
    send(&sink, &goal).await;
    send(&sink, &announcement).await;
    let hidden = take(
        open(addr, "?spoilers=off&last_event_id=0", None).await,
        2,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(hidden[0].1.title, "Goal in France v Croatia (62')");
    assert_eq!(hidden[0].1.data, serde_json::json!({"minute": 62}));
    assert_eq!(hidden[0].1.spoiler_free, None);
    // Without a spoiler-free text (an announcement), the notification as it is.
    assert_eq!(hidden[1].1, announcement);
    // By default, the full notification, carrying the hidden text for clients that show it
    // on demand (the page).
    let shown = take(
        open(addr, "?last_event_id=0", None).await,
        1,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(shown[0].1, goal);
    let bad = open(addr, "?spoilers=maybe", None).await;
    assert_eq!(bad.status(), 400);
}
