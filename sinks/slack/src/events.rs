//! Inbound: the Events API (`@herald subscribe France`) and the `/herald` slash command, on
//! herald's HTTP server. Every request is checked against Slack's `v0` signature and a five
//! minute window; events are acknowledged at once, handled afterwards, and handled once.

use std::collections::VecDeque;
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
use sink_api::{Command, Commands, Recipient, verify};

use crate::SlackSink;

/// Slack expects an answer within 3 s; a slash command's reply must come before that.
const COMMAND_DEADLINE: Duration = Duration::from_millis(2500);
/// Event ids remembered to ignore Slack's retries of events already handled.
const REMEMBERED_EVENTS: usize = 1000;

struct Inbound {
    sink: SlackSink,
    commands: Commands,
    seen: Mutex<VecDeque<String>>,
}

/// The routes of sink instance `id`: `POST /webhooks/<id>/events` and
/// `POST /webhooks/<id>/commands`.
pub fn router<S>(sink: SlackSink, id: &str, commands: Commands) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let state = Arc::new(Inbound {
        sink,
        commands,
        seen: Mutex::new(VecDeque::new()),
    });
    Router::new()
        .route(&format!("/webhooks/{id}/events"), post(events))
        .route(&format!("/webhooks/{id}/commands"), post(slash_command))
        .with_state(state)
}

/// Checks `X-Slack-Signature` against `v0:<timestamp>:<body>` and the timestamp against `now`.
pub(crate) fn verify(
    secret: &[u8],
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<(), &'static str> {
    let timestamp = verify::header(headers, "x-slack-request-timestamp")
        .ok_or("missing X-Slack-Request-Timestamp")?;
    let signature =
        verify::header(headers, "x-slack-signature").ok_or("missing X-Slack-Signature")?;
    verify::fresh(timestamp, now)?;
    let expected = sign(secret, timestamp.trim(), body);
    if verify::same(expected.as_bytes(), signature.trim().as_bytes()) {
        Ok(())
    } else {
        Err("signature does not match")
    }
}

/// `v0=` and the hex HMAC-SHA256 of `v0:<timestamp>:<body>`.
pub(crate) fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let mac = verify::hmac_sha256(secret, &[b"v0:", timestamp.as_bytes(), b":", body]);
    format!("v0={}", hex::encode(mac))
}

fn unauthorized(reason: &str) -> Response {
    tracing::warn!(reason, "refused a request that does not come from Slack");
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(serde_json::json!({ "error": reason })),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Envelope {
    UrlVerification {
        challenge: String,
    },
    EventCallback {
        event_id: String,
        event: Event,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    channel: Option<String>,
    user: Option<String>,
    text: Option<String>,
    channel_type: Option<String>,
    bot_id: Option<String>,
    subtype: Option<String>,
}

async fn events(State(inbound): State<Arc<Inbound>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(reason) = verify(
        inbound
            .sink
            .config
            .signing_secret
            .expose_secret()
            .as_bytes(),
        &headers,
        &body,
        verify::now(),
    ) {
        return unauthorized(reason);
    }
    let envelope: Envelope = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(e) => {
            return (StatusCode::BAD_REQUEST, format!("malformed event: {e}")).into_response();
        }
    };
    match envelope {
        Envelope::UrlVerification { challenge } => {
            axum::Json(serde_json::json!({ "challenge": challenge })).into_response()
        }
        Envelope::EventCallback { event_id, event } => {
            if !inbound.first_time(&event_id) {
                tracing::debug!(%event_id, "Slack retried an event already handled; ignoring it");
                return StatusCode::OK.into_response();
            }
            let for_us = event.bot_id.is_none()
                && event.subtype.is_none()
                && (event.kind == "app_mention"
                    || (event.kind == "message" && event.channel_type.as_deref() == Some("im")));
            if let (true, Some(channel), Some(text)) = (for_us, event.channel, event.text) {
                // Acknowledge now, work afterwards: Slack wants an answer within 3 s.
                let inbound = Arc::clone(&inbound);
                tokio::spawn(async move {
                    let command = Command {
                        chat: Recipient::new(channel.clone()),
                        user: event.user,
                        text: strip_mentions(&text),
                        language: None,
                    };
                    let reply = inbound.commands.handle(command).await;
                    if let Err(error) = inbound.sink.post_text(&channel, &reply.text).await {
                        tracing::warn!(%error, "cannot answer a Slack command");
                    }
                });
            }
            StatusCode::OK.into_response()
        }
        Envelope::Other => StatusCode::OK.into_response(),
    }
}

impl Inbound {
    /// Records `event_id`; `false` if it was already handled.
    fn first_time(&self, event_id: &str) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.iter().any(|id| id == event_id) {
            return false;
        }
        if seen.len() >= REMEMBERED_EVENTS {
            seen.pop_front();
        }
        seen.push_back(event_id.to_owned());
        true
    }
}

/// `<@U024BE7LH> subscribe France` → `subscribe France`.
fn strip_mentions(text: &str) -> String {
    text.split_whitespace()
        .filter(|word| !(word.starts_with("<@") && word.ends_with('>')))
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug, Deserialize)]
struct SlashCommand {
    #[serde(default)]
    text: String,
    channel_id: String,
    user_id: Option<String>,
}

async fn slash_command(
    State(inbound): State<Arc<Inbound>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(reason) = verify(
        inbound
            .sink
            .config
            .signing_secret
            .expose_secret()
            .as_bytes(),
        &headers,
        &body,
        verify::now(),
    ) {
        return unauthorized(reason);
    }
    let form: SlashCommand = match serde_urlencoded::from_bytes(&body) {
        Ok(f) => f,
        Err(e) => {
            return (StatusCode::BAD_REQUEST, format!("malformed command: {e}")).into_response();
        }
    };
    let command = Command {
        chat: Recipient::new(form.channel_id),
        user: form.user_id,
        text: form.text,
        language: None,
    };
    let text = match tokio::time::timeout(COMMAND_DEADLINE, inbound.commands.handle(command)).await
    {
        Ok(reply) => reply.text,
        Err(_) => "Still working on it; try again in a moment.".to_owned(),
    };
    axum::Json(serde_json::json!({ "response_type": "ephemeral", "text": text })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(timestamp: &str, signature: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            "x-slack-request-timestamp",
            HeaderValue::from_str(timestamp).unwrap(),
        );
        h.insert(
            "x-slack-signature",
            HeaderValue::from_str(signature).unwrap(),
        );
        h
    }

    /// The example from Slack's documentation on verifying requests.
    #[test]
    fn slacks_documented_example_verifies() {
        let secret = b"8f742231b10e8888abcd99yyyzzz85a5";
        let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let signature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
        assert_eq!(sign(secret, "1531420618", body), signature);
        assert_eq!(
            verify(
                secret,
                &headers("1531420618", signature),
                body,
                1_531_420_618 + 60
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                secret,
                &headers("1531420618", signature),
                body,
                1_531_420_618 + 301
            ),
            Err("timestamp too far from now")
        );
        let mut tampered = body.to_vec();
        tampered[0] = b'T';
        assert_eq!(
            verify(
                secret,
                &headers("1531420618", signature),
                &tampered,
                1_531_420_618
            ),
            Err("signature does not match")
        );
        assert_eq!(
            verify(secret, &HeaderMap::new(), body, 0),
            Err("missing X-Slack-Request-Timestamp")
        );
    }

    #[test]
    fn mentions_are_stripped() {
        assert_eq!(
            strip_mentions("<@U024BE7LH> subscribe   France"),
            "subscribe France"
        );
    }
}
