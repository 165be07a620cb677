//! Inbound: Viber's callbacks on herald's HTTP server. Each is checked against
//! `X-Viber-Content-Signature`, the hex HMAC-SHA256 of the raw body keyed with the bot's auth
//! token (Viber's REST Bot API, "Callbacks"; as `Viber/viber-bot-python` computes it); a
//! forged or unsigned request gets 401 and changes nothing.
//!
//! - `webhook`: Viber checking the URL during `set_webhook`: 200.
//! - `conversation_started`: a user opened the chat. Viber lets the answer to this callback
//!   carry one message, so it carries the core's `help` text (which starts with a welcome).
//! - `message`: a text is a bot command for the core; acknowledged at once, the reply sent
//!   afterwards with `send_message`. Writing subscribes the user to the bot again (Viber sends
//!   no `subscribed` then), so what they follow is resumed first. A message handled once is
//!   not handled again when Viber delivers it twice (same `message_token`).
//! - `unsubscribed`: the user left; what they follow is paused (kept, not delivered).
//! - `subscribed`: the user came back; what they follow is resumed.
//! - `failed`: a message could not be delivered to the user's devices: its delivery is
//!   recorded as failed, found by its receipt (the `message_token`).
//! - anything else (`delivered`, `seen`): 200, ignored.
//!
//! Pausing, resuming and recording a failure are the core's, through [`Users`]. When that
//! write fails the answer is 500, and Viber sends the callback again (for up to an hour).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use secrecy::ExposeSecret;
use serde::Deserialize;
use sink_api::{BoxError, Command, Commands, Recipient, verify};

use crate::{ViberSink, render};

/// The header that carries a callback's signature.
pub(crate) const SIGNATURE_HEADER: &str = "X-Viber-Content-Signature";
/// How long the welcome may take: the answer to `conversation_started` carries it, and Viber
/// waits only a few seconds for an answer. Slower, the user gets no welcome (and can type
/// `help`).
const WELCOME_DEADLINE: Duration = Duration::from_millis(2500);
/// How long a callback waits for the core to record what it says (a pause, a failure) before
/// it is acknowledged anyway (the core finishes it regardless): Viber waits only a few seconds.
const RECORD_DEADLINE: Duration = Duration::from_secs(5);
/// Message tokens remembered to ignore Viber's repeated deliveries of a callback.
const REMEMBERED_MESSAGES: usize = 1000;

/// The future of a [`Users`] method: what it changed, or why it could not.
pub type UsersFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send + 'a>>;

/// Where a Viber sink records what callbacks say about its users and their deliveries: the
/// core's store (subscriptions and the outbox), attached with [`ViberSink::attach`] once the
/// core has built the sink. Without it callbacks are only logged.
pub trait Users: Send + Sync + 'static {
    /// `user` unsubscribed from the bot: pause what they follow (kept, not delivered);
    /// returns how many subscriptions were paused.
    fn pause<'a>(&'a self, user: &'a str) -> UsersFuture<'a, u64>;

    /// `user` subscribed again, or wrote to the bot: resume what they follow; returns how many
    /// subscriptions were resumed.
    fn resume<'a>(&'a self, user: &'a str) -> UsersFuture<'a, u64>;

    /// The message `message_token` (the delivery's receipt) did not reach `user`'s devices,
    /// for the reason `error`: record that delivery as failed; returns whether one was found.
    fn failed<'a>(
        &'a self,
        user: &'a str,
        message_token: &'a str,
        error: &'a str,
    ) -> UsersFuture<'a, bool>;
}

struct Inbound {
    sink: ViberSink,
    commands: Commands,
    seen: Mutex<VecDeque<String>>,
}

/// The route of sink instance `id`: `POST /webhooks/<id>/callbacks`, the URL to give Viber
/// (the sink's `webhook_url`).
pub fn router<S>(sink: ViberSink, id: &str, commands: Commands) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let state = Arc::new(Inbound {
        sink,
        commands,
        seen: Mutex::new(VecDeque::new()),
    });
    Router::new()
        .route(&format!("/webhooks/{id}/callbacks"), post(callback))
        .with_state(state)
}

/// The signature Viber sends with `body`: the lowercase hex HMAC-SHA256 keyed with `token`.
pub(crate) fn sign(token: &[u8], body: &[u8]) -> String {
    hex::encode(verify::hmac_sha256(token, &[body]))
}

/// Checks `X-Viber-Content-Signature` against `body`, in constant time.
pub(crate) fn check(token: &[u8], headers: &HeaderMap, body: &[u8]) -> Result<(), &'static str> {
    let given = verify::header(headers, SIGNATURE_HEADER)
        .ok_or("missing X-Viber-Content-Signature")?
        .trim()
        .to_ascii_lowercase();
    let expected = sign(token, body);
    if verify::same(expected.as_bytes(), given.as_bytes()) {
        Ok(())
    } else {
        Err("signature does not match")
    }
}

/// A Viber user id: 1 to 100 characters of the base64 alphabet (`01234567890A=`).
pub(crate) fn is_user_id(id: &str) -> bool {
    (1..=100).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
}

#[derive(Debug, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Callback {
    Webhook,
    ConversationStarted {
        user: User,
    },
    Message {
        message_token: Option<serde_json::Value>,
        sender: User,
        message: Incoming,
    },
    Unsubscribed {
        user_id: String,
    },
    Subscribed {
        user: User,
    },
    Failed {
        message_token: Option<serde_json::Value>,
        user_id: Option<String>,
        desc: Option<String>,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
struct User {
    id: String,
    name: Option<String>,
    language: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Incoming {
    #[serde(rename = "type")]
    kind: String,
    text: Option<String>,
}

fn unauthorized(reason: &str) -> Response {
    tracing::warn!(reason, "refused a callback that does not come from Viber");
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(serde_json::json!({ "error": reason })),
    )
        .into_response()
}

fn bad_request(reason: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(serde_json::json!({ "error": reason })),
    )
        .into_response()
}

/// A message token as text (Viber sends a 64-bit number).
fn token_text(token: Option<&serde_json::Value>) -> String {
    match token {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

async fn callback(
    State(inbound): State<Arc<Inbound>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = inbound.sink.config.auth_token.expose_secret().as_bytes();
    if let Err(reason) = check(token, &headers, &body) {
        return unauthorized(reason);
    }
    let callback: Callback = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return bad_request(&format!("malformed callback: {e}")),
    };
    match callback {
        Callback::Webhook => StatusCode::OK.into_response(),
        Callback::ConversationStarted { user } => inbound.welcome(user).await,
        Callback::Message {
            message_token,
            sender,
            message,
        } => {
            inbound.message(&token_text(message_token.as_ref()), sender, message);
            StatusCode::OK.into_response()
        }
        Callback::Unsubscribed { user_id } => inbound.unsubscribed(user_id).await,
        Callback::Subscribed { user } => inbound.subscribed(user.id).await,
        Callback::Failed {
            message_token,
            user_id,
            desc,
        } => {
            let token = token_text(message_token.as_ref());
            inbound.failed(token, user_id, desc).await
        }
        Callback::Other => StatusCode::OK.into_response(),
    }
}

impl Inbound {
    /// The answer to `conversation_started`: the core's `help` text as a message, or nothing
    /// when it does not come in time.
    async fn welcome(&self, user: User) -> Response {
        if !is_user_id(&user.id) {
            return bad_request("malformed user id");
        }
        let command = Command {
            chat: Recipient::new(user.id),
            user: user.name,
            text: "help".to_owned(),
            language: user.language,
        };
        match tokio::time::timeout(WELCOME_DEADLINE, self.commands.handle(command)).await {
            Ok(reply) => {
                let text = render::fit(&reply.text, render::MAX_TEXT);
                axum::Json(self.sink.message(None, &text)).into_response()
            }
            Err(_) => {
                tracing::warn!("the welcome took too long; answered without one");
                StatusCode::OK.into_response()
            }
        }
    }

    /// Hands a text message to the core and sends the reply, after the callback is answered.
    fn message(self: &Arc<Self>, token: &str, sender: User, message: Incoming) {
        let Some(text) = message.text.filter(|_| message.kind == "text") else {
            tracing::debug!(kind = %message.kind, "ignored a message that is not text");
            return;
        };
        if !is_user_id(&sender.id) {
            tracing::warn!("ignored a message from a malformed user id");
            return;
        }
        if !token.is_empty() && !self.first_time(token) {
            tracing::debug!(
                message_token = token,
                "Viber repeated a message already handled; ignoring it"
            );
            return;
        }
        let inbound = Arc::clone(self);
        tokio::spawn(async move {
            // Writing subscribes them to the bot again: what they follow resumes first, so the
            // command's answer (`list`) already shows it.
            if let Some(users) = inbound.sink.users() {
                match users.resume(&sender.id).await {
                    Ok(0) => {}
                    Ok(resumed) => {
                        tracing::info!(
                            resumed,
                            "a Viber user wrote again; what they follow resumes"
                        );
                    }
                    Err(error) => {
                        tracing::error!(error = %sink_api::error_chain(&*error), "cannot resume what a Viber user follows");
                    }
                }
            }
            let command = Command {
                chat: Recipient::new(sender.id.clone()),
                user: sender.name,
                text,
                language: sender.language,
            };
            let reply = inbound.commands.handle(command).await;
            let text = render::fit(&reply.text, render::MAX_TEXT);
            if let Err(error) = inbound.sink.send_text(&sender.id, &text).await {
                tracing::warn!(error = %sink_api::error_chain(&error), "cannot answer a Viber command");
            }
        });
    }

    /// The user unsubscribed: what they follow is paused. Nothing is sent to them: Viber
    /// refuses messages to users who unsubscribed.
    async fn unsubscribed(&self, user_id: String) -> Response {
        if !is_user_id(&user_id) {
            tracing::warn!("ignored an unsubscription of a malformed user id");
            return StatusCode::OK.into_response();
        }
        let Some(users) = self.sink.users() else {
            tracing::warn!("a Viber user unsubscribed, and nothing records it");
            return StatusCode::OK.into_response();
        };
        let task = tokio::spawn(async move { users.pause(&user_id).await });
        record(
            task,
            "pause what an unsubscribed Viber user follows",
            |paused| {
                tracing::info!(
                    paused,
                    "a Viber user unsubscribed; what they follow is paused"
                );
            },
        )
        .await
    }

    /// The user subscribed again: what they follow resumes.
    async fn subscribed(&self, user_id: String) -> Response {
        if !is_user_id(&user_id) {
            tracing::warn!("ignored a subscription of a malformed user id");
            return StatusCode::OK.into_response();
        }
        let Some(users) = self.sink.users() else {
            return StatusCode::OK.into_response();
        };
        let task = tokio::spawn(async move { users.resume(&user_id).await });
        record(task, "resume what a Viber user follows", |resumed| {
            tracing::info!(resumed, "a Viber user subscribed; what they follow resumes");
        })
        .await
    }

    /// A message did not reach the user's devices: a warning, and its delivery recorded as
    /// failed.
    async fn failed(
        &self,
        token: String,
        user_id: Option<String>,
        desc: Option<String>,
    ) -> Response {
        let desc = desc.unwrap_or_default();
        tracing::warn!(
            message_token = %token,
            recipient = user_id.as_deref().unwrap_or_default(),
            description = %desc,
            "Viber could not deliver a message to the user's devices"
        );
        let Some(user_id) = user_id.filter(|id| is_user_id(id)) else {
            return StatusCode::OK.into_response();
        };
        let Some(users) = self.sink.users().filter(|_| !token.is_empty()) else {
            return StatusCode::OK.into_response();
        };
        let error = if desc.is_empty() {
            "Viber could not deliver the message to the user's devices".to_owned()
        } else {
            format!("Viber could not deliver the message to the user's devices: {desc}")
        };
        let task = tokio::spawn(async move { users.failed(&user_id, &token, &error).await });
        record(task, "record a delivery Viber reported failed", |found| {
            if !found {
                tracing::warn!("no delivery has the failed message's token; nothing recorded");
            }
        })
        .await
    }

    /// Records `token`; `false` if it was already handled.
    fn first_time(&self, token: &str) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.iter().any(|t| t == token) {
            return false;
        }
        if seen.len() >= REMEMBERED_MESSAGES {
            seen.pop_front();
        }
        seen.push_back(token.to_owned());
        true
    }
}

/// The answer to a callback whose news the core records in `task`: 200 once it is recorded
/// (`done` logs it) or when it takes longer than [`RECORD_DEADLINE`] (it finishes anyway); 500
/// when it failed, so that Viber sends the callback again.
async fn record<T>(
    task: tokio::task::JoinHandle<Result<T, BoxError>>,
    what: &'static str,
    done: impl FnOnce(T),
) -> Response {
    let failed = match tokio::time::timeout(RECORD_DEADLINE, task).await {
        Ok(Ok(Ok(value))) => {
            done(value);
            return StatusCode::OK.into_response();
        }
        Ok(Ok(Err(error))) => sink_api::error_chain(&*error),
        Ok(Err(error)) => error.to_string(),
        Err(_) => {
            tracing::warn!(
                what,
                "slow to record a Viber callback; acknowledged before it finished"
            );
            return StatusCode::OK.into_response();
        }
    };
    tracing::error!(error = %failed, what, "cannot record a Viber callback; Viber will send it again");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(serde_json::json!({ "error": "cannot record the callback" })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    /// Computed apart from this code: `printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$TOKEN"`.
    #[test]
    fn the_signature_is_the_hex_hmac_sha256_of_the_body_keyed_with_the_token() {
        let token = b"445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9";
        let body = br#"{"event":"webhook","timestamp":1457764197627,"message_token":241256543215}"#;
        let signature = sign(token, body);
        assert_eq!(
            signature,
            "bd52434b46be1542d32bfa5e3332b757b927e183c5ef3b20a5f9877207dc55b9"
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            SIGNATURE_HEADER,
            HeaderValue::from_str(&signature.to_ascii_uppercase()).unwrap(),
        );
        assert_eq!(check(token, &headers, body), Ok(()));
        let mut tampered = body.to_vec();
        tampered[2] = b'E';
        assert_eq!(
            check(token, &headers, &tampered),
            Err("signature does not match")
        );
        assert_eq!(
            check(b"another-token", &headers, body),
            Err("signature does not match")
        );
        assert_eq!(
            check(token, &HeaderMap::new(), body),
            Err("missing X-Viber-Content-Signature")
        );
    }

    #[test]
    fn user_ids_are_base64ish() {
        assert!(is_user_id("01234567890A="));
        assert!(is_user_id("jc9HsWTZ2Yf2NkRZ8KcNug=="));
        assert!(is_user_id("a+b/c"));
        assert!(!is_user_id(""));
        assert!(!is_user_id("has space"));
        assert!(!is_user_id("+15551234567\n"));
        assert!(!is_user_id(&"A".repeat(101)));
        assert!(is_user_id(&"A".repeat(100)));
    }

    #[test]
    fn callbacks_parse_with_64_bit_tokens() {
        let c: Callback = serde_json::from_str(
            r#"{"event":"message","timestamp":1457764197627,"message_token":4912661846655238145,
               "sender":{"id":"01234567890A=","name":"John McClane","language":"en","country":"UK","api_version":1},
               "message":{"type":"text","text":"subscribe France","tracking_data":"x"}}"#,
        )
        .unwrap();
        let Callback::Message {
            message_token,
            sender,
            message,
        } = c
        else {
            panic!("a message")
        };
        assert_eq!(token_text(message_token.as_ref()), "4912661846655238145");
        assert_eq!(sender.id, "01234567890A=");
        assert_eq!(message.text.as_deref(), Some("subscribe France"));
        let c: Callback = serde_json::from_str(
            r#"{"event":"seen","timestamp":1,"message_token":1,"user_id":"a"}"#,
        )
        .unwrap();
        assert!(matches!(c, Callback::Other));
    }
}
