//! A local fake of the Telegram Bot API for tests: the real paths (`/bot<token>/<method>`),
//! JSON bodies and answers, long-polled `getUpdates`, and scripted failures (429 with
//! `retry_after`, 5xx, a blocked bot).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sink_api::testing::Fake;

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
    /// No answer at all: the request hangs until the client gives up.
    Hang,
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
struct Data {
    token: String,
    sent: Vec<Sent>,
    updates: VecDeque<Value>,
    next_update: i64,
    next_message: i64,
}

type Api = Fake<Data, Answer>;

/// A running fake Bot API server.
#[derive(Debug, Clone)]
pub struct FakeTelegram {
    fake: Api,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl FakeTelegram {
    /// Starts a fake that accepts `token`.
    ///
    /// # Panics
    /// When no local port can be bound.
    pub async fn start(token: &str) -> Self {
        let data = Data {
            token: token.to_owned(),
            next_update: 1,
            next_message: 100,
            ..Data::default()
        };
        let routes = Router::new().route("/{bot}/{method}", axum::routing::post(handle));
        let fake = Fake::start(data, routes).await;
        Self {
            addr: fake.addr(),
            fake,
        }
    }

    /// The API URL to configure as the sink's `endpoint`.
    pub fn endpoint(&self) -> String {
        self.fake.endpoint()
    }

    /// Starts an outage of `sendMessage` / `editMessageText`: each phase answers every
    /// request its way for its duration (see [`Fake::outage`]).
    pub fn outage(&self, phases: impl IntoIterator<Item = (Duration, Answer)>) {
        self.fake.outage(phases);
    }

    /// Queues answers for the next sends and edits; afterwards they succeed.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.fake.script(answers);
    }

    /// A user writes `text` in chat `chat_id` (negative ids are groups).
    pub fn user_says(&self, chat_id: i64, text: &str, language: Option<&str>) {
        let chat = chat_json(chat_id);
        let mut from = json!({"id": 7, "is_bot": false, "first_name": "Fan", "username": "fan"});
        if let Some(language) = language {
            from["language_code"] = json!(language);
        }
        self.fake.with(|data| {
            let update_id = data.next_update;
            data.next_update += 1;
            let message_id = data.next_message;
            data.next_message += 1;
            data.updates.push_back(json!({
                "update_id": update_id,
                "message": {"message_id": message_id, "date": 1_700_000_000, "chat": chat, "from": from, "text": text}
            }));
        });
    }

    /// Everything sent or edited so far.
    pub fn sent(&self) -> Vec<Sent> {
        self.fake.read(|data| data.sent.clone())
    }

    /// How many sends and edits were attempted, failed ones included.
    pub fn attempts(&self) -> usize {
        self.fake.attempts()
    }

    /// Waits until `n` messages were sent or edited, or `timeout` passes.
    pub async fn wait_sent(&self, n: usize, timeout: Duration) -> Vec<Sent> {
        self.fake.wait(n, timeout, |data| data.sent.clone()).await
    }
}

/// A group for negative ids, a private chat otherwise.
fn chat_json(id: i64) -> Value {
    if id < 0 {
        json!({"id": id, "type": "group", "title": "Fans"})
    } else {
        json!({"id": id, "type": "private", "first_name": "Fan"})
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
    State(fake): State<Api>,
    Path((bot, method)): Path<(String, String)>,
    body: Option<Json<Value>>,
) -> Response {
    let body = body.map(|Json(v)| v).unwrap_or_default();
    if fake.read(|data| bot.strip_prefix("bot") != Some(data.token.as_str())) {
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
        "getupdates" => get_updates(&fake, &body).await,
        "sendmessage" => send(&fake, "sendMessage", &body).await,
        "editmessagetext" => send(&fake, "editMessageText", &body).await,
        _ => api_error(404, "Not Found: method not found", None),
    }
}

async fn get_updates(fake: &Api, body: &Value) -> Response {
    let offset = body["offset"].as_i64().unwrap_or(0);
    let wait = Duration::from_secs(body["timeout"].as_u64().unwrap_or(0).min(2));
    let pending = |u: &Value| u["update_id"].as_i64().unwrap_or(0) >= offset;
    fake.with(|data| data.updates.retain(pending));
    let updates = fake
        .wait(1, wait, |data| {
            data.updates
                .iter()
                .filter(|u| pending(u))
                .cloned()
                .collect()
        })
        .await;
    ok(Value::Array(updates))
}

async fn send(fake: &Api, method: &str, body: &Value) -> Response {
    match fake.next_answer().unwrap_or(Answer::Ok) {
        Answer::Ok => {}
        Answer::Hang => std::future::pending::<()>().await,
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
    let text = body["text"].as_str().unwrap_or_default().to_owned();
    let message_id = fake.with(|data| {
        let message_id = match method {
            "editMessageText" => body["message_id"].as_i64().unwrap_or(0),
            _ => {
                let id = data.next_message;
                data.next_message += 1;
                id
            }
        };
        data.sent.push(Sent {
            method: method.to_owned(),
            chat_id: chat_id.clone(),
            text: text.clone(),
            parse_mode: body["parse_mode"].as_str().map(str::to_owned),
            message_id,
            at: Instant::now(),
        });
        message_id
    });
    let chat = chat_json(chat_id.parse().unwrap_or(0));
    ok(json!({"message_id": message_id, "date": 1_700_000_000, "chat": chat, "text": text}))
}
