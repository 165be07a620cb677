//! A local fake of the Discord REST API for tests: channel messages (create, edit), command
//! registration and the current user, with Discord's JSON and error bodies, scripted failures
//! (429 with `retry_after` and rate-limit headers, 5xx, an unknown channel), and signing of
//! interactions the way Discord signs them.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};
use sink_api::testing::Fake;

/// A scripted answer to the next message create or edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Accept it.
    Ok,
    /// 429 with `retry_after` seconds (and the matching rate-limit headers).
    RateLimited(u32),
    /// An error status with a non-JSON body.
    Status(u16),
    /// 404 `Unknown Channel` (code 10003).
    UnknownChannel,
}

/// A message created or edited.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// `create` or `edit`.
    pub action: String,
    /// The channel.
    pub channel: String,
    /// The message id.
    pub id: String,
    /// The first embed, as sent.
    pub embed: Value,
    /// When the fake received it.
    pub at: Instant,
}

#[derive(Default)]
struct Data {
    token: String,
    messages: Vec<Message>,
    commands: Vec<Value>,
    next_id: u64,
}

type Api = Fake<Data, Answer>;

/// A running fake REST API.
#[derive(Debug, Clone)]
pub struct FakeDiscord {
    fake: Api,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl FakeDiscord {
    /// Starts a fake that accepts the bot token `token`.
    ///
    /// # Panics
    /// When no local port can be bound.
    pub async fn start(token: &str) -> Self {
        let data = Data {
            token: token.to_owned(),
            next_id: 1_100_000_000_000_000_000,
            ..Data::default()
        };
        let fake = Fake::start(data, Router::new().fallback(handle)).await;
        Self {
            addr: fake.addr(),
            fake,
        }
    }

    /// The URL to configure as the sink's `endpoint`.
    pub fn endpoint(&self) -> String {
        self.fake.endpoint()
    }

    /// Queues answers for the next creates and edits; afterwards they succeed.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.fake.script(answers);
    }

    /// Messages created or edited so far.
    pub fn messages(&self) -> Vec<Message> {
        self.fake.read(|data| data.messages.clone())
    }

    /// The slash commands registered last.
    pub fn commands(&self) -> Vec<Value> {
        self.fake.read(|data| data.commands.clone())
    }

    /// How many creates and edits were attempted, failed ones included.
    pub fn attempts(&self) -> usize {
        self.fake.attempts()
    }

    /// Waits until `n` messages were created or edited, or `timeout` passes.
    pub async fn wait_messages(&self, n: usize, timeout: Duration) -> Vec<Message> {
        self.fake
            .wait(n, timeout, |data| data.messages.clone())
            .await
    }
}

/// An application's key pair for signing interactions in tests.
#[derive(Debug)]
pub struct AppKey {
    key: SigningKey,
}

impl AppKey {
    /// A fixed key pair.
    pub fn new() -> Self {
        Self::from_seed(42)
    }

    /// Another fixed key pair per seed (to forge signatures with).
    pub fn from_seed(seed: u8) -> Self {
        Self {
            key: SigningKey::from_bytes(&[seed; 32]),
        }
    }

    /// The public key, hex, as the sink's `public_key`.
    pub fn public_key(&self) -> String {
        hex::encode(self.key.verifying_key().to_bytes())
    }

    /// `X-Signature-Ed25519` for `body` at `timestamp`.
    pub fn sign(&self, timestamp: &str, body: &[u8]) -> String {
        let mut message = timestamp.as_bytes().to_vec();
        message.extend_from_slice(body);
        hex::encode(self.key.sign(&message).to_bytes())
    }
}

impl Default for AppKey {
    fn default() -> Self {
        Self::new()
    }
}

fn message_json(id: &str, channel: &str, embed: &Value) -> Value {
    json!({
        "id": id, "channel_id": channel, "type": 0, "content": "",
        "author": {"id": "1", "username": "herald", "discriminator": "0000", "avatar": null, "bot": true, "global_name": null},
        "timestamp": "2026-11-22T20:00:00.000000+00:00", "edited_timestamp": null,
        "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [],
        "attachments": [], "embeds": [embed], "pinned": false, "flags": 0
    })
}

fn error(status: u16, code: u32, message: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        Json(json!({"code": code, "message": message})),
    )
        .into_response()
}

async fn handle(
    State(fake): State<Api>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Option<Json<Value>>,
) -> Response {
    let body = body.map(|Json(v)| v).unwrap_or_default();
    let bot = headers.get("authorization").and_then(|v| v.to_str().ok());
    if !fake.read(|data| bot == Some(&format!("Bot {}", data.token))) {
        return error(401, 0, "401: Unauthorized");
    }
    let parts: Vec<&str> = uri.path().trim_start_matches('/').split('/').collect();
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["api", "v10", "users", "@me"]) => {
            Json(json!({"id": "1", "username": "herald", "discriminator": "0000", "avatar": null, "bot": true, "global_name": null})).into_response()
        }
        ("PUT", ["api", "v10", "applications", _, "commands"] | ["api", "v10", "applications", _, "guilds", _, "commands"]) => {
            let commands = body.as_array().cloned().unwrap_or_default();
            fake.with(|data| data.commands.clone_from(&commands));
            let registered: Vec<Value> = commands
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    json!({"id": (i + 1).to_string(), "application_id": parts[3], "version": "1", "default_member_permissions": null,
                           "type": 1, "name": c["name"], "description": c["description"], "options": c.get("options").cloned().unwrap_or(json!([]))})
                })
                .collect();
            Json(Value::Array(registered)).into_response()
        }
        ("POST", ["api", "v10", "channels", channel, "messages"]) | ("PATCH", ["api", "v10", "channels", channel, "messages", _]) => {
            match fake.next_answer().unwrap_or(Answer::Ok) {
                Answer::Ok => {}
                Answer::RateLimited(seconds) => {
                    return (
                        StatusCode::TOO_MANY_REQUESTS,
                        [
                            ("x-ratelimit-limit", "5".to_owned()),
                            ("x-ratelimit-remaining", "0".to_owned()),
                            ("x-ratelimit-reset-after", seconds.to_string()),
                            ("x-ratelimit-bucket", "messages".to_owned()),
                            ("retry-after", seconds.to_string()),
                        ],
                        Json(json!({"message": "You are being rate limited.", "retry_after": seconds, "global": false})),
                    )
                        .into_response();
                }
                Answer::Status(status) => {
                    return (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY), "upstream error").into_response();
                }
                Answer::UnknownChannel => return error(404, 10003, "Unknown Channel"),
            }
            let embed = body["embeds"].get(0).cloned().unwrap_or(Value::Null);
            let id = fake.with(|data| {
                let (action, id) = if method == Method::PATCH {
                    ("edit", parts[5].to_owned())
                } else {
                    let id = data.next_id.to_string();
                    data.next_id += 1;
                    ("create", id)
                };
                data.messages.push(Message {
                    action: action.to_owned(),
                    channel: (*channel).to_owned(),
                    id: id.clone(),
                    embed: embed.clone(),
                    at: Instant::now(),
                });
                id
            });
            Json(message_json(&id, channel, &embed)).into_response()
        }
        _ => error(404, 0, "404: Not Found"),
    }
}
