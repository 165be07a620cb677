//! herald running in-process on port 0, for tests that drive it through its real interfaces.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use herald::app::App;
use herald::clock::Clock;
use herald::config::{Config, RouteConfig};
use herald::routing::{Scope, Subscription};
use herald::store::Store;
use sink_api::Recipient;
use sink_api::testing::MemorySink;

/// A running herald.
pub(crate) struct Herald {
    pub(crate) addr: SocketAddr,
    pub(crate) store: Store,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Herald {
    /// Starts herald from a config tree, plus recording sinks added in code.
    pub(crate) async fn start(config: serde_json::Value, sinks: Vec<(&str, MemorySink)>) -> Self {
        Self::start_clocked(config, sinks, Clock::system()).await
    }

    /// [`Herald::start`], reading quiet hours against `clock`.
    pub(crate) async fn start_clocked(
        config: serde_json::Value,
        sinks: Vec<(&str, MemorySink)>,
        clock: Clock,
    ) -> Self {
        let config = Config::from_value(config).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut builder = App::builder(config).listener(listener).clock(clock);
        for (id, sink) in sinks {
            builder = builder.sink(id, sink, &RouteConfig::default());
        }
        let app = builder.build().await.unwrap();
        let addr = app.local_addr().unwrap();
        let store = app.store().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.run(async move {
            let _stopped = stopped.await;
        }));
        Self {
            addr,
            store,
            stop,
            task,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Publishes an announcement through the publish API with the admin `token`.
    pub(crate) async fn publish(&self, token: &str, topic: &str, title: &str) {
        let r = client()
            .post(self.url("/api/v1/publish"))
            .bearer_auth(token)
            .json(&serde_json::json!({"topic": topic, "title": title, "body": "text"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    }

    /// Shuts down gracefully and waits; returns how long it took.
    pub(crate) async fn shutdown(self) -> Duration {
        let started = Instant::now();
        self.stop.send(()).unwrap();
        self.task.await.unwrap().unwrap();
        started.elapsed()
    }
}

/// An HTTP client for talking to herald.
pub(crate) fn client() -> reqwest::Client {
    herald::app::install_crypto_provider();
    sink_api::http::client().unwrap()
}

/// Subscribes each of `users` to everything on `sink`.
pub(crate) async fn subscribe_all(store: &Store, sink: &str, users: &[&str]) {
    for user in users {
        store
            .subscribe(&Subscription {
                sink: sink.into(),
                recipient: Recipient::new(*user),
                scope: Scope::All,
                kinds: vec![],
                locale: None,
            })
            .await
            .unwrap();
    }
}

/// Merges the config tree `extra` into `into`, tables key by key.
pub(crate) fn merge(into: &mut serde_json::Value, extra: serde_json::Value) {
    use serde_json::Value;
    if let (Value::Object(a), Value::Object(b)) = (into, extra) {
        for (k, v) in b {
            match a.get_mut(&k) {
                Some(existing @ Value::Object(_)) if v.is_object() => merge(existing, v),
                _ => {
                    a.insert(k, v);
                }
            }
        }
    }
}

/// Pushes a match snapshot to the ingest API of the herald at `base` with `token`; expects 202.
pub(crate) async fn push_snapshot(base: &str, token: &str, body: &serde_json::Value) {
    let r = client()
        .post(format!("{base}/api/v1/ingest"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
}
