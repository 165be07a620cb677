//! The Slack sink against a local fake of the Web API through slack-morphism, and its inbound
//! routes with signed (and forged) requests.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::SecretString;
use sink_api::testing::RecordingCommands;
use sink_api::{Notification, Recipient, Replaces, Sink, SinkError};
use sink_slack::testing::{Answer, FakeSlack, signature};
use sink_slack::{Config, SlackSink};

const TOKEN: &str = "xoxb-test-token";
const SECRET: &str = "slack-signing-secret";

fn note(title: &str) -> Notification {
    sink_api::testing::goal(title, "MBAPPE (France) 65'")
}

async fn sink() -> (FakeSlack, SlackSink) {
    let _installed = rustls::crypto::ring::default_provider().install_default();
    let fake = FakeSlack::start(TOKEN).await;
    let sink = SlackSink::new(Config {
        bot_token: SecretString::from(TOKEN),
        signing_secret: Some(SecretString::from(SECRET)),
        app_token: None,
        endpoint: fake.endpoint(),
        channels: vec!["C0NEWS".into()],
        per_channel_per_second: 1,
    })
    .unwrap();
    (fake, sink)
}

#[tokio::test]
async fn posts_block_kit_to_the_channel_and_returns_its_ts() {
    let (fake, sink) = sink().await;
    let receipt = sink
        .send(
            &Recipient::new("C123"),
            &note("⚽ GOAL! France 4-1 Croatia"),
        )
        .await
        .unwrap();
    let posted = fake.posted();
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].method, "chat.postMessage");
    assert_eq!(posted[0].channel, "C123");
    assert_eq!(posted[0].text, "⚽ GOAL! France 4-1 Croatia");
    assert_eq!(posted[0].blocks[0]["type"], "section");
    assert_eq!(posted[0].blocks[0]["text"]["type"], "mrkdwn");
    assert_eq!(
        posted[0].blocks[0]["text"]["text"],
        "*⚽ GOAL! France 4-1 Croatia*\nMBAPPE (France) 65'"
    );
    assert_eq!(receipt.platform_id.as_deref(), Some(posted[0].ts.as_str()));
    assert!(sink.healthcheck().await.is_ok());
    assert_eq!(sink.recipients(), vec![Recipient::new("C0NEWS")]);
}

#[tokio::test]
async fn a_correction_updates_the_original_message() {
    let (fake, sink) = sink().await;
    let mut correction = note("🚫 Goal disallowed: France");
    correction.replaces = Some(Replaces {
        event_id: "e0".into(),
        receipt: Some("1700000000.000042".into()),
        original_title: Some("⚽ GOAL! France 1-0 Croatia".into()),
    });
    sink.send(&Recipient::new("C123"), &correction)
        .await
        .unwrap();
    let posted = fake.posted();
    assert_eq!(posted[0].method, "chat.update");
    assert_eq!(posted[0].ts, "1700000000.000042");
    assert!(
        posted[0].blocks[0]["text"]["text"]
            .as_str()
            .unwrap()
            .starts_with("~⚽ GOAL! France 1-0 Croatia~\n*🚫")
    );
}

#[tokio::test]
async fn failures_are_classified() {
    let (fake, sink) = sink().await;
    fake.script([
        Answer::RateLimited(3),
        Answer::Error("channel_not_found"),
        Answer::Error("invalid_blocks"),
        Answer::Status(503),
    ]);
    let to = Recipient::new("C123");
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
    assert!(matches!(
        sink.send(&to, &note("t")).await,
        Err(SinkError::Permanent(_))
    ));
    assert!(matches!(
        sink.send(&to, &note("t")).await,
        Err(SinkError::Transient(_))
    ));
}

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// Serves the sink's inbound routes; returns their base URL.
async fn inbound(sink: &SlackSink, commands: RecordingCommands) -> String {
    let router: axum::Router = sink_slack::router(sink.clone(), "slack", Arc::new(commands));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}/webhooks/slack")
}

async fn signed(
    url: &str,
    body: &str,
    content_type: &str,
    timestamp: i64,
    secret: &str,
) -> reqwest::Response {
    let ts = timestamp.to_string();
    sink_api::http::client()
        .unwrap()
        .post(url)
        .header("content-type", content_type)
        .header("x-slack-request-timestamp", &ts)
        .header("x-slack-signature", signature(secret, &ts, body.as_bytes()))
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

fn mention(event_id: &str) -> String {
    serde_json::json!({
        "type": "event_callback",
        "event_id": event_id,
        "event": {"type": "app_mention", "channel": "C777", "user": "U1", "text": "<@UHERALD> subscribe +15551234567", "ts": "1.1"}
    })
    .to_string()
}

#[tokio::test]
async fn the_url_verification_challenge_is_answered() {
    let (_fake, sink) = sink().await;
    let base = inbound(&sink, RecordingCommands::new()).await;
    let body = r#"{"type":"url_verification","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","token":"x"}"#;
    let r = signed(
        &format!("{base}/events"),
        body,
        "application/json",
        now(),
        SECRET,
    )
    .await;
    assert_eq!(r.status(), 200);
    let json: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        json["challenge"],
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );
}

#[tokio::test]
async fn a_mention_is_acknowledged_handled_once_and_answered_in_its_channel() {
    let (fake, sink) = sink().await;
    let commands = RecordingCommands::new();
    let base = inbound(&sink, commands.clone()).await;
    let r = signed(
        &format!("{base}/events"),
        &mention("Ev1"),
        "application/json",
        now(),
        SECRET,
    )
    .await;
    assert_eq!(r.status(), 200);
    let posted = fake.wait_posted(1, Duration::from_secs(5)).await;
    assert_eq!(posted[0].channel, "C777");
    assert_eq!(posted[0].text, "ok: subscribe +15551234567");
    // Slack retries the same event: acknowledged, not handled again.
    let retry = signed(
        &format!("{base}/events"),
        &mention("Ev1"),
        "application/json",
        now(),
        SECRET,
    )
    .await;
    assert_eq!(retry.status(), 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(commands.received().len(), 1);
    assert_eq!(commands.received()[0].chat, Recipient::new("C777"));
}

#[tokio::test]
async fn forged_or_stale_requests_are_refused_and_change_nothing() {
    let (fake, sink) = sink().await;
    let commands = RecordingCommands::new();
    let base = inbound(&sink, commands.clone()).await;
    let forged = signed(
        &format!("{base}/events"),
        &mention("Ev2"),
        "application/json",
        now(),
        "not-the-secret",
    )
    .await;
    assert_eq!(forged.status(), 401);
    let stale = signed(
        &format!("{base}/events"),
        &mention("Ev3"),
        "application/json",
        now() - 6 * 60,
        SECRET,
    )
    .await;
    assert_eq!(stale.status(), 401);
    let unsigned = sink_api::http::client()
        .unwrap()
        .post(format!("{base}/commands"))
        .body("text=subscribe&channel_id=C1")
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(commands.received().is_empty());
    assert!(fake.posted().is_empty());
}

#[tokio::test]
async fn the_slash_command_answers_in_its_response() {
    let (_fake, sink) = sink().await;
    let commands = RecordingCommands::new();
    let base = inbound(&sink, commands.clone()).await;
    let body = "command=%2Fherald&text=subscribe+France+goals&channel_id=C555&user_id=U9&response_url=https%3A%2F%2Fhooks.slack.com%2Fx";
    let r = signed(
        &format!("{base}/commands"),
        body,
        "application/x-www-form-urlencoded",
        now(),
        SECRET,
    )
    .await;
    assert_eq!(r.status(), 200);
    let json: serde_json::Value = r.json().await.unwrap();
    assert_eq!(json["text"], "ok: subscribe France goals");
    assert_eq!(commands.received()[0].chat, Recipient::new("C555"));
}

#[tokio::test]
async fn without_a_signing_secret_the_routes_refuse_everything_clearly() {
    let (fake, _) = sink().await;
    let sink = SlackSink::new(Config {
        bot_token: SecretString::from(TOKEN),
        signing_secret: None,
        app_token: Some(SecretString::from("xapp-1-A1-1-x")),
        endpoint: fake.endpoint(),
        channels: vec![],
        per_channel_per_second: 1,
    })
    .unwrap();
    let commands = RecordingCommands::new();
    let base = inbound(&sink, commands.clone()).await;
    let r = signed(
        &format!("{base}/events"),
        &mention("Ev4"),
        "application/json",
        now(),
        SECRET,
    )
    .await;
    assert_eq!(r.status(), 401);
    let json: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        json["error"],
        "this sink has no signing_secret: it takes commands over Socket Mode only"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(commands.received().is_empty());
}
