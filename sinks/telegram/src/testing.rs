//! A local fake of the Telegram Bot API for tests: the real paths (`/bot<token>/<method>`),
//! JSON bodies and answers, long-polled `getUpdates`, and scripted failures (429 with
//! `retry_after`, 5xx, a blocked bot).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A scripted answer to the next `sendMessage` / `editMessageText`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Accept it.
    Ok,
    /// `429 Too Many Requests: retry after N`.
    RetryAfter(u32),
    /// A proxy error page with this status (not JSON).
    ServerError(u16),
    /// `403 Forbidden: bot was blocked by the user`.
    Blocked,
}

/// A message the bot sent or edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// `sendMessage` or `editMessageText`.
    pub method: String,
    /// The chat it went to.
    pub chat_id: String,
    /// Its text, as sent (HTML).
    pub text: String,
    /// `HTML` or none.
    pub parse_mode: Option<String>,
    /// The message id (the edited one for edits).
    pub message_id: i64,
    /// When the fake received it.
    pub at: Instant,
}

#[derive(Default)]
struct Inner {
    token: String,
    sent: Vec<Sent>,
    script: VecDeque<Answer>,
    updates: VecDeque<Value>,
    next_update: i64,
    next_message: i64,
    attempts: usize,
}

/// A running fake Bot API server.
#[derive(Clone)]
pub struct FakeTelegram {
    inner: Arc<Mutex<Inner>>,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl std::fmt::Debug for FakeTelegram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeTelegram")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

fn lock(m: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FakeTelegram {
    /// Starts a fake that accepts `token`.
    ///
    /// # Panics
    /// When no local port can be bound.
    pub async fn start(token: &str) -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            token: token.to_owned(),
            next_update: 1,
            next_message: 100,
            ..Inner::default()
        }));
        let app = Router::new()
            .route("/{bot}/{method}", axum::routing::post(handle))
            .with_state(Arc::clone(&inner));
        let addr = sink_api::testing::serve(app).await;
        Self { inner, addr }
    }

    /// The API URL to configure as the sink's `endpoint`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues answers for the next sends and edits; afterwards they succeed.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        lock(&self.inner).script.extend(answers);
    }

    /// A user writes `text` in chat `chat_id` (negative ids are groups).
    pub fn user_says(&self, chat_id: i64, text: &str, language: Option<&str>) {
        let mut inner = lock(&self.inner);
        let update_id = inner.next_update;
        inner.next_update += 1;
        let message_id = inner.next_message;
        inner.next_message += 1;
        let chat = if chat_id < 0 {
            json!({"id": chat_id, "type": "group", "title": "Fans"})
        } else {
            json!({"id": chat_id, "type": "private", "first_name": "Fan"})
        };
        let mut from = json!({"id": 7, "is_bot": false, "first_name": "Fan", "username": "fan"});
        if let Some(language) = language {
            from["language_code"] = json!(language);
        }
        inner.updates.push_back(json!({
            "update_id": update_id,
            "message": {"message_id": message_id, "date": 1_700_000_000, "chat": chat, "from": from, "text": text}
        }));
    }

    /// Everything sent or edited so far.
    pub fn sent(&self) -> Vec<Sent> {
        lock(&self.inner).sent.clone()
    }

    /// How many sends and edits were attempted, failed ones included.
    pub fn attempts(&self) -> usize {
        lock(&self.inner).attempts
    }

    /// Waits until `n` messages were sent or edited, or `timeout` passes.
    pub async fn wait_sent(&self, n: usize, timeout: Duration) -> Vec<Sent> {
        sink_api::testing::wait_len(n, timeout, || self.sent()).await
    }
}

#[allow(clippy::needless_pass_by_value)] // built inline at every call site
fn ok(result: Value) -> Response {
    Json(json!({"ok": true, "result": result})).into_response()
}

fn api_error(status: u16, description: &str, parameters: Option<Value>) -> Response {
    let mut body = json!({"ok": false, "error_code": status, "description": description});
    if let Some(p) = parameters {
        body["parameters"] = p;
    }
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        Json(body),
    )
        .into_response()
}

async fn handle(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((bot, method)): Path<(String, String)>,
    body: Option<Json<Value>>,
) -> Response {
    let body = body.map(|Json(v)| v).unwrap_or_default();
    if bot.strip_prefix("bot") != Some(lock(&inner).token.as_str()) {
        return api_error(401, "Unauthorized", None);
    }
    // Method names are case-insensitive in the Bot API (teloxide sends `SendMessage`).
    match method.to_ascii_lowercase().as_str() {
        "getme" => ok(json!({
            "id": 1, "is_bot": true, "first_name": "herald", "username": "herald_bot",
            "can_join_groups": true, "can_read_all_group_messages": false,
            "supports_inline_queries": false, "can_connect_to_business": false,
            "has_main_web_app": false
        })),
        "getupdates" => get_updates(&inner, &body).await,
        "sendmessage" => send(&inner, "sendMessage", &body),
        "editmessagetext" => send(&inner, "editMessageText", &body),
        _ => api_error(404, "Not Found: method not found", None),
    }
}

async fn get_updates(inner: &Mutex<Inner>, body: &Value) -> Response {
    let offset = body["offset"].as_i64().unwrap_or(0);
    let wait = Duration::from_secs(body["timeout"].as_u64().unwrap_or(0).min(2));
    let deadline = Instant::now() + wait;
    loop {
        {
            let mut inner = lock(inner);
            inner
                .updates
                .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
            if !inner.updates.is_empty() || Instant::now() >= deadline {
                return ok(Value::Array(inner.updates.iter().cloned().collect()));
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn send(inner: &Mutex<Inner>, method: &str, body: &Value) -> Response {
    let mut inner = lock(inner);
    inner.attempts += 1;
    match inner.script.pop_front().unwrap_or(Answer::Ok) {
        Answer::Ok => {}
        Answer::RetryAfter(seconds) => {
            return api_error(
                429,
                &format!("Too Many Requests: retry after {seconds}"),
                Some(json!({"retry_after": seconds})),
            );
        }
        Answer::ServerError(status) => {
            return (
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
                "<html><body>Bad Gateway</body></html>",
            )
                .into_response();
        }
        Answer::Blocked => return api_error(403, "Forbidden: bot was blocked by the user", None),
    }
    let chat_id = match &body["chat_id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let message_id = match method {
        "editMessageText" => body["message_id"].as_i64().unwrap_or(0),
        _ => {
            let id = inner.next_message;
            inner.next_message += 1;
            id
        }
    };
    let text = body["text"].as_str().unwrap_or_default().to_owned();
    inner.sent.push(Sent {
        method: method.to_owned(),
        chat_id: chat_id.clone(),
        text: text.clone(),
        parse_mode: body["parse_mode"].as_str().map(str::to_owned),
        message_id,
        at: Instant::now(),
    });
    let chat_number: i64 = chat_id.parse().unwrap_or(0);
    let chat = if chat_number < 0 {
        json!({"id": chat_number, "type": "group", "title": "Fans"})
    } else {
        json!({"id": chat_number, "type": "private", "first_name": "Fan"})
    };
    ok(json!({"message_id": message_id, "date": 1_700_000_000, "chat": chat, "text": text}))
}
