//! The Telegram sink against a local fake of the Bot API, through teloxide.

use std::time::Duration;

use secrecy::SecretString;
use sink_api::testing::RecordingCommands;
use sink_api::{Notification, Recipient, Replaces, Sink, SinkError};
use sink_telegram::testing::{Answer, FakeTelegram};
use sink_telegram::{Config, TelegramSink};
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "123456:test-token";

fn config(fake: &FakeTelegram) -> Config {
    Config {
        token: SecretString::from(TOKEN),
        endpoint: fake.endpoint(),
        chats: vec!["-100200".into()],
        commands: true,
        poll_timeout: Duration::from_secs(1),
        per_chat_per_second: 1,
        per_group_per_minute: 20,
        global_per_second: 30,
    }
}

fn note(title: &str) -> Notification {
    sink_api::testing::goal(title, "MBAPPE (France) 65'")
}

async fn sink() -> (FakeTelegram, TelegramSink) {
    let _installed = rustls::crypto::ring::default_provider().install_default();
    let fake = FakeTelegram::start(TOKEN).await;
    let sink = TelegramSink::new(config(&fake)).unwrap();
    (fake, sink)
}

#[tokio::test]
async fn sends_html_to_the_chat_and_returns_the_message_id() {
    let (fake, sink) = sink().await;
    let receipt = sink
        .send(
            &Recipient::new("42"),
            &note("⚽ GOAL! France 4-1 <Croatia>"),
        )
        .await
        .unwrap();
    let sent = fake.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "sendMessage");
    assert_eq!(sent[0].chat_id, "42");
    assert_eq!(sent[0].parse_mode.as_deref(), Some("HTML"));
    assert_eq!(
        sent[0].text,
        "<b>⚽ GOAL! France 4-1 &lt;Croatia&gt;</b>\nMBAPPE (France) 65'"
    );
    assert_eq!(receipt.platform_id, Some(sent[0].message_id.to_string()));
    assert!(sink.healthcheck().await.is_ok());
    assert_eq!(sink.recipients(), vec![Recipient::new("-100200")]);
}

#[tokio::test]
async fn a_correction_edits_the_original_message() {
    let (fake, sink) = sink().await;
    let mut correction = note("🚫 Goal disallowed: France");
    correction.replaces = Some(Replaces {
        event_id: "e0".into(),
        receipt: Some("77".into()),
        original_title: Some("⚽ GOAL! France 1-0 Croatia".into()),
    });
    let receipt = sink.send(&Recipient::new("42"), &correction).await.unwrap();
    let sent = fake.sent();
    assert_eq!(sent[0].method, "editMessageText");
    assert_eq!(sent[0].message_id, 77);
    assert!(
        sent[0]
            .text
            .starts_with("<s>⚽ GOAL! France 1-0 Croatia</s>\n<b>🚫 Goal disallowed")
    );
    assert_eq!(receipt.platform_id.as_deref(), Some("77"));
}

#[tokio::test]
async fn failures_are_classified() {
    let (fake, sink) = sink().await;
    fake.script([Answer::RetryAfter(3), Answer::Blocked]);
    let to = Recipient::new("42");
    match sink.send(&to, &note("t")).await {
        Err(SinkError::RateLimited { retry_after }) => {
            assert_eq!(retry_after, Some(Duration::from_secs(3)))
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert!(matches!(
        sink.send(&to, &note("t")).await,
        Err(SinkError::RecipientGone(_))
    ));
    let wrong = TelegramSink::new(Config {
        token: SecretString::from("999:wrong"),
        ..config(&fake)
    })
    .unwrap();
    match wrong.send(&to, &note("t")).await {
        Err(SinkError::Permanent(e)) => assert!(!e.to_string().contains("999:wrong"), "{e}"),
        other => panic!("expected Permanent, got {other:?}"),
    }
}

#[tokio::test]
async fn long_messages_are_split() {
    let (fake, sink) = sink().await;
    let mut long = note("title");
    long.body = vec!["x".repeat(1000); 6].join("\n");
    sink.send(&Recipient::new("42"), &long).await.unwrap();
    let sent = fake.sent();
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|s| s.text.encode_utf16().count() <= 4096));
}

#[tokio::test]
async fn commands_are_read_by_long_polling_and_answered_in_their_chat() {
    let (fake, sink) = sink().await;
    let commands = RecordingCommands::new();
    let stop = CancellationToken::new();
    let listener = tokio::spawn({
        let sink = sink.clone();
        let commands = std::sync::Arc::new(commands.clone());
        let stop = stop.clone();
        async move { sink.listen(commands, stop).await }
    });
    fake.user_says(42, "/subscribe@herald_bot France goals", Some("pt-br"));
    fake.user_says(-100, "just chatting", None);
    fake.user_says(-100, "/help", None);
    let sent = fake.wait_sent(2, Duration::from_secs(10)).await;
    let received = commands.received();
    assert_eq!(
        received.len(),
        2,
        "the chatter in the group is not a command: {received:?}"
    );
    assert_eq!(received[0].chat, Recipient::new("42"));
    assert_eq!(received[0].text, "/subscribe@herald_bot France goals");
    assert_eq!(received[0].language.as_deref(), Some("pt-br"));
    assert_eq!(received[1].chat, Recipient::new("-100"));
    assert_eq!(sent[0].chat_id, "42");
    assert_eq!(sent[0].text, "ok: /subscribe@herald_bot France goals");
    assert_eq!(sent[1].chat_id, "-100");
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), listener)
        .await
        .unwrap()
        .unwrap();
    // Each update is handled once: the offset moved past them.
    assert_eq!(commands.received().len(), 2);
}
