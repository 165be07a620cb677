//! Viber end to end against a local fake of Viber that signs its callbacks the way Viber does
//! and posts them to herald's own HTTP server: herald registers its webhook at startup, greets
//! a user who opens the chat, subscribes them from a text message, and delivers a goal of a
//! real match through the REST Bot API; forged callbacks change nothing; a user who
//! unsubscribes, or whom Viber reports gone, is paused (what they follow is kept) and gets
//! nothing more until they come back; a `failed` callback makes its delivery a dead letter.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sink_viber::testing::{Answer, FakeViber, Sent, events};

use crate::db::TestDb;
use crate::e2e::source_table;
use crate::expected::fixture_dirs;
use crate::fake_provider::FakeProvider;
use crate::harness::Herald;

const TOKEN: &str = "4a5b6c7d8e9f0a1b-viber-test-token";
const ADMIN: &str = "viber-admin-token-1234";
/// The sink's id (and type).
const SINK: &str = "viber";
const CALLBACKS: &str = "/webhooks/viber/callbacks";
const WEBHOOK_URL: &str = "https://herald.example.com/webhooks/viber/callbacks";
const USER: &str = "01234567890A=";

fn viber(fake: &FakeViber) -> Value {
    json!({
        "type": "viber",
        "auth_token": TOKEN,
        "sender_name": "herald",
        "webhook_url": WEBHOOK_URL,
        "endpoint": fake.endpoint(),
        "global_per_second": 1000,
    })
}

async fn start(db: &TestDb, fake: &FakeViber, sources: Value) -> Herald {
    Herald::start(
        json!({
            "store": { "url": db.url },
            "http": { "admin_token": ADMIN },
            "dispatch": { "backoff_base": "20ms" },
            "sources": sources,
            "sinks": { SINK: viber(fake) },
        }),
        vec![],
    )
    .await
}

fn to(fake: &FakeViber, user: &str) -> Vec<Sent> {
    fake.sent()
        .into_iter()
        .filter(|s| s.receiver == user)
        .collect()
}

/// Waits until `user` has received `n` messages.
async fn wait_to(fake: &FakeViber, user: &str, n: usize) -> Vec<Sent> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let sent = to(fake, user);
        if sent.len() >= n || Instant::now() > deadline {
            return sent;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `user`, whose phone is in English, writes `text` to the bot: Viber posts it to herald,
/// signed.
async fn says(herald: &Herald, fake: &FakeViber, user: &str, text: &str, token: u64) -> u16 {
    fake.callback(
        &herald.url(CALLBACKS),
        &events::message(user, text, "en", token),
    )
    .await
    .status
}

/// `user` subscribes to everything and gets the confirmation.
async fn subscribe_all(herald: &Herald, fake: &FakeViber) {
    assert_eq!(says(herald, fake, USER, "subscribe", 1).await, 200);
    let sent = wait_to(fake, USER, 1).await;
    assert_eq!(sent.len(), 1, "the confirmation");
    assert_eq!(
        herald.store.subscriptions(SINK).await.unwrap().len(),
        1,
        "subscribed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_subscribes_from_viber_and_gets_a_goal_of_a_real_match() {
    for db in TestDb::all().await {
        let fixture = fixture_dirs()
            .into_iter()
            .find(|d| d.to_string_lossy().contains("/fifa/"))
            .unwrap();
        let provider = FakeProvider::start(&fixture).await;
        let fake = FakeViber::start(TOKEN).await;
        let herald = start(
            &db,
            &fake,
            json!({ "fifa": source_table(&provider, &fixture) }),
        )
        .await;

        // The webhook is registered at startup, and Viber's check of it is answered.
        let webhooks = fake.wait_webhooks(1, Duration::from_secs(10)).await;
        assert_eq!(webhooks.len(), 1, "{}", db.backend);
        assert_eq!(webhooks[0].url, WEBHOOK_URL);
        let check = fake
            .callback(&herald.url(CALLBACKS), &events::webhook())
            .await;
        assert_eq!(check.status, 200);

        // A user opens the chat: the answer is the welcome.
        let opened = fake
            .callback(
                &herald.url(CALLBACKS),
                &events::conversation_started(USER, "en"),
            )
            .await;
        assert_eq!(opened.status, 200);
        let welcome = opened.json();
        assert_eq!(welcome["type"], "text");
        assert_eq!(welcome["sender"]["name"], "herald");
        assert!(
            welcome["text"]
                .as_str()
                .unwrap()
                .starts_with("herald sends live football notifications here.\nsubscribe "),
            "{welcome}"
        );

        // They subscribe by writing to the bot, from a phone set to French: the reply and
        // the notifications are in French.
        provider.wait_polls(2, Duration::from_secs(10)).await;
        let subscribe = events::message(USER, "subscribe France goals", "fr", 11);
        let r = fake.callback(&herald.url(CALLBACKS), &subscribe).await;
        assert_eq!(r.status, 200);
        let sent = wait_to(&fake, USER, 1).await;
        assert_eq!(
            sent[0].text,
            "✅ Vous suivez désormais France (buts). Les notifications arriveront ici."
        );
        assert_eq!(sent[0].sender_name, "herald");

        // The match plays until the first goal reaches them.
        let mut step = 0;
        while to(&fake, USER).len() < 2 && step < provider.steps() {
            provider.set_step(step);
            provider.wait_polls(2, Duration::from_secs(20)).await;
            step += 1;
        }
        let sent = wait_to(&fake, USER, 2).await;
        assert_eq!(sent.len(), 2, "{sent:#?}");
        assert_eq!(
            sent[1].text,
            "⚽ BUT CONTRE SON CAMP ! France 1-0 Croatia\nMANDZUKIC (Croatia) marque contre son camp 18'",
            "{}",
            db.backend
        );
        herald.shutdown().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_callbacks_get_401_and_subscribe_nobody() {
    let db = TestDb::sqlite();
    let fake = FakeViber::start(TOKEN).await;
    let herald = start(&db, &fake, json!({})).await;
    let url = herald.url(CALLBACKS);
    let subscribe = events::message(USER, "subscribe France", "en", 21);
    for key in [Some("not-the-auth-token"), None] {
        let r = fake.forged_callback(&url, &subscribe, key).await;
        assert_eq!(r.status, 401);
        let r = fake
            .forged_callback(&url, &events::conversation_started(USER, "en"), key)
            .await;
        assert_eq!(r.status, 401);
        assert!(r.json().get("text").is_none(), "no welcome for a forgery");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(herald.store.subscriptions(SINK).await.unwrap().is_empty());
    assert!(fake.sent().is_empty());
    herald.shutdown().await;
}

/// Whether `USER`'s one subscription is kept and active (`Some(true)`) or paused.
async fn following(herald: &Herald) -> Option<bool> {
    let rows = herald.store.subscriber_rows(Some(SINK)).await.unwrap();
    assert!(rows.len() <= 1, "{rows:#?}");
    rows.first().map(|r| r.active)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_who_unsubscribes_is_paused_until_they_come_back() {
    for db in TestDb::all().await {
        let fake = FakeViber::start(TOKEN).await;
        let herald = start(&db, &fake, json!({})).await;
        subscribe_all(&herald, &fake).await;
        herald.publish(ADMIN, "news", "first").await;
        let sent = wait_to(&fake, USER, 2).await;
        assert_eq!(sent[1].text, "📣 first\ntext");

        let r = fake
            .callback(&herald.url(CALLBACKS), &events::unsubscribed(USER))
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(
            following(&herald).await,
            Some(false),
            "paused, not deleted, before the callback is answered ({})",
            db.backend
        );
        herald.publish(ADMIN, "news", "second").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let sent = to(&fake, USER);
        assert_eq!(
            sent.len(),
            2,
            "no reply to the unsubscription, no notification after it: {sent:#?}"
        );

        // They subscribe again: what they followed resumes.
        let r = fake
            .callback(&herald.url(CALLBACKS), &events::subscribed(USER))
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(following(&herald).await, Some(true), "{}", db.backend);
        herald.publish(ADMIN, "news", "third").await;
        let sent = wait_to(&fake, USER, 3).await;
        assert_eq!(sent.len(), 3, "{sent:#?}");
        assert_eq!(sent[2].text, "📣 third\ntext");

        // Gone again, they write to the bot, which subscribes them on Viber (without a
        // `subscribed` callback): resumed before their command is answered.
        let r = fake
            .callback(&herald.url(CALLBACKS), &events::unsubscribed(USER))
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(following(&herald).await, Some(false));
        assert_eq!(says(&herald, &fake, USER, "list", 2).await, 200);
        let sent = wait_to(&fake, USER, 4).await;
        assert_eq!(sent.len(), 4, "{sent:#?}");
        assert!(sent[3].text.starts_with("You follow:"), "{}", sent[3].text);
        assert_eq!(following(&herald).await, Some(true), "{}", db.backend);
        herald.shutdown().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_callback_makes_its_delivery_a_dead_letter() {
    for db in TestDb::all().await {
        let fake = FakeViber::start(TOKEN).await;
        let herald = start(&db, &fake, json!({})).await;
        subscribe_all(&herald, &fake).await;
        herald.publish(ADMIN, "news", "first").await;
        let sent = wait_to(&fake, USER, 2).await;
        assert_eq!(sent.len(), 2);
        let deadline = Instant::now() + Duration::from_secs(10);
        while herald.store.delivered_since(SINK, USER, 0).await.unwrap() < 1 {
            assert!(Instant::now() < deadline, "the delivery was not recorded");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // A failure of a message herald did not send (the confirmation is a reply, not a
        // delivery) records nothing.
        let url = herald.url(CALLBACKS);
        let r = fake
            .callback(&url, &events::failed(USER, sent[0].message_token, "x"))
            .await;
        assert_eq!(r.status, 200);
        assert!(herald.store.dead_letters(10).await.unwrap().is_empty());

        let r = fake
            .callback(
                &url,
                &events::failed(USER, sent[1].message_token, "keyboard not supported"),
            )
            .await;
        assert_eq!(r.status, 200);
        let dead = herald.store.dead_letters(10).await.unwrap();
        assert_eq!(dead.len(), 1, "{} {dead:#?}", db.backend);
        assert_eq!(dead[0].recipient, USER);
        assert_eq!(
            dead[0].last_error.as_deref(),
            Some(
                "Viber could not deliver the message to the user's devices: keyboard not supported"
            )
        );
        assert_eq!(
            herald.store.delivered_since(SINK, USER, 0).await.unwrap(),
            0
        );
        assert_eq!(
            following(&herald).await,
            Some(true),
            "a failure pauses nothing"
        );
        herald.shutdown().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_viber_reports_gone_is_paused() {
    let db = TestDb::sqlite();
    let fake = FakeViber::start(TOKEN).await;
    let herald = start(&db, &fake, json!({})).await;
    subscribe_all(&herald, &fake).await;
    fake.script([Answer::Status(6, "receiverNotSubscribed")]);
    let before = fake.attempts();
    herald.publish(ADMIN, "news", "first").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !herald.store.subscriptions(SINK).await.unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the subscription was not paused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    herald.publish(ADMIN, "news", "second").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(to(&fake, USER).len(), 1, "only the confirmation");
    assert_eq!(fake.attempts() - before, 1, "no retries to a gone user");
    herald.shutdown().await;
}
