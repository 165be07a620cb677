//! The fuzz entry point of `GET /stream`'s resume (herald's `fuzz/` targets and their corpus
//! test): the `Last-Event-ID` header and the query go through the real handler, against a hub
//! whose history has ids out of order and some already dropped.
//!
//! Not an API: hidden from the docs, and free to change with the fuzz targets.

use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue};
use futures::{FutureExt as _, StreamExt as _};
use sink_api::Notification;

use crate::config::Config;
use crate::hub::Hub;

/// The delivery ids published, in order: 5 was committed after 7, and the history keeps the
/// last four only.
const PUBLISHED: [i64; 6] = [1, 2, 3, 7, 5, 6];

fn runtime() -> Option<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<Option<tokio::runtime::Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()
        })
        .as_ref()
}

fn notification(id: i64) -> Notification {
    Notification {
        id,
        event_id: format!("e{id}"),
        kind: "goal".to_owned(),
        match_id: Some("m1".to_owned()),
        topic: None,
        teams: vec!["France".to_owned(), "Croatia".to_owned()],
        title: format!("GOAL {id}"),
        body: String::new(),
        locale: "en".to_owned(),
        data: serde_json::Value::Null,
        replaces: None,
        spoiler_free: None,
        created_at_ms: id,
    }
}

/// One `GET /stream`: the input is the `Last-Event-ID` header's value, a newline, and the
/// query string (`team=France&last_event_id=3`); an empty first line sends no header, no
/// newline no query. Reads what the stream has ready (the `retry:` line and the history the
/// client missed), and checks that each resumed frame is one the hub published.
pub fn last_event_id(data: &[u8]) {
    let Some(runtime) = runtime() else {
        return;
    };
    let (header, query) = match data.iter().position(|b| *b == b'\n') {
        Some(at) => (
            data.get(..at).unwrap_or_default(),
            Some(String::from_utf8_lossy(data.get(at + 1..).unwrap_or_default()).into_owned()),
        ),
        None => (data, None),
    };
    let mut headers = HeaderMap::new();
    if !header.is_empty()
        && let Ok(value) = HeaderValue::from_bytes(header)
    {
        headers.insert("last-event-id", value);
    }
    let hub = Hub::new(Config {
        history: 4,
        heartbeat: Duration::from_secs(15),
        retry: Duration::from_secs(3),
        max_clients: 4,
    });
    hub.preload(PUBLISHED.map(notification));
    runtime.block_on(async move {
        let response = crate::stream::handler(State(hub), headers, RawQuery(query)).await;
        let mut body = response.into_body().into_data_stream();
        let mut read = Vec::new();
        // What is ready now; the rest would wait for the next heartbeat.
        while let Some(Some(Ok(chunk))) = body.next().now_or_never() {
            read.extend_from_slice(&chunk);
        }
        let text = String::from_utf8_lossy(&read);
        for line in text.lines() {
            if let Some(id) = line.strip_prefix("id: ") {
                assert!(
                    id.parse().is_ok_and(|id: i64| PUBLISHED.contains(&id)),
                    "resumed a frame never published: {line:?}"
                );
            }
        }
    });
}
