//! The Viber sink against a local fake of the REST Bot API, and its callback route with signed,
//! forged and unsigned callbacks posted the way Viber posts them.

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use sink_api::plugin::CancellationToken;
use sink_api::testing::RecordingCommands;
use sink_api::{Notification, Recipient, Replaces, Sink, SinkError};
use sink_viber::testing::{Answer, FakeViber, RecordingUsers, UserChange, events};
use sink_viber::{Config, ViberSink};

const TOKEN: &str = "445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9";
const USER: &str = "01234567890A=";

fn config(fake: &FakeViber) -> Config {
    Config {
        auth_token: SecretString::from(TOKEN),
        sender_name: "herald".into(),
        sender_avatar: Some("https://herald.example.com/avatar.jpg".into()),
        webhook_url: Some("https://herald.example.com/webhooks/viber/callbacks".into()),
        endpoint: fake.endpoint(),
        per_user_per_hour: 100,
        global_per_second: 20,
    }
}

fn note(title: &str) -> Notification {
    sink_api::testing::goal(title, "MBAPPE (France) 65'")
}

async fn sink() -> (FakeViber, ViberSink) {
    let _installed = rustls::crypto::ring::default_provider().install_default();
    let fake = FakeViber::start(TOKEN).await;
    let sink = ViberSink::new(config(&fake)).unwrap();
    (fake, sink)
}

#[tokio::test]
async fn sends_text_from_the_configured_sender_and_returns_the_message_token() {
    let (fake, sink) = sink().await;
    let receipt = sink
        .send(&Recipient::new(USER), &note("⚽ GOAL! France 4-1 Croatia"))
        .await
        .unwrap();
    let sent = fake.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].receiver, USER);
    assert_eq!(sent[0].sender_name, "herald");
    assert_eq!(
        sent[0].sender_avatar.as_deref(),
        Some("https://herald.example.com/avatar.jpg")
    );
    assert_eq!(sent[0].kind, "text");
    assert_eq!(sent[0].min_api_version, Some(1));
    assert_eq!(
        sent[0].text,
        "⚽ GOAL! France 4-1 Croatia\nMBAPPE (France) 65'"
    );
    assert_eq!(
        receipt.platform_id,
        Some(sent[0].message_token.to_string()),
        "the token is above 2^53 and read exactly"
    );
    assert!(sink.healthcheck().await.is_ok());
    assert!(
        sink.recipients().is_empty(),
        "users subscribe with commands"
    );
}

#[tokio::test]
async fn a_correction_is_a_new_message() {
    let (fake, sink) = sink().await;
    let mut correction = note("🚫 Goal disallowed: France");
    correction.replaces = Some(Replaces {
        event_id: "e0".into(),
        receipt: Some("5741311803571721087".into()),
        original_title: Some("⚽ GOAL! France 1-0 Croatia".into()),
    });
    sink.send(&Recipient::new(USER), &correction).await.unwrap();
    let sent = fake.sent();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].text.starts_with("🚫 Goal disallowed: France\n"));
}

#[tokio::test]
async fn text_is_cut_to_viber_s_7000_characters() {
    let (fake, sink) = sink().await;
    let mut long = note("⚽ GOAL!");
    long.body = "x".repeat(9000);
    sink.send(&Recipient::new(USER), &long).await.unwrap();
    let mut emoji = note("t");
    emoji.body = "📣".repeat(6000);
    sink.send(&Recipient::new(USER), &emoji).await.unwrap();
    let sent = fake.sent();
    assert_eq!(
        sent.len(),
        2,
        "the fake refuses texts over 7,000 characters"
    );
    assert_eq!(sent[0].text.chars().count(), 7000);
    assert!(sent[0].text.starts_with("⚽ GOAL!\nxxx"));
    assert!(sent[0].text.ends_with("x…"));
    assert!(sent[1].text.encode_utf16().count() <= 7000);
    assert!(sent[1].text.ends_with("📣…"));
}

fn outcome(result: &Result<sink_api::Receipt, SinkError>) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(SinkError::RateLimited { retry_after }) => {
            format!("rate_limited:{:?}", retry_after.map(|d| d.as_secs()))
        }
        Err(SinkError::Transient(_)) => "transient".into(),
        Err(SinkError::Permanent(_)) => "permanent".into(),
        Err(SinkError::RecipientGone(_)) => "gone".into(),
    }
}

#[tokio::test]
async fn viber_statuses_and_http_failures_are_classified() {
    let (fake, sink) = sink().await;
    let cases = [
        (Answer::Status(6, "receiverNotSubscribed"), "gone"),
        (Answer::Status(5, "receiverNotRegistered"), "gone"),
        (Answer::Status(11, "receiverNoSuitableDevice"), "gone"),
        (Answer::Status(12, "Too many requests"), "rate_limited:None"),
        (Answer::Status(3, "badData"), "permanent"),
        (Answer::Status(1, "invalidUrl"), "permanent"),
        (Answer::Status(7, "publicAccountBlocked"), "permanent"),
        (Answer::Status(10, "webhookNotSet"), "transient"),
        (Answer::Status(1000, "General error"), "transient"),
        (Answer::RetryAfter(7), "rate_limited:Some(7)"),
        (Answer::Http(502), "transient"),
        (Answer::Http(503), "transient"),
        (Answer::Http(400), "permanent"),
        (Answer::Ok, "ok"),
    ];
    fake.script(cases.iter().map(|(answer, _)| answer.clone()));
    for (answer, want) in cases {
        let got = outcome(&sink.send(&Recipient::new(USER), &note("t")).await);
        assert_eq!(got, want, "{answer:?}");
    }
    assert_eq!(fake.sent().len(), 1);
}

#[tokio::test]
async fn a_wrong_token_is_permanent_and_never_shown() {
    let (fake, _sink) = sink().await;
    let wrong = ViberSink::new(Config {
        auth_token: SecretString::from("wrong-token-1234"),
        ..config(&fake)
    })
    .unwrap();
    match wrong.send(&Recipient::new(USER), &note("t")).await {
        Err(SinkError::Permanent(e)) => {
            let text = sink_api::error_chain(&*e);
            assert_eq!(text, "Viber answered status 2 (invalidAuthToken)");
        }
        other => panic!("expected Permanent, got {other:?}"),
    }
    assert!(matches!(
        wrong.healthcheck().await,
        Err(SinkError::Permanent(_))
    ));
    assert!(!format!("{wrong:?}").contains("wrong-token-1234"));
    assert!(fake.sent().is_empty());
}

#[tokio::test]
async fn an_unreachable_api_is_transient() {
    let _installed = rustls::crypto::ring::default_provider().install_default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = listener.local_addr().unwrap();
    drop(listener);
    let fake = FakeViber::start(TOKEN).await;
    let sink = ViberSink::new(Config {
        endpoint: format!("http://{closed}/pa"),
        ..config(&fake)
    })
    .unwrap();
    assert_eq!(
        outcome(&sink.send(&Recipient::new(USER), &note("t")).await),
        "transient"
    );
}

#[tokio::test]
async fn the_webhook_is_registered_for_the_callbacks_herald_uses() {
    let (fake, sink) = sink().await;
    sink.register_webhook(CancellationToken::new()).await;
    let webhooks = fake.webhooks();
    assert_eq!(webhooks.len(), 1);
    assert_eq!(
        webhooks[0].url,
        "https://herald.example.com/webhooks/viber/callbacks"
    );
    assert!(webhooks[0].send_name);
    let types = webhooks[0].event_types.clone().unwrap();
    for wanted in [
        "failed",
        "unsubscribed",
        "subscribed",
        "conversation_started",
    ] {
        assert!(types.iter().any(|t| t == wanted), "{types:?}");
    }
    // Without a webhook_url there is nothing to register.
    let none = ViberSink::new(Config {
        webhook_url: None,
        ..config(&fake)
    })
    .unwrap();
    assert!(!none.set_webhook().await.unwrap());
    // A refusal is reported as permanent (the task logs it and ends).
    let wrong = ViberSink::new(Config {
        auth_token: SecretString::from("wrong"),
        ..config(&fake)
    })
    .unwrap();
    assert!(matches!(
        wrong.set_webhook().await,
        Err(SinkError::Permanent(_))
    ));
    tokio::time::timeout(
        Duration::from_secs(5),
        wrong.register_webhook(CancellationToken::new()),
    )
    .await
    .expect("a refusal is not retried");
    assert_eq!(fake.webhooks().len(), 1);
}

/// Serves the sink's callback route; returns its URL.
async fn inbound(sink: &ViberSink, commands: RecordingCommands) -> String {
    let router: axum::Router = sink_viber::router(sink.clone(), "viber", Arc::new(commands));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}/webhooks/viber/callbacks")
}

#[tokio::test]
async fn a_signed_message_is_a_command_answered_with_send_message_once() {
    let (fake, sink) = sink().await;
    let commands = RecordingCommands::new();
    let url = inbound(&sink, commands.clone()).await;
    let reply = fake
        .callback(&url, &events::message(USER, "subscribe France", "fr", 7))
        .await;
    assert_eq!(reply.status, 200);
    let sent = fake.wait_sent(1, Duration::from_secs(5)).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].receiver, USER);
    assert_eq!(sent[0].text, "ok: subscribe France");
    let received = commands.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].chat, Recipient::new(USER));
    assert_eq!(received[0].text, "subscribe France");
    assert_eq!(received[0].user.as_deref(), Some("Fan"));
    assert_eq!(received[0].language.as_deref(), Some("fr"));
    // Viber delivers the same message again: acknowledged, not handled again.
    let again = fake
        .callback(&url, &events::message(USER, "subscribe France", "fr", 7))
        .await;
    assert_eq!(again.status, 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(commands.received().len(), 1);
    assert_eq!(fake.sent().len(), 1);
}

#[tokio::test]
async fn forged_and_unsigned_callbacks_get_401_and_change_nothing() {
    let (fake, sink) = sink().await;
    let commands = RecordingCommands::new();
    let url = inbound(&sink, commands.clone()).await;
    let body = events::message(USER, "subscribe France", "fr", 8);
    let forged = fake
        .forged_callback(&url, &body, Some("not-the-token"))
        .await;
    assert_eq!(forged.status, 401);
    let unsigned = fake.forged_callback(&url, &body, None).await;
    assert_eq!(unsigned.status, 401);
    assert_eq!(
        unsigned.json()["error"],
        "missing X-Viber-Content-Signature"
    );
    let stop = fake
        .forged_callback(&url, &events::unsubscribed(USER), Some("nope"))
        .await;
    assert_eq!(stop.status, 401);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(commands.received().is_empty());
    assert!(fake.sent().is_empty());
    // The same body, signed with the token, goes through.
    assert_eq!(fake.callback(&url, &body).await.status, 200);
    fake.wait_sent(1, Duration::from_secs(5)).await;
    assert_eq!(commands.received().len(), 1);
}

#[tokio::test]
async fn conversation_started_is_answered_with_the_welcome_in_the_response() {
    let (fake, sink) = sink().await;
    let commands = RecordingCommands::new();
    let url = inbound(&sink, commands.clone()).await;
    let reply = fake
        .callback(&url, &events::conversation_started(USER, "pt-BR"))
        .await;
    assert_eq!(reply.status, 200);
    let message = reply.json();
    assert_eq!(message["type"], "text");
    assert_eq!(message["text"], "ok: help");
    assert_eq!(message["sender"]["name"], "herald");
    assert_eq!(
        message["sender"]["avatar"],
        "https://herald.example.com/avatar.jpg"
    );
    assert_eq!(message["min_api_version"], 1);
    assert!(message.get("receiver").is_none());
    let received = commands.received();
    assert_eq!(received[0].chat, Recipient::new(USER));
    assert_eq!(received[0].language.as_deref(), Some("pt-BR"));
    assert!(
        fake.sent().is_empty(),
        "the welcome is the answer, not a send"
    );
}

/// A sink whose callbacks go to `users`, served with `commands`; its URL.
async fn inbound_with_users(
    sink: &ViberSink,
    commands: RecordingCommands,
    users: &RecordingUsers,
) -> String {
    sink.attach(Arc::new(users.clone())).unwrap();
    inbound(sink, commands).await
}

#[tokio::test]
async fn unsubscribed_pauses_the_user_without_a_command_or_an_answer() {
    let (fake, sink) = sink().await;
    let (commands, users) = (RecordingCommands::new(), RecordingUsers::new());
    let url = inbound_with_users(&sink, commands.clone(), &users).await;
    let reply = fake.callback(&url, &events::unsubscribed(USER)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        users.changes(),
        [UserChange::Pause(USER.into())],
        "paused before the callback is answered"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        commands.received().is_empty(),
        "no `stop`: it would delete what they follow"
    );
    assert!(fake.sent().is_empty(), "Viber refuses messages to them");
    // A second record cannot be attached.
    assert!(sink.attach(Arc::new(RecordingUsers::new())).is_err());
}

#[tokio::test]
async fn subscribing_again_or_writing_resumes_the_user() {
    let (fake, sink) = sink().await;
    let (commands, users) = (RecordingCommands::new(), RecordingUsers::new());
    let url = inbound_with_users(&sink, commands.clone(), &users).await;
    let reply = fake.callback(&url, &events::subscribed(USER)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(users.changes(), [UserChange::Resume(USER.into())]);
    assert!(commands.received().is_empty());
    // Writing to the bot subscribes a user too (without a `subscribed` callback): resumed
    // before the command is handled.
    let reply = fake
        .callback(&url, &events::message(USER, "list", "en", 31))
        .await;
    assert_eq!(reply.status, 200);
    fake.wait_sent(1, Duration::from_secs(5)).await;
    assert_eq!(
        users.changes(),
        [
            UserChange::Resume(USER.into()),
            UserChange::Resume(USER.into())
        ]
    );
    assert_eq!(commands.received()[0].text, "list");
}

#[tokio::test]
async fn a_failed_callback_records_the_delivery_by_its_message_token() {
    let (fake, sink) = sink().await;
    let (commands, users) = (RecordingCommands::new(), RecordingUsers::new());
    let url = inbound_with_users(&sink, commands, &users).await;
    let reply = fake
        .callback(
            &url,
            &events::failed(USER, 5_741_311_803_571_721_087, "failure desc"),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        users.changes(),
        [UserChange::Failed(
            USER.into(),
            "5741311803571721087".into(),
            "Viber could not deliver the message to the user's devices: failure desc".into()
        )]
    );
    // Malformed: no user, or no token: nothing to find it by.
    let no_user =
        serde_json::json!({"event": "failed", "timestamp": 1, "message_token": 1, "desc": "x"});
    let no_token =
        serde_json::json!({"event": "failed", "timestamp": 1, "user_id": USER, "desc": "x"});
    for body in [no_user, no_token] {
        assert_eq!(fake.callback(&url, &body).await.status, 200);
    }
    assert_eq!(users.changes().len(), 1);
}

#[tokio::test]
async fn a_record_that_fails_gets_500_so_that_viber_sends_the_callback_again() {
    let (fake, sink) = sink().await;
    let (commands, users) = (RecordingCommands::new(), RecordingUsers::new());
    let url = inbound_with_users(&sink, commands, &users).await;
    users.break_it(true);
    for body in [
        events::unsubscribed(USER),
        events::subscribed(USER),
        events::failed(USER, 7, "failure desc"),
    ] {
        let reply = fake.callback(&url, &body).await;
        assert_eq!(reply.status, 500, "{body}");
        assert!(!reply.body.contains(TOKEN));
    }
    users.break_it(false);
    let reply = fake.callback(&url, &events::unsubscribed(USER)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(users.changes().len(), 4);
}

#[tokio::test]
async fn the_webhook_check_and_receipts_are_acknowledged_and_ignored() {
    let (fake, sink) = sink().await;
    let commands = RecordingCommands::new();
    let url = inbound(&sink, commands.clone()).await;
    for body in [
        events::webhook(),
        events::delivered(USER, 5_741_311_803_571_721_087),
        events::failed(USER, 5_741_311_803_571_721_087, "failure desc"),
        serde_json::json!({"event": "seen", "timestamp": 1, "user_id": USER, "message_token": 1}),
        serde_json::json!({"event": "subscribed", "timestamp": 1, "user": {"id": USER, "name": "Fan"}}),
    ] {
        let reply = fake.callback(&url, &body).await;
        assert_eq!(reply.status, 200, "{body}");
    }
    // A signed body that is not a callback is a bad request.
    let reply = fake
        .callback(&url, &serde_json::json!({"event": "message"}))
        .await;
    assert_eq!(reply.status, 400);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(commands.received().is_empty());
    assert!(fake.sent().is_empty());
}
