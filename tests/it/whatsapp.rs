//! WhatsApp end to end through Twilio's real wire format (a local fake), on SQLite and
//! PostgreSQL: a number that never wrote gets nothing; one that subscribes through the signed
//! webhook gets a goal of a real match as free-form text, and the approved template with its
//! variables once its last message is more than 24 hours old; STOP, and nothing after; forged
//! webhooks change nothing. Plus HELP, START, keywords inside commands (`unsubscribe France`
//! is no STOP) and delivery reports (a message refused afterwards is a dead letter).

use std::future::Future;
use std::time::{Duration, Instant};

use herald::routing::{Scope, Subscription};
use herald::store::now_ms;
use serde_json::{Value, json};
use sink_api::Recipient;
use sink_twilio::testing::{FakeTwilio, WhatsAppSent};
use sink_twilio::webhook::{WHATSAPP_PATH, WHATSAPP_STATUS_PATH};

use crate::db::TestDb;
use crate::e2e::source_table;
use crate::expected::fixture_dirs;
use crate::fake_provider::FakeProvider;
use crate::harness::Herald;
use crate::sms::{PHONE, SID, TOKEN};

/// The WhatsApp sender.
pub(crate) const SENDER: &str = "+14155238886";
/// The approved template.
const TEMPLATE: &str = "HX0123456789abcdef0123456789abcdef";
/// A number an operator subscribed that never wrote to the sender.
const NEVER: &str = "+12125550123";
/// The sink's id (and type).
const SINK: &str = "whatsapp";
/// The publish API's token.
const ADMIN: &str = "whatsapp-admin-token-1234";

pub(crate) fn whatsapp(fake: &FakeTwilio) -> Value {
    json!({
        "type": "whatsapp",
        "account_sid": SID,
        "auth_token": TOKEN,
        "endpoint": fake.endpoint(),
        "from": SENDER,
        "content_sid": TEMPLATE,
        "content_variables": { "1": "title", "2": "body" },
        "messages_per_second": 1000,
    })
}

async fn start(db: &TestDb, fake: &FakeTwilio, sources: Value) -> Herald {
    Herald::start(
        json!({
            "store": { "url": db.url },
            "http": { "admin_token": ADMIN },
            // Pausing after refusals in a row is off: a number that never opted in must be
            // paused at its first refusal, as gone.
            "dispatch": { "backoff_base": "20ms", "pause_after_failures": 0 },
            "sources": sources,
            "sinks": { SINK: whatsapp(fake) },
        }),
        vec![],
    )
    .await
}

/// `number` writes `body` to the sender: Twilio posts it to herald, signed.
pub(crate) async fn write(
    herald: &Herald,
    fake: &FakeTwilio,
    number: &str,
    body: &str,
) -> (u16, String) {
    let r = fake
        .whatsapp_inbound(&herald.url(WHATSAPP_PATH), number, SENDER, body)
        .await;
    (r.status, r.body)
}

async fn wait_to(fake: &FakeTwilio, number: &str, n: usize) -> Vec<WhatsAppSent> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let sent = fake.whatsapp_to(number);
        if sent.len() >= n || Instant::now() > deadline {
            return sent;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Plays the match from `step` until `number` got `n` messages; returns the next step.
async fn play_until(
    provider: &FakeProvider,
    fake: &FakeTwilio,
    number: &str,
    n: usize,
    mut step: usize,
) -> usize {
    while fake.whatsapp_to(number).len() < n && step < provider.steps() {
        provider.set_step(step);
        provider.wait_polls(2, Duration::from_secs(20)).await;
        step += 1;
    }
    step
}

/// Makes `number`'s last message `ago_ms` old, as if it had written then: straight in the
/// database, as the store never moves that time back.
async fn wrote_ago(db: &TestDb, number: &str, ago_ms: i64) {
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    sqlx::query("UPDATE whatsapp_sessions SET last_inbound_at = $1 WHERE sink = $2 AND phone = $3")
        .bind(now_ms() - ago_ms)
        .bind(SINK)
        .bind(number)
        .execute(&mut conn)
        .await
        .unwrap();
}

/// Waits until `check` holds, or fails with `what` after 10 s.
async fn until<F: Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn active(herald: &Herald, number: &str) -> Vec<Subscription> {
    herald.store.subscriptions_of(SINK, number).await.unwrap()
}

fn twiml(text: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>{text}</Message></Response>"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opt_in_free_form_then_template_after_24_hours_stop_then_nothing() {
    for db in TestDb::all().await {
        let fixture = fixture_dirs()
            .into_iter()
            .find(|d| d.to_string_lossy().contains("/fifa/"))
            .unwrap();
        let provider = FakeProvider::start(&fixture).await;
        let fake = FakeTwilio::start(SID, TOKEN).await;
        let herald = start(
            &db,
            &fake,
            json!({ "fifa": source_table(&provider, &fixture) }),
        )
        .await;
        provider.wait_polls(2, Duration::from_secs(10)).await;
        // An operator subscribes a number that never wrote to the sender.
        herald
            .store
            .subscribe(&Subscription {
                sink: SINK.into(),
                recipient: Recipient::new(NEVER),
                scope: Scope::All,
                kinds: vec![],
                locale: None,
            })
            .await
            .unwrap();

        // Forged and unsigned webhooks: 403, and nothing is recorded.
        let url = herald.url(WHATSAPP_PATH);
        for token in [Some("not-the-auth-token"), None] {
            let r = fake
                .forged_whatsapp_inbound(&url, PHONE, SENDER, "subscribe France goals", token)
                .await;
            assert_eq!(r.status, 403, "{}", db.backend);
        }
        assert_eq!(
            herald.store.whatsapp_session(SINK, PHONE).await.unwrap(),
            None
        );
        assert!(active(&herald, PHONE).await.is_empty());

        // The number subscribes from WhatsApp: that is its opt-in, and its window opens.
        let before = now_ms();
        let (status, reply) = write(&herald, &fake, PHONE, "subscribe France goals").await;
        assert_eq!(status, 200);
        assert_eq!(
            reply,
            twiml("✅ You now follow France (goals). Notifications will arrive here.")
        );
        let session = herald
            .store
            .whatsapp_session(SINK, PHONE)
            .await
            .unwrap()
            .unwrap();
        assert!(session.opted_in);
        assert!(session.last_inbound_at_ms.unwrap() >= before);
        let subs = active(&herald, PHONE).await;
        assert_eq!(subs.len(), 1);
        assert_eq!(subs[0].scope, Scope::Team("France".into()));

        // The first goal arrives as free-form text, from the sender.
        let step = play_until(&provider, &fake, PHONE, 1, 0).await;
        let sent = wait_to(&fake, PHONE, 1).await;
        assert_eq!(sent.len(), 1, "{sent:#?}");
        assert_eq!(sent[0].from, "whatsapp:+14155238886");
        assert_eq!(
            sent[0].body.as_deref(),
            Some(
                "⚽ OWN GOAL! France 1-0 Croatia\nMANDZUKIC (Croatia) puts it into his own net 18'"
            )
        );
        assert_eq!(sent[0].content_sid, None);

        // The number that never opted in is refused as gone: what it follows is paused, so
        // the next events make no more dead letters for it.
        until("the number that never opted in is paused", || async {
            active(&herald, NEVER).await.is_empty()
        })
        .await;
        let refused_never = herald
            .store
            .dead_letters(100)
            .await
            .unwrap()
            .into_iter()
            .filter(|d| d.recipient == NEVER)
            .count();
        assert!(refused_never >= 1, "{}", db.backend);

        // Its last message is now 25 hours old: the next goal is the template. (Recording an
        // earlier message does not move the window back.)
        herald
            .store
            .record_whatsapp_inbound(SINK, PHONE, now_ms() - 25 * 3600 * 1000)
            .await
            .unwrap();
        assert!(
            herald
                .store
                .whatsapp_session(SINK, PHONE)
                .await
                .unwrap()
                .unwrap()
                .last_inbound_at_ms
                .unwrap()
                > now_ms() - 3600 * 1000,
            "{}",
            db.backend
        );
        wrote_ago(&db, PHONE, 25 * 3600 * 1000).await;
        let step = play_until(&provider, &fake, PHONE, 2, step).await;
        let sent = wait_to(&fake, PHONE, 2).await;
        assert_eq!(sent.len(), 2, "{sent:#?}");
        assert_eq!(sent[1].content_sid.as_deref(), Some(TEMPLATE));
        assert_eq!(sent[1].body, None);
        let variables = sent[1].content_variables.clone().unwrap();
        assert_eq!(
            variables.into_iter().collect::<Vec<_>>(),
            [
                ("1".to_owned(), "⚽ GOAL! France 1-1 Croatia".to_owned()),
                ("2".to_owned(), "PERISIC (Croatia) 28'".to_owned()),
            ]
        );

        // The number that never wrote got nothing, and Twilio was never asked.
        assert!(
            fake.requests()
                .iter()
                .all(|r| r.field("To") != Some("whatsapp:+12125550123")),
            "{}",
            db.backend
        );
        let refused = herald.store.dead_letters(100).await.unwrap();
        assert!(
            refused.iter().any(|d| d.recipient == NEVER
                && d.last_error
                    .as_deref()
                    .is_some_and(|e| e.contains("has not opted in"))),
            "{refused:#?}"
        );

        // STOP: an answer, and nothing more though the match goes on.
        let (status, reply) = write(&herald, &fake, PHONE, "STOP").await;
        assert_eq!(status, 200);
        assert_eq!(
            reply,
            twiml("herald: you will get no more notifications. Reply START to resume.")
        );
        assert!(active(&herald, PHONE).await.is_empty());
        let session = herald
            .store
            .whatsapp_session(SINK, PHONE)
            .await
            .unwrap()
            .unwrap();
        assert!(!session.opted_in);
        // A forged START changes nothing.
        let forged = fake
            .forged_whatsapp_inbound(&url, PHONE, SENDER, "START", Some("forged"))
            .await;
        assert_eq!(forged.status, 403);
        assert!(active(&herald, PHONE).await.is_empty());
        for s in step..provider.steps() {
            provider.set_step(s);
            provider.wait_polls(2, Duration::from_secs(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            fake.whatsapp_to(PHONE).len(),
            2,
            "{:#?}",
            fake.whatsapp_to(PHONE)
        );
        assert!(fake.whatsapp_to(NEVER).is_empty());
        let refused_after = herald
            .store
            .dead_letters(100)
            .await
            .unwrap()
            .into_iter()
            .filter(|d| d.recipient == NEVER)
            .count();
        assert_eq!(
            refused_after, refused_never,
            "no dead letter per event for a number that never opted in ({})",
            db.backend
        );

        // START opts back in and resumes what it followed.
        let (_, reply) = write(&herald, &fake, PHONE, "start").await;
        assert_eq!(
            reply,
            twiml("herald: notifications resumed. Reply STOP to cancel.")
        );
        assert_eq!(active(&herald, PHONE).await.len(), 1);
        assert!(
            herald
                .store
                .whatsapp_session(SINK, PHONE)
                .await
                .unwrap()
                .unwrap()
                .opted_in
        );
        // So does the number that never opted in, once it sends START.
        let (_, reply) = write(&herald, &fake, NEVER, "START").await;
        assert_eq!(
            reply,
            twiml("herald: notifications resumed. Reply STOP to cancel.")
        );
        assert_eq!(active(&herald, NEVER).await.len(), 1, "{}", db.backend);
        herald.shutdown().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_commands_and_delivery_reports() {
    let db = TestDb::sqlite();
    let fake = FakeTwilio::start(SID, TOKEN).await;
    let herald = start(&db, &fake, json!({})).await;

    // HELP lists the commands and the keywords; it records the message but opts nothing in.
    let (status, reply) = write(&herald, &fake, PHONE, "help").await;
    assert_eq!(status, 200);
    assert!(reply.contains("subscribe &lt;team"), "{reply}");
    assert!(
        reply.contains("Reply STOP to cancel, START to resume,"),
        "{reply}"
    );
    assert!(
        !reply.contains("mode ticker"),
        "WhatsApp cannot edit: {reply}"
    );
    let session = herald
        .store
        .whatsapp_session(SINK, PHONE)
        .await
        .unwrap()
        .unwrap();
    assert!(!session.opted_in);
    assert!(session.last_inbound_at_ms.is_some());
    // Other chat commands work as on any chat platform, without opting in.
    let (_, reply) = write(&herald, &fake, PHONE, "list").await;
    assert!(reply.contains("<Message>"), "{reply}");
    let (_, reply) = write(&herald, &fake, PHONE, "hello there").await;
    assert!(reply.contains("hello"), "{reply}");
    assert!(
        !herald
            .store
            .whatsapp_session(SINK, PHONE)
            .await
            .unwrap()
            .unwrap()
            .opted_in
    );
    // `subscribe` with nothing after it follows everything, and opts in.
    let (_, reply) = write(&herald, &fake, PHONE, "Subscribe").await;
    assert!(reply.contains("every match"), "{reply}");
    assert!(
        herald
            .store
            .whatsapp_session(SINK, PHONE)
            .await
            .unwrap()
            .unwrap()
            .opted_in
    );
    assert_eq!(active(&herald, PHONE).await.len(), 1);

    // A delivery report: not on WhatsApp (63003) pauses the number; a forged one is refused.
    let report = |code: &'static str| {
        [
            ("AccountSid", SID),
            ("ErrorCode", code),
            ("MessageSid", "SM00000000000000000000000000000009"),
            ("MessageStatus", "undelivered"),
            ("To", "whatsapp:+14155552671"),
        ]
    };
    let status_url = herald.url(WHATSAPP_STATUS_PATH);
    let r = fake
        .post_signed(&status_url, &report("63003"), Some("forged"))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(active(&herald, PHONE).await.len(), 1);
    // A failure that may pass (63032: an experiment of WhatsApp's) changes nothing.
    let r = fake
        .post_signed(&status_url, &report("63032"), Some(TOKEN))
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(active(&herald, PHONE).await.len(), 1);
    let r = fake
        .post_signed(&status_url, &report("63003"), Some(TOKEN))
        .await;
    assert_eq!(r.status, 204);
    assert!(active(&herald, PHONE).await.is_empty());
    assert!(
        fake.whatsapp().is_empty(),
        "replies go in TwiML, not the API"
    );
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyword_inside_a_command_is_the_command() {
    let db = TestDb::sqlite();
    let fake = FakeTwilio::start(SID, TOKEN).await;
    let herald = start(&db, &fake, json!({})).await;
    for team in ["France", "Brazil"] {
        let (status, _) = write(&herald, &fake, PHONE, &format!("subscribe {team}")).await;
        assert_eq!(status, 200);
    }
    assert_eq!(active(&herald, PHONE).await.len(), 2);
    // `unsubscribe` starts the message but is not all of it: the command, not STOP.
    let (status, reply) = write(&herald, &fake, PHONE, "unsubscribe France").await;
    assert_eq!(status, 200);
    assert!(reply.contains("You no longer follow France"), "{reply}");
    let subs = active(&herald, PHONE).await;
    assert_eq!(subs.len(), 1, "{subs:#?}");
    assert_eq!(subs[0].scope, Scope::Team("Brazil".into()));
    let session = herald
        .store
        .whatsapp_session(SINK, PHONE)
        .await
        .unwrap()
        .unwrap();
    assert!(session.opted_in, "still opted in");
    // The keyword alone, in any case and with spaces around it, is STOP.
    let (_, reply) = write(&herald, &fake, PHONE, "  Unsubscribe ").await;
    assert_eq!(
        reply,
        twiml("herald: you will get no more notifications. Reply START to resume.")
    );
    assert!(active(&herald, PHONE).await.is_empty());
    herald.shutdown().await;
}

/// Twilio's delivery report of the message `sid` to [`PHONE`]: failed, as WhatsApp found the
/// window closed (63016).
fn window_closed(sid: &str) -> [(&str, &str); 5] {
    [
        ("AccountSid", SID),
        ("ErrorCode", "63016"),
        ("MessageSid", sid),
        ("MessageStatus", "failed"),
        ("To", "whatsapp:+14155552671"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_whatsapp_refuses_afterwards_is_a_dead_letter() {
    for db in TestDb::all().await {
        let fake = FakeTwilio::start(SID, TOKEN).await;
        let herald = start(&db, &fake, json!({})).await;
        let (_, reply) = write(&herald, &fake, PHONE, "subscribe").await;
        assert!(reply.contains("every match"), "{reply}");
        herald.publish(ADMIN, "news", "first").await;
        let sent = wait_to(&fake, PHONE, 1).await;
        assert_eq!(sent.len(), 1, "{}", db.backend);
        assert_eq!(sent[0].content_sid, None, "free-form, inside the window");
        until("the delivery is recorded", || async {
            herald.store.delivered_since(SINK, PHONE, 0).await.unwrap() == 1
        })
        .await;

        // Twilio reports it failed: WhatsApp found the window closed (63016). One about a
        // message herald did not send changes nothing.
        let status_url = herald.url(WHATSAPP_STATUS_PATH);
        let r = fake
            .post_signed(
                &status_url,
                &window_closed("SM0000000000000000000000000000dead"),
                Some(TOKEN),
            )
            .await;
        assert_eq!(r.status, 204);
        assert!(herald.store.dead_letters(10).await.unwrap().is_empty());
        let r = fake
            .post_signed(&status_url, &window_closed(&sent[0].sid), Some(TOKEN))
            .await;
        assert_eq!(r.status, 204, "{}", db.backend);
        let dead = herald.store.dead_letters(10).await.unwrap();
        assert_eq!(dead.len(), 1, "{} {dead:#?}", db.backend);
        assert_eq!(dead[0].recipient, PHONE);
        let error = dead[0].last_error.as_deref().unwrap_or_default();
        assert!(error.contains("24-hour window"), "{error}");
        assert!(error.contains("63016"), "{error}");
        assert_eq!(
            herald.store.delivered_since(SINK, PHONE, 0).await.unwrap(),
            0
        );
        // A closed window is no lost number: it still follows everything.
        assert_eq!(active(&herald, PHONE).await.len(), 1);
        herald.shutdown().await;
        db.cleanup().await;
    }
}
