//! Inbound over HTTP: the Events API (`@herald subscribe France`) and the `/herald` slash
//! command, posted by Slack to herald's HTTP server. Every request is checked against Slack's
//! `v0` signature and a five minute window, then handed to [`Inbound`], as Socket Mode's are.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use secrecy::ExposeSecret;
use serde::Deserialize;
use sink_api::{Commands, verify};

use crate::SlackSink;
use crate::inbound::{Event, Inbound, SlashCommand};

/// The routes of sink instance `id`: `POST /webhooks/<id>/events` and
/// `POST /webhooks/<id>/commands`. They need the config's `signing_secret`: without one they
/// refuse every request (the plugin does not serve them then).
pub fn router<S>(sink: SlackSink, id: &str, commands: Commands) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    routes(Inbound::new(id, sink, commands))
}

/// The same routes around an [`Inbound`] that Socket Mode may share.
pub(crate) fn routes<S>(inbound: Arc<Inbound>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let id = inbound.id.clone();
    Router::new()
        .route(&format!("/webhooks/{id}/events"), post(events))
        .route(&format!("/webhooks/{id}/commands"), post(slash_command))
        .with_state(inbound)
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

/// Verifies a request with the sink's signing secret.
fn from_slack(inbound: &Inbound, headers: &HeaderMap, body: &[u8]) -> Result<(), &'static str> {
    let Some(secret) = inbound.sink.config.signing_secret.as_ref() else {
        return Err("this sink has no signing_secret: it takes commands over Socket Mode only");
    };
    verify(
        secret.expose_secret().as_bytes(),
        headers,
        body,
        verify::now(),
    )
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

async fn events(State(inbound): State<Arc<Inbound>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(reason) = from_slack(&inbound, &headers, &body) {
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
            inbound.event(&event_id, event);
            StatusCode::OK.into_response()
        }
        Envelope::Other => StatusCode::OK.into_response(),
    }
}

async fn slash_command(
    State(inbound): State<Arc<Inbound>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(reason) = from_slack(&inbound, &headers, &body) {
        return unauthorized(reason);
    }
    let form: SlashCommand = match serde_urlencoded::from_bytes(&body) {
        Ok(f) => f,
        Err(e) => {
            return (StatusCode::BAD_REQUEST, format!("malformed command: {e}")).into_response();
        }
    };
    let text = inbound.slash_command(form).await;
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
}
