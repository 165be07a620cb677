//! The fuzz entry point of Discord's interactions endpoint (herald's `fuzz/` targets and their
//! corpus test): a request goes through the real router, signature check and parser included.
//!
//! Not an API: hidden from the docs, and free to change with the fuzz targets.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use ed25519_dalek::{Signer as _, SigningKey};
use secrecy::SecretString;
use sink_api::{Command, CommandHandler, Reply, verify};

use crate::{Config, DiscordSink};

/// The application's key pair (its public half is the sink's `public_key`).
const KEY: [u8; 32] = [7; 32];

/// Answers every command with its text, at once.
struct Echo;

impl CommandHandler for Echo {
    fn handle(&self, command: Command) -> Pin<Box<dyn Future<Output = Reply> + Send + '_>> {
        Box::pin(async move { Reply { text: command.text } })
    }
}

/// The runtime and the route, built once.
struct Harness {
    runtime: tokio::runtime::Runtime,
    router: Router,
    key: SigningKey,
}

fn harness() -> Option<&'static Harness> {
    static HARNESS: OnceLock<Option<Harness>> = OnceLock::new();
    HARNESS
        .get_or_init(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            let key = SigningKey::from_bytes(&KEY);
            let sink = DiscordSink::new(Config {
                bot_token: SecretString::from("fuzzing-bot-token"),
                application_id: 1,
                public_key: SecretString::from(hex::encode(key.verifying_key().to_bytes())),
                channels: Vec::new(),
                guild_id: 0,
                register_commands: false,
                endpoint: None,
            });
            let router = crate::router(&sink, "fuzzing", Arc::new(Echo));
            Some(Harness {
                runtime,
                router,
                key,
            })
        })
        .as_ref()
}

/// One `POST /webhooks/fuzzing/interactions`. The first byte's low bit picks how the request
/// is signed: set, the first line of the rest is `timestamp signature` as sent and the body
/// follows; clear, the rest is the body, signed now with the application's key as Discord
/// does (Ed25519 over timestamp and body), so the parser behind the check is reached; such a
/// request must never be refused as unsigned.
pub fn interaction(data: &[u8]) {
    let Some(harness) = harness() else {
        return;
    };
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let signed_here = flags & 1 == 0;
    let (timestamp, signature, body) = if signed_here {
        let timestamp = verify::now().to_string();
        let message = [timestamp.as_bytes(), rest].concat();
        let signature = hex::encode(harness.key.sign(&message).to_bytes());
        (timestamp.into_bytes(), signature.into_bytes(), rest)
    } else {
        let (head, body) = split_at_byte(rest, b'\n');
        let (timestamp, signature) = split_at_byte(head, b' ');
        (timestamp.to_vec(), signature.to_vec(), body)
    };
    let Ok(request) = Request::post("/webhooks/fuzzing/interactions")
        .header("x-signature-timestamp", timestamp)
        .header("x-signature-ed25519", signature)
        .body(Body::from(body.to_vec()))
    else {
        return;
    };
    let mut router = harness.router.clone();
    harness.runtime.block_on(async move {
        let Ok(response) = tower::Service::call(&mut router, request).await;
        assert!(
            !(signed_here && response.status() == axum::http::StatusCode::UNAUTHORIZED),
            "refused an interaction signed with the application's key"
        );
        // The whole answer, as Discord reads it.
        let _answer = axum::body::to_bytes(response.into_body(), usize::MAX).await;
    });
}

/// The bytes before the first `separator`, and those after it (none when there is none).
fn split_at_byte(data: &[u8], separator: u8) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == separator) {
        Some(at) => (
            data.get(..at).unwrap_or_default(),
            data.get(at + 1..).unwrap_or_default(),
        ),
        None => (data, &[]),
    }
}
