//! The Discord sink against a local fake of the REST API through serenity, and its
//! interactions endpoint with signed (and forged) requests.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use secrecy::SecretString;
use sink_api::testing::RecordingCommands;
use sink_api::{Notification, Recipient, Replaces, Sink, SinkError};
use sink_discord::testing::{Answer, AppKey, FakeDiscord};
use sink_discord::{Config, DiscordSink};

const TOKEN: &str = "discord-bot-token";

fn note(title: &str) -> Notification {
    Notification {
        data: serde_json::json!({"home": "France", "away": "Croatia", "score": {"home": 4, "away": 1}, "minute": 65}),
        ..sink_api::testing::goal(title, "MBAPPE (France) 65'")
    }
}

async fn sink() -> (FakeDiscord, DiscordSink, AppKey) {
    let _installed = rustls::crypto::ring::default_provider().install_default();
    let fake = FakeDiscord::start(TOKEN).await;
    let key = AppKey::new();
    let sink = DiscordSink::new(Config {
        bot_token: SecretString::from(TOKEN),
        application_id: 4242,
        public_key: SecretString::from(key.public_key()),
        channels: vec!["900".into()],
        guild_id: 0,
        register_commands: true,
        endpoint: Some(fake.endpoint()),
    });
    (fake, sink, key)
}

#[tokio::test]
async fn posts_an_embed_and_returns_the_message_id() {
    let (fake, sink, _) = sink().await;
    let receipt = sink
        .send(&Recipient::new("123"), &note("⚽ GOAL! France 4-1 Croatia"))
        .await
        .unwrap();
    let messages = fake.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].action, "create");
    assert_eq!(messages[0].channel, "123");
    let embed = &messages[0].embed;
    assert_eq!(embed["title"], "⚽ GOAL! France 4-1 Croatia");
    assert_eq!(embed["description"], "MBAPPE (France) 65'");
    assert_eq!(embed["color"], 0x2E_CC71);
    assert_eq!(embed["fields"][0]["value"], "France 4-1 Croatia");
    assert_eq!(embed["fields"][1]["value"], "65'");
    assert_eq!(
        receipt.platform_id.as_deref(),
        Some(messages[0].id.as_str())
    );
    assert!(sink.healthcheck().await.is_ok());
    assert_eq!(sink.recipients(), vec![Recipient::new("900")]);
}

#[tokio::test]
async fn a_correction_edits_the_goal_message() {
    let (fake, sink, _) = sink().await;
    let mut correction = note("🚫 Goal disallowed: France");
    correction.kind = "goal_disallowed".into();
    correction.replaces = Some(Replaces {
        event_id: "e0".into(),
        receipt: Some("1100000000000000077".into()),
        original_title: Some("⚽ GOAL! France 1-0 Croatia".into()),
    });
    sink.send(&Recipient::new("123"), &correction)
        .await
        .unwrap();
    let messages = fake.messages();
    assert_eq!(messages[0].action, "edit");
    assert_eq!(messages[0].id, "1100000000000000077");
    assert!(
        messages[0].embed["description"]
            .as_str()
            .unwrap()
            .starts_with("~~⚽ GOAL! France 1-0 Croatia~~")
    );
}

#[tokio::test]
async fn a_429_through_an_endpoint_is_reported_to_the_dispatcher() {
    let (fake, sink, _) = sink().await;
    fake.script([Answer::RateLimited(2)]);
    let started = Instant::now();
    let outcome = sink.send(&Recipient::new("123"), &note("t")).await;
    assert!(
        matches!(outcome, Err(SinkError::RateLimited { .. })),
        "{outcome:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the sink itself does not sleep"
    );
    assert_eq!(fake.attempts(), 1);
}

#[tokio::test]
async fn failures_are_classified() {
    let (fake, sink, _) = sink().await;
    fake.script([Answer::UnknownChannel, Answer::Status(400)]);
    let to = Recipient::new("123");
    assert!(matches!(
        sink.send(&to, &note("t")).await,
        Err(SinkError::RecipientGone(_))
    ));
    assert!(matches!(
        sink.send(&to, &note("t")).await,
        Err(SinkError::Permanent(_) | SinkError::Transient(_))
    ));
    assert!(matches!(
        sink.send(&Recipient::new("general"), &note("t")).await,
        Err(SinkError::RecipientGone(_))
    ));
}

#[tokio::test]
async fn slash_commands_are_registered() {
    let (fake, sink, _) = sink().await;
    sink_discord::register_commands(&sink).await.unwrap();
    let names: Vec<String> = fake
        .commands()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "subscribe",
            "unsubscribe",
            "list",
            "live",
            "lang",
            "quiet",
            "spoilers",
            "mode",
            "result",
            "help"
        ]
    );
}

fn now() -> String {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string()
}

async fn serve(sink: &DiscordSink, commands: RecordingCommands) -> String {
    let router: axum::Router = sink_discord::router(sink, "discord", Arc::new(commands));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}/webhooks/discord/interactions")
}

async fn post(url: &str, key: &AppKey, body: &str) -> reqwest::Response {
    let ts = now();
    sink_api::http::client()
        .unwrap()
        .post(url)
        .header("content-type", "application/json")
        .header("x-signature-timestamp", &ts)
        .header("x-signature-ed25519", key.sign(&ts, body.as_bytes()))
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn interactions_are_verified_and_answered() {
    let (_fake, sink, key) = sink().await;
    let commands = RecordingCommands::new();
    let url = serve(&sink, commands.clone()).await;
    let ping = post(&url, &key, r#"{"type":1}"#).await;
    assert_eq!(ping.status(), 200);
    assert_eq!(ping.json::<serde_json::Value>().await.unwrap()["type"], 1);

    let body = serde_json::json!({
        "type": 2, "channel_id": "321", "locale": "pt-BR",
        "member": {"user": {"id": "77", "username": "fan"}},
        "data": {"name": "subscribe", "options": [{"name": "target", "type": 3, "value": "France"}, {"name": "kinds", "type": 3, "value": "goals"}]}
    })
    .to_string();
    let answered = post(&url, &key, &body).await;
    assert_eq!(answered.status(), 200);
    let json: serde_json::Value = answered.json().await.unwrap();
    assert_eq!(json["type"], 4);
    assert_eq!(json["data"]["content"], "ok: subscribe France goals");
    let received = commands.received();
    assert_eq!(received[0].chat, Recipient::new("321"));
    assert_eq!(received[0].language.as_deref(), Some("pt-BR"));

    let forged = post(&url, &AppKey::from_seed(7), &body).await;
    assert_eq!(forged.status(), 401);
    assert_eq!(
        commands.received().len(),
        1,
        "a forged interaction changes nothing"
    );
}
