//! A local fake of the Slack Web API for tests (`/api/chat.postMessage`, `/api/chat.update`,
//! `/api/auth.test` with their real JSON), scripted failures, signing of inbound requests the
//! way Slack signs them, and Socket Mode (`/api/apps.connections.open` and its WebSocket).

mod socket_mode;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sink_api::testing::Fake;

pub use socket_mode::Ack;

/// The `X-Slack-Signature` Slack would send for `body` at `timestamp`.
pub fn signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    crate::events::sign(secret.as_bytes(), timestamp, body)
}

/// A scripted answer to the next post or update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Accept it.
    Ok,
    /// HTTP 429 with `Retry-After: N`.
    RateLimited(u32),
    /// `{"ok": false, "error": "<code>"}`.
    Error(&'static str),
    /// An HTTP error status.
    Status(u16),
}

/// A message posted or updated.
#[derive(Debug, Clone, PartialEq)]
pub struct Posted {
    /// `chat.postMessage` or `chat.update`.
    pub method: String,
    /// The channel.
    pub channel: String,
    /// The fallback text.
    pub text: String,
    /// The Block Kit blocks, as sent.
    pub blocks: Value,
    /// The message's `ts` (the updated one for updates).
    pub ts: String,
    /// When the fake received it.
    pub at: Instant,
}

#[derive(Default)]
struct Data {
    token: String,
    /// The app-level token `apps.connections.open` accepts, if any.
    app_token: Option<String>,
    posted: Vec<Posted>,
    next_ts: u64,
    socket: socket_mode::Sockets,
}

type Api = Fake<Data, Answer>;

/// A running fake Web API.
#[derive(Debug, Clone)]
pub struct FakeSlack {
    fake: Api,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl FakeSlack {
    /// Starts a fake that accepts the bot token `token` (and no app token: Socket Mode
    /// connections are refused).
    ///
    /// # Panics
    /// When no local port can be bound.
    pub async fn start(token: &str) -> Self {
        Self::start_with(token, None).await
    }

    /// Starts a fake that accepts the bot token `token`, and the app-level token `app_token`
    /// to open Socket Mode connections.
    ///
    /// # Panics
    /// When no local port can be bound.
    pub async fn with_app_token(token: &str, app_token: &str) -> Self {
        Self::start_with(token, Some(app_token)).await
    }

    async fn start_with(token: &str, app_token: Option<&str>) -> Self {
        let (sockets, listener) = socket_mode::Sockets::bind().await;
        let data = Data {
            token: token.to_owned(),
            app_token: app_token.map(str::to_owned),
            next_ts: 1,
            socket: sockets,
            ..Data::default()
        };
        let routes = Router::new().route("/api/{method}", axum::routing::post(handle).get(handle));
        let fake = Fake::start(data, routes).await;
        tokio::spawn(socket_mode::serve(fake.clone(), listener));
        Self {
            addr: fake.addr(),
            fake,
        }
    }

    /// The Web API URL to configure as the sink's `endpoint`.
    pub fn endpoint(&self) -> String {
        format!("{}/api", self.fake.endpoint())
    }

    /// Queues answers for the next posts and updates; afterwards they succeed.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.fake.script(answers);
    }

    /// Everything posted or updated so far.
    pub fn posted(&self) -> Vec<Posted> {
        self.fake.read(|data| data.posted.clone())
    }

    /// How many posts and updates were attempted, failed ones included.
    pub fn attempts(&self) -> usize {
        self.fake.attempts()
    }

    /// Waits until `n` messages were posted or updated, or `timeout` passes.
    pub async fn wait_posted(&self, n: usize, timeout: Duration) -> Vec<Posted> {
        self.fake.wait(n, timeout, |data| data.posted.clone()).await
    }
}

async fn handle(
    State(fake): State<Api>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Option<Json<Value>>,
) -> Response {
    let body = body.map(|Json(v)| v).unwrap_or_default();
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok());
    if method == "apps.connections.open" {
        return socket_mode::open(&fake, bearer);
    }
    if !fake.read(|data| bearer == Some(&format!("Bearer {}", data.token))) {
        return Json(json!({"ok": false, "error": "invalid_auth"})).into_response();
    }
    if method == "auth.test" {
        return Json(json!({"ok": true, "url": "https://herald.slack.com/", "team": "herald", "user": "herald", "team_id": "T1", "user_id": "U1"}))
            .into_response();
    }
    if method != "chat.postMessage" && method != "chat.update" {
        return Json(json!({"ok": false, "error": "unknown_method"})).into_response();
    }
    match fake.next_answer().unwrap_or(Answer::Ok) {
        Answer::Ok => {}
        Answer::RateLimited(seconds) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", seconds.to_string())],
                Json(json!({"ok": false, "error": "ratelimited"})),
            )
                .into_response();
        }
        Answer::Error(code) => return Json(json!({"ok": false, "error": code})).into_response(),
        Answer::Status(status) => {
            return (
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
                "upstream error",
            )
                .into_response();
        }
    }
    let channel = body["channel"].as_str().unwrap_or_default().to_owned();
    let text = body["text"].as_str().unwrap_or_default().to_owned();
    let ts = fake.with(|data| {
        let ts = if method == "chat.update" {
            body["ts"].as_str().unwrap_or_default().to_owned()
        } else {
            let ts = format!("1700000000.{:06}", data.next_ts);
            data.next_ts += 1;
            ts
        };
        data.posted.push(Posted {
            method: method.clone(),
            channel: channel.clone(),
            text: text.clone(),
            blocks: body["blocks"].clone(),
            ts: ts.clone(),
            at: Instant::now(),
        });
        ts
    });
    let message = json!({"type": "message", "ts": ts, "text": text, "bot_id": "B1"});
    if method == "chat.update" {
        Json(json!({"ok": true, "channel": channel, "ts": ts, "text": text, "message": {"text": text}})).into_response()
    } else {
        Json(json!({"ok": true, "channel": channel, "ts": ts, "message": message})).into_response()
    }
}
