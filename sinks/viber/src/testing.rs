//! A local fake of Viber for tests: the REST Bot API (`/pa/send_message`, `/pa/set_webhook`,
//! `/pa/get_account_info`) with its real JSON, its check of `X-Viber-Auth-Token` and its limits
//! (sender name, text length), scripted failures, and Viber's side of the callbacks: it signs
//! them the way Viber does and posts them to herald. Plus [`RecordingUsers`], a record of users
//! that keeps what callbacks asked of it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sink_api::testing::Fake;

use crate::callbacks::SIGNATURE_HEADER;
use crate::client::AUTH_HEADER;
use crate::{Users, UsersFuture};

/// What a callback asked of a [`RecordingUsers`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserChange {
    /// Pause what the user follows.
    Pause(String),
    /// Resume what the user follows.
    Resume(String),
    /// A delivery failed: the user, the message token, the error.
    Failed(String, String, String),
}

/// A record of users that keeps every change asked of it, in order, and can be made to fail.
#[derive(Debug, Clone, Default)]
pub struct RecordingUsers {
    changes: Arc<Mutex<Vec<UserChange>>>,
    broken: Arc<Mutex<bool>>,
}

/// The error of a broken [`RecordingUsers`].
#[derive(Debug, thiserror::Error)]
#[error("the record of users is broken")]
pub struct Broken;

impl RecordingUsers {
    /// A record with nothing in it.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every change asked so far (failed ones included).
    pub fn changes(&self) -> Vec<UserChange> {
        self.changes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// From now on every change fails (`true`), or succeeds again.
    pub fn break_it(&self, broken: bool) {
        *self.broken.lock().unwrap_or_else(PoisonError::into_inner) = broken;
    }

    fn keep(&self, change: UserChange) -> Result<(), Broken> {
        self.changes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(change);
        if *self.broken.lock().unwrap_or_else(PoisonError::into_inner) {
            Err(Broken)
        } else {
            Ok(())
        }
    }
}

impl Users for RecordingUsers {
    fn pause<'a>(&'a self, user: &'a str) -> UsersFuture<'a, u64> {
        Box::pin(async move { Ok(self.keep(UserChange::Pause(user.to_owned())).map(|()| 1)?) })
    }

    fn resume<'a>(&'a self, user: &'a str) -> UsersFuture<'a, u64> {
        Box::pin(async move { Ok(self.keep(UserChange::Resume(user.to_owned())).map(|()| 1)?) })
    }

    fn failed<'a>(
        &'a self,
        user: &'a str,
        message_token: &'a str,
        error: &'a str,
    ) -> UsersFuture<'a, bool> {
        Box::pin(async move {
            let change =
                UserChange::Failed(user.to_owned(), message_token.to_owned(), error.to_owned());
            Ok(self.keep(change).map(|()| true)?)
        })
    }
}

/// The `X-Viber-Content-Signature` Viber sends with `body` for the bot with `token`.
pub fn signature(token: &str, body: &[u8]) -> String {
    hex::encode(sink_api::verify::hmac_sha256(token.as_bytes(), &[body]))
}

/// A scripted answer to the next `send_message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Accept it.
    Ok,
    /// HTTP 200 with this non-zero Viber status and status message
    /// (`Status(6, "receiverNotSubscribed")`).
    Status(i64, &'static str),
    /// HTTP 429 with `Retry-After: N`.
    RetryAfter(u32),
    /// An HTTP error status with a proxy's page (not JSON).
    Http(u16),
}

/// A message the bot sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The user it went to.
    pub receiver: String,
    /// `sender.name`.
    pub sender_name: String,
    /// `sender.avatar`.
    pub sender_avatar: Option<String>,
    /// `type`.
    pub kind: String,
    /// `min_api_version`.
    pub min_api_version: Option<i64>,
    /// The text.
    pub text: String,
    /// The token the fake answered with.
    pub message_token: u64,
    /// When the fake received it.
    pub at: Instant,
}

/// A `set_webhook` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSet {
    /// The URL.
    pub url: String,
    /// The callbacks asked for; `None` when absent (all of them).
    pub event_types: Option<Vec<String>>,
    /// Whether callbacks should carry the user's name.
    pub send_name: bool,
}

/// What herald answered to a callback.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: String,
}

impl Reply {
    /// The body as JSON (`Null` when it is not JSON, or empty).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Default)]
struct Data {
    token: String,
    sent: Vec<Sent>,
    webhooks: Vec<WebhookSet>,
    next_token: u64,
}

type Api = Fake<Data, Answer>;

/// A running fake of Viber.
#[derive(Debug, Clone)]
pub struct FakeViber {
    fake: Api,
    token: String,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl FakeViber {
    /// Starts a fake of the bot whose auth token is `token`.
    ///
    /// # Panics
    /// When no local port can be bound.
    pub async fn start(token: &str) -> Self {
        let data = Data {
            token: token.to_owned(),
            // Above 2^53: a token read through a float would come out wrong.
            next_token: 5_741_311_803_571_721_087,
            ..Data::default()
        };
        let routes = Router::new().route("/pa/{method}", axum::routing::post(handle));
        let fake = Fake::start(data, routes).await;
        Self {
            addr: fake.addr(),
            token: token.to_owned(),
            fake,
        }
    }

    /// The API URL to configure as the sink's `endpoint`.
    pub fn endpoint(&self) -> String {
        format!("{}/pa", self.fake.endpoint())
    }

    /// Queues answers for the next `send_message` calls; afterwards they succeed.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.fake.script(answers);
    }

    /// Everything sent so far.
    pub fn sent(&self) -> Vec<Sent> {
        self.fake.read(|data| data.sent.clone())
    }

    /// How many `send_message` calls were made with the right token, failed ones included.
    pub fn attempts(&self) -> usize {
        self.fake.attempts()
    }

    /// Waits until `n` messages were sent, or `timeout` passes.
    pub async fn wait_sent(&self, n: usize, timeout: Duration) -> Vec<Sent> {
        self.fake.wait(n, timeout, |data| data.sent.clone()).await
    }

    /// Every `set_webhook` call accepted so far.
    pub fn webhooks(&self) -> Vec<WebhookSet> {
        self.fake.read(|data| data.webhooks.clone())
    }

    /// Waits until `n` webhooks were set, or `timeout` passes.
    pub async fn wait_webhooks(&self, n: usize, timeout: Duration) -> Vec<WebhookSet> {
        self.fake
            .wait(n, timeout, |data| data.webhooks.clone())
            .await
    }

    /// Posts the callback `body` to `url`, signed as Viber signs it.
    ///
    /// # Panics
    /// When herald cannot be reached.
    pub async fn callback(&self, url: &str, body: &Value) -> Reply {
        post(url, body, Some(&self.token)).await
    }

    /// Posts the callback `body` to `url` signed with `key` instead of the bot's token
    /// (a forgery), or unsigned with `None`.
    ///
    /// # Panics
    /// When herald cannot be reached.
    pub async fn forged_callback(&self, url: &str, body: &Value, key: Option<&str>) -> Reply {
        post(url, body, key).await
    }
}

async fn post(url: &str, body: &Value, key: Option<&str>) -> Reply {
    let bytes = body.to_string();
    let mut request = sink_api::http::client()
        .expect("an HTTP client (is a rustls provider installed?)")
        .post(url)
        .header("content-type", "application/json");
    if let Some(key) = key {
        request = request.header(SIGNATURE_HEADER, signature(key, bytes.as_bytes()));
    }
    let response = request.body(bytes).send().await.expect("herald answers");
    Reply {
        status: response.status().as_u16(),
        body: response.text().await.unwrap_or_default(),
    }
}

/// Callback bodies as Viber sends them (REST Bot API, "Callbacks").
pub mod events {
    use serde_json::{Value, json};

    const TIMESTAMP: u64 = 1_457_764_197_627;

    /// `message`: the user `user_id`, whose phone is set to `language`, wrote `text`.
    pub fn message(user_id: &str, text: &str, language: &str, message_token: u64) -> Value {
        json!({
            "event": "message", "timestamp": TIMESTAMP, "message_token": message_token,
            "sender": {"id": user_id, "name": "Fan", "avatar": "https://avatar.example.com/1.jpg",
                       "country": "FR", "language": language, "api_version": 10},
            "message": {"type": "text", "text": text},
            "silent": false
        })
    }

    /// `conversation_started`: `user_id` opened the chat (not subscribed yet).
    pub fn conversation_started(user_id: &str, language: &str) -> Value {
        json!({
            "event": "conversation_started", "timestamp": TIMESTAMP,
            "message_token": 4_912_661_846_655_238_145_u64, "type": "open", "context": "",
            "user": {"id": user_id, "name": "Fan", "country": "BR", "language": language,
                     "api_version": 10},
            "subscribed": false
        })
    }

    /// `unsubscribed`: `user_id` left the bot.
    pub fn unsubscribed(user_id: &str) -> Value {
        json!({"event": "unsubscribed", "timestamp": TIMESTAMP, "user_id": user_id,
               "message_token": 4_912_661_846_655_238_146_u64})
    }

    /// `subscribed`: `user_id` subscribed to the bot (again).
    pub fn subscribed(user_id: &str) -> Value {
        json!({
            "event": "subscribed", "timestamp": TIMESTAMP,
            "user": {"id": user_id, "name": "Fan", "avatar": "https://avatar.example.com/1.jpg",
                     "country": "FR", "language": "fr", "api_version": 10},
            "message_token": 4_912_661_846_655_238_147_u64
        })
    }

    /// `failed`: the message `message_token` did not reach `user_id`'s devices.
    pub fn failed(user_id: &str, message_token: u64, desc: &str) -> Value {
        json!({"event": "failed", "timestamp": TIMESTAMP, "message_token": message_token,
               "user_id": user_id, "desc": desc})
    }

    /// `delivered`: the message `message_token` reached `user_id`'s device.
    pub fn delivered(user_id: &str, message_token: u64) -> Value {
        json!({"event": "delivered", "timestamp": TIMESTAMP, "message_token": message_token,
               "user_id": user_id})
    }

    /// `webhook`: Viber checking the URL during `set_webhook`.
    pub fn webhook() -> Value {
        json!({"event": "webhook", "timestamp": TIMESTAMP,
               "chat_hostname": "SN-376_", "message_token": 5_492_650_455_283_014_023_u64})
    }
}

#[allow(clippy::needless_pass_by_value)] // built inline at every call site
fn status(code: i64, message: &str) -> Response {
    Json(json!({"status": code, "status_message": message})).into_response()
}

async fn handle(
    State(fake): State<Api>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Option<Json<Value>>,
) -> Response {
    let token = headers.get(AUTH_HEADER).and_then(|v| v.to_str().ok());
    if !fake.read(|data| token == Some(data.token.as_str())) {
        return status(2, "invalidAuthToken");
    }
    let Some(Json(body)) = body else {
        return status(3, "badData");
    };
    match method.as_str() {
        "send_message" => send_message(&fake, &body),
        "set_webhook" => set_webhook(&fake, &body),
        "get_account_info" => Json(json!({
            "status": 0, "status_message": "ok", "id": "pa:75346594275468546724",
            "name": "herald", "uri": "herald", "subscribers_count": 2
        }))
        .into_response(),
        _ => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

fn send_message(fake: &Api, body: &Value) -> Response {
    match fake.next_answer().unwrap_or(Answer::Ok) {
        Answer::Ok => {}
        Answer::Status(code, message) => return status(code, message),
        Answer::RetryAfter(seconds) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", seconds.to_string())],
                "Too Many Requests",
            )
                .into_response();
        }
        Answer::Http(code) => {
            return (
                StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY),
                "<html><body>Bad Gateway</body></html>",
            )
                .into_response();
        }
    }
    let (Some(receiver), Some(name), Some(kind), Some(text)) = (
        body["receiver"].as_str(),
        body["sender"]["name"].as_str(),
        body["type"].as_str(),
        body["text"].as_str(),
    ) else {
        return status(4, "missingData");
    };
    // Viber's limits: a 28-character sender name and a 7,000-character text.
    if name.chars().count() > 28 || text.chars().count() > 7000 || text.is_empty() {
        return status(3, "badData");
    }
    let token = fake.with(|data| {
        let token = data.next_token;
        data.next_token += 1;
        data.sent.push(Sent {
            receiver: receiver.to_owned(),
            sender_name: name.to_owned(),
            sender_avatar: body["sender"]["avatar"].as_str().map(str::to_owned),
            kind: kind.to_owned(),
            min_api_version: body["min_api_version"].as_i64(),
            text: text.to_owned(),
            message_token: token,
            at: Instant::now(),
        });
        token
    });
    Json(json!({
        "status": 0, "status_message": "ok", "message_token": token,
        "chat_hostname": "SN-CHAT-01_"
    }))
    .into_response()
}

fn set_webhook(fake: &Api, body: &Value) -> Response {
    let Some(url) = body["url"].as_str() else {
        return status(4, "missingData");
    };
    if !url.starts_with("https://") {
        return status(1, "invalidUrl");
    }
    let event_types = body["event_types"].as_array().map(|types| {
        types
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect::<Vec<_>>()
    });
    fake.with(|data| {
        data.webhooks.push(WebhookSet {
            url: url.to_owned(),
            event_types: event_types.clone(),
            send_name: body["send_name"].as_bool().unwrap_or(false),
        });
    });
    Json(json!({
        "status": 0, "status_message": "ok",
        "event_types": event_types.unwrap_or_default()
    }))
    .into_response()
}
