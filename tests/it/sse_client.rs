//! An SSE client for tests: collects every notification a stream delivers.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eventsource_stream::Eventsource;
use futures::StreamExt;
use sink_api::Notification;

use crate::expected::Got;

/// A connected stream and what it received so far.
pub(crate) struct SseClient {
    received: Arc<Mutex<Vec<Notification>>>,
    /// When each notification arrived.
    arrivals: Arc<Mutex<Vec<std::time::Instant>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SseClient {
    /// Connects to `/stream{query}`, resuming after `last_event_id` if given. Returns once the
    /// server accepted the stream.
    pub(crate) async fn connect(addr: SocketAddr, query: &str, last_event_id: Option<i64>) -> Self {
        herald::app::install_crypto_provider();
        let client = sink_api::http::client_builder()
            .timeout(Duration::from_secs(3600))
            .build()
            .unwrap();
        let mut request = client.get(format!("http://{addr}/stream{query}"));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let received = Arc::new(Mutex::new(Vec::new()));
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let (sink, arrived) = (Arc::clone(&received), Arc::clone(&arrivals));
        let task = tokio::spawn(async move {
            let mut events = response.bytes_stream().eventsource();
            while let Some(Ok(event)) = events.next().await {
                let n: Notification = serde_json::from_str(&event.data).unwrap();
                assert_eq!(event.id, n.id.to_string(), "SSE id is the delivery id");
                sink.lock().unwrap().push(n);
                arrived.lock().unwrap().push(std::time::Instant::now());
            }
        });
        Self {
            received,
            arrivals,
            task,
        }
    }

    pub(crate) fn received(&self) -> Vec<Notification> {
        self.received.lock().unwrap().clone()
    }

    /// When each of [`SseClient::received`] arrived.
    pub(crate) fn received_at(&self) -> Vec<std::time::Instant> {
        self.arrivals.lock().unwrap().clone()
    }

    pub(crate) fn last_id(&self) -> Option<i64> {
        self.received().last().map(|n| n.id)
    }

    pub(crate) fn stop(self) {
        self.task.abort();
    }
}

/// The notifications as expected.json entries, once per delivery id (a delivery re-sent after
/// a crash carries the same id, which is how SSE clients recognise it).
pub(crate) fn as_got(received: &[Notification]) -> Vec<Got> {
    let mut seen = std::collections::HashSet::new();
    received
        .iter()
        .filter(|n| seen.insert(n.id))
        .map(|n| serde_json::from_value(n.data.clone()).unwrap())
        .collect()
}
