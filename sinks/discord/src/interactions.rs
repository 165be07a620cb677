//! Inbound: slash commands through Discord's interactions endpoint on herald's HTTP server,
//! verified with the application's Ed25519 public key; and their registration at startup.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use ed25519_dalek::VerifyingKey;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serenity::all::{CommandOptionType, CreateCommand, CreateCommandOption, GuildId};
use serenity::model::application::Command as AppCommand;
use sink_api::{Command, Commands, Recipient, SinkError, verify};

use crate::DiscordSink;

/// Discord expects an answer within 3 s.
const DEADLINE: Duration = Duration::from_millis(2500);
/// `flags` that make a reply visible only to the user who typed the command.
const EPHEMERAL: u64 = 1 << 6;

/// The public key from its hex form.
pub(crate) fn public_key(hex_key: &SecretString) -> Result<VerifyingKey, String> {
    verify::ed25519_key(hex_key.expose_secret())
}

/// Checks `X-Signature-Ed25519` over `timestamp + body`, and the timestamp against `now`.
pub(crate) fn check(
    key: &VerifyingKey,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<(), &'static str> {
    let signature =
        verify::header(headers, "x-signature-ed25519").ok_or("missing X-Signature-Ed25519")?;
    let timestamp =
        verify::header(headers, "x-signature-timestamp").ok_or("missing X-Signature-Timestamp")?;
    verify::fresh(timestamp, now)?;
    verify::ed25519(key, &[timestamp.as_bytes(), body], signature)
}

struct Inbound {
    key: VerifyingKey,
    commands: Commands,
}

/// The route of sink instance `id`: `POST /webhooks/<id>/interactions`. A sink whose public key
/// is invalid gets a route that refuses everything (the config check reports the key).
pub fn router<S>(sink: &DiscordSink, id: &str, commands: Commands) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let key = public_key(&sink.config.public_key).ok();
    let route = format!("/webhooks/{id}/interactions");
    match key {
        Some(key) => Router::new()
            .route(&route, post(interaction))
            .with_state(Arc::new(Inbound { key, commands })),
        None => Router::new().route(&route, post(|| async { StatusCode::UNAUTHORIZED })),
    }
}

#[derive(Debug, Deserialize)]
struct Interaction {
    #[serde(rename = "type")]
    kind: u8,
    data: Option<Data>,
    channel_id: Option<String>,
    member: Option<Member>,
    user: Option<User>,
    locale: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Data {
    name: String,
    #[serde(default)]
    options: Vec<CommandOption>,
}

#[derive(Debug, Deserialize)]
struct CommandOption {
    value: serde_json::Value,
}

#[derive(Debug, Deserialize)]
struct Member {
    user: Option<User>,
}

#[derive(Debug, Deserialize)]
struct User {
    id: String,
}

/// A Discord id: a snowflake, decimal digits only, that fits a `u64`.
fn is_snowflake(id: &str) -> bool {
    id.bytes().all(|b| b.is_ascii_digit()) && id.parse::<u64>().is_ok()
}

async fn interaction(
    State(inbound): State<Arc<Inbound>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(reason) = check(&inbound.key, &headers, &body, verify::now()) {
        tracing::warn!(
            reason,
            "refused an interaction that does not come from Discord"
        );
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({ "error": reason })),
        )
            .into_response();
    }
    let interaction: Interaction = match serde_json::from_slice(&body) {
        Ok(i) => i,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("malformed interaction: {e}"),
            )
                .into_response();
        }
    };
    match (interaction.kind, interaction.data, interaction.channel_id) {
        // PING: Discord checks the endpoint.
        (1, _, _) => axum::Json(serde_json::json!({ "type": 1 })).into_response(),
        (2, Some(_), Some(channel)) if !is_snowflake(&channel) => {
            tracing::warn!("refused an interaction whose channel id is not a Discord id");
            (
                StatusCode::BAD_REQUEST,
                axum::Json(serde_json::json!({ "error": "channel_id is not a Discord id", "field": "channel_id" })),
            )
                .into_response()
        }
        (2, Some(data), Some(channel)) => {
            let mut text = data.name;
            for option in data.options {
                match option.value {
                    serde_json::Value::String(s) => text.push_str(&format!(" {s}")),
                    other => text.push_str(&format!(" {other}")),
                }
            }
            let user = interaction
                .member
                .and_then(|m| m.user)
                .or(interaction.user)
                .map(|u| u.id);
            let command = Command {
                chat: Recipient::new(channel),
                user,
                text,
                language: interaction.locale,
            };
            let content =
                match tokio::time::timeout(DEADLINE, inbound.commands.handle(command)).await {
                    Ok(reply) => reply.text,
                    Err(_) => "Still working on it; try again in a moment.".to_owned(),
                };
            axum::Json(serde_json::json!({ "type": 4, "data": { "content": content, "flags": EPHEMERAL } })).into_response()
        }
        _ => (StatusCode::BAD_REQUEST, "unsupported interaction").into_response(),
    }
}

/// The slash commands herald answers.
fn definitions() -> Vec<CreateCommand> {
    let text = |name: &'static str, description: &'static str| {
        CreateCommandOption::new(CommandOptionType::String, name, description).required(false)
    };
    vec![
        CreateCommand::new("subscribe")
            .description("Follow a team, a competition or a match in this channel")
            .add_option(text(
                "target",
                "Team, competition or match id (empty: every match)",
            ))
            .add_option(text("kinds", "Only these: goals cards penalties periods")),
        CreateCommand::new("unsubscribe")
            .description("Stop following something (empty: everything)")
            .add_option(text("target", "Team, competition or match id")),
        CreateCommand::new("list").description("What this channel follows"),
        CreateCommand::new("live").description("Scores of the matches being played"),
        CreateCommand::new("lang")
            .description("Language of the notifications")
            .add_option(
                text("locale", "en or pt-BR")
                    .add_string_choice("English", "en")
                    .add_string_choice("Português (Brasil)", "pt-BR"),
            ),
        CreateCommand::new("quiet")
            .description("Quiet hours: hold notifications at night, one digest after")
            .add_option(text(
                "window",
                "23:00-07:00 Europe/Lisbon, optionally drop cards; off to end (empty: show)",
            )),
        CreateCommand::new("spoilers")
            .description("Whether notifications show the score")
            .add_option(
                text("shown", "off: no score until you ask with /result")
                    .add_string_choice("on", "on")
                    .add_string_choice("off", "off"),
            ),
        CreateCommand::new("mode")
            .description("One message per event, or one live ticker per match edited in place")
            .add_option(
                text("mode", "ticker or messages")
                    .add_string_choice("ticker", "ticker")
                    .add_string_choice("messages", "messages"),
            ),
        CreateCommand::new("result")
            .description("The score of a match (for spoiler-free channels)")
            .add_option(text("target", "Team or match id")),
        CreateCommand::new("help").description("What herald can do"),
    ]
}

/// Registers the slash commands (in the configured server, or globally). Idempotent: Discord
/// replaces the whole set.
///
/// # Errors
/// When Discord refuses the registration.
pub async fn register_commands(sink: &DiscordSink) -> Result<(), SinkError> {
    let definitions = definitions();
    let result = if sink.config.guild_id == 0 {
        AppCommand::set_global_commands(&sink.http, definitions).await
    } else {
        GuildId::new(sink.config.guild_id)
            .set_commands(&sink.http, definitions)
            .await
    };
    result.map(|_| ()).map_err(|e| crate::client::classify(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use ed25519_dalek::{Signer, SigningKey};

    fn signed(key: &SigningKey, timestamp: &str, body: &[u8]) -> HeaderMap {
        let mut message = timestamp.as_bytes().to_vec();
        message.extend_from_slice(body);
        let mut h = HeaderMap::new();
        h.insert(
            "x-signature-ed25519",
            HeaderValue::from_str(&hex::encode(key.sign(&message).to_bytes())).unwrap(),
        );
        h.insert(
            "x-signature-timestamp",
            HeaderValue::from_str(timestamp).unwrap(),
        );
        h
    }

    #[test]
    fn signatures_verify_only_with_the_right_key_body_and_time() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let public = key.verifying_key();
        let body = br#"{"type":1}"#;
        assert_eq!(
            check(
                &public,
                &signed(&key, "1700000000", body),
                body,
                1_700_000_030
            ),
            Ok(())
        );
        assert_eq!(
            check(
                &public,
                &signed(&key, "1700000000", body),
                br#"{"type":2}"#,
                1_700_000_030
            ),
            Err("signature does not match")
        );
        let other = SigningKey::from_bytes(&[8; 32]);
        assert_eq!(
            check(
                &public,
                &signed(&other, "1700000000", body),
                body,
                1_700_000_030
            ),
            Err("signature does not match")
        );
        assert_eq!(
            check(
                &public,
                &signed(&key, "1700000000", body),
                body,
                1_700_000_400
            ),
            Err("timestamp too far from now")
        );
        assert_eq!(
            check(&public, &HeaderMap::new(), body, 0),
            Err("missing X-Signature-Ed25519")
        );
    }

    #[test]
    fn public_keys_are_checked() {
        let key = SigningKey::from_bytes(&[7; 32]).verifying_key();
        assert!(public_key(&SecretString::from(hex::encode(key.to_bytes()))).is_ok());
        assert!(public_key(&SecretString::from("abc")).is_err());
        assert!(public_key(&SecretString::from("zz".repeat(32))).is_err());
    }
}
