//! SMS end to end through Twilio's real wire format (a local fake): signup on the API, the code
//! texted, confirmation by SMS reply or on the page, the welcome, goals of a real match, STOP,
//! and nothing after. Plus bad input, forged webhooks, anti-pumping limits, numbers Twilio
//! says are gone, the daily cap, and a rate-limited fan-out to 1,000 subscribers.

use std::time::{Duration, Instant};

use herald::routing::{Scope, Subscription};
use serde_json::{Value, json};
use sink_api::Recipient;
use sink_twilio::testing::{FakeTwilio, Sent};

use crate::db::TestDb;
use crate::e2e::source_table;
use crate::expected::fixture_dirs;
use crate::fake_provider::FakeProvider;
use crate::harness::{Herald, client, merge};

pub(crate) const SID: &str = "AC0123456789abcdef0123456789abcdef";
pub(crate) const TOKEN: &str = "twilio-auth-token-for-tests";
pub(crate) const SERVICE: &str = "MG0123456789abcdef0123456789abcdef";
pub(crate) const ADMIN: &str = "sms-admin-token-0123456789";
pub(crate) const PHONE: &str = "+14155552671";

pub(crate) fn twilio(fake: &FakeTwilio, extra: Value) -> Value {
    let mut table = json!({
        "type": "twilio",
        "account_sid": SID,
        "auth_token": TOKEN,
        "messaging_service_sid": SERVICE,
        "endpoint": fake.endpoint(),
        "messages_per_second": 1000,
        "signup": { "lookup_endpoint": fake.endpoint() },
    });
    merge(&mut table, extra);
    table
}

pub(crate) async fn start(db: &TestDb, fake: &FakeTwilio, sources: Value, extra: Value) -> Herald {
    Herald::start(
        json!({
            "store": { "url": db.url },
            "http": { "admin_token": ADMIN },
            "dispatch": { "backoff_base": "20ms" },
            "sources": sources,
            "sinks": { "sms": twilio(fake, extra) },
        }),
        vec![],
    )
    .await
}

pub(crate) async fn signup(herald: &Herald, body: Value) -> (u16, Value) {
    let r = client()
        .post(herald.url("/api/v1/sms/subscribe"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Twilio posting a form to herald, signed as Twilio signs it with `token`.
pub(crate) async fn signed_post(
    herald: &Herald,
    path: &str,
    params: &[(&str, &str)],
    token: &str,
) -> (u16, String) {
    let url = herald.url(path);
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let signature = sink_twilio::signature::sign(token, &url, &params);
    let r = client()
        .post(&url)
        .header("x-twilio-signature", signature)
        .form(&params)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Twilio posting an inbound SMS to herald, signed as Twilio signs it (or forged).
pub(crate) async fn text_herald(
    herald: &Herald,
    from: &str,
    body: &str,
    token: &str,
) -> (u16, String) {
    signed_post(
        herald,
        "/webhooks/twilio/sms",
        &[
            ("AccountSid", SID),
            ("Body", body),
            ("From", from),
            ("MessageSid", "SM00000000000000000000000000000001"),
            ("NumMedia", "0"),
            ("To", "+14155550100"),
        ],
        token,
    )
    .await
}

pub(crate) fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("no code in {text:?}"))
        .to_owned()
}

pub(crate) async fn wait_to(fake: &FakeTwilio, number: &str, n: usize) -> Vec<Sent> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let sent = fake.sent_to(number);
        if sent.len() >= n || Instant::now() > deadline {
            return sent;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(crate) async fn active(herald: &Herald, number: &str) -> Vec<Subscription> {
    herald.store.subscriptions_of("sms", number).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signup_code_confirm_welcome_goal_stop_then_nothing() {
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
            json!({}),
        )
        .await;
        provider.wait_polls(2, Duration::from_secs(10)).await;

        let (status, body) = signup(
            &herald,
            json!({"phone": "+1 (415) 555-2671", "teams": ["france"], "kinds": ["goals"]}),
        )
        .await;
        assert_eq!(status, 202, "{body}");
        assert_eq!(body["status"], "pending");
        assert_eq!(body["phone"], PHONE);
        let texts = wait_to(&fake, PHONE, 1).await;
        assert_eq!(texts.len(), 1);
        assert!(
            texts[0].body.starts_with("herald: your code is "),
            "{}",
            texts[0].body
        );
        assert!(
            texts[0].body.contains("France alerts (goals)"),
            "{}",
            texts[0].body
        );
        assert!(
            active(&herald, PHONE).await.is_empty(),
            "not active before the reply"
        );

        // The phone replies with the code: herald answers with the welcome, in TwiML.
        let code = code_in(&texts[0].body);
        let (status, twiml) = text_herald(&herald, PHONE, &format!(" {code} "), TOKEN).await;
        assert_eq!(status, 200);
        assert_eq!(
            twiml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>Welcome to herald! \
             You will get France alerts (goals). Reply STOP to cancel, HELP for help.</Message></Response>"
        );
        let subs = active(&herald, PHONE).await;
        assert_eq!(subs.len(), 1);
        assert_eq!(subs[0].scope, Scope::Team("France".into()));
        assert_eq!(subs[0].kinds, ["goals"]);

        // The match plays until the first goal: it arrives by SMS, in GSM-7 only.
        let mut step = 0;
        while fake.sent_to(PHONE).len() < 2 && step < provider.steps() {
            provider.set_step(step);
            provider.wait_polls(2, Duration::from_secs(20)).await;
            step += 1;
        }
        let texts = wait_to(&fake, PHONE, 2).await;
        assert_eq!(texts.len(), 2, "{texts:#?}");
        assert_eq!(
            texts[1].body,
            "OWN GOAL! France 1-0 Croatia\nMANDZUKIC (Croatia) puts it into his own net 18'"
        );
        assert!(sink_twilio::gsm::is_gsm7(&texts[1].body));

        // STOP: nothing more, though France scores three more goals.
        let (status, twiml) = text_herald(&herald, PHONE, "stop", TOKEN).await;
        assert_eq!(status, 200);
        assert_eq!(
            twiml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>"
        );
        assert!(active(&herald, PHONE).await.is_empty());
        for s in step..provider.steps() {
            provider.set_step(s);
            provider.wait_polls(2, Duration::from_secs(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(fake.sent_to(PHONE).len(), 2, "{:#?}", fake.sent_to(PHONE));

        // START brings the subscription back.
        let (_, twiml) = text_herald(&herald, PHONE, "START", TOKEN).await;
        assert!(twiml.contains("notifications resumed"), "{twiml}");
        assert_eq!(active(&herald, PHONE).await.len(), 1);
        herald.shutdown().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_confirms_with_the_code_and_the_welcome_is_texted() {
    let db = TestDb::sqlite();
    let fake = FakeTwilio::start(SID, TOKEN).await;
    let herald = start(&db, &fake, json!({}), json!({})).await;
    let page = client()
        .get(herald.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("id=\"sms-signup\""),
        "the page has the signup form"
    );
    let settings: Value = client()
        .get(herald.url("/api/v1/sms"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(settings["enabled"], true, "so the page shows the form");
    // A form post, as the page's form without JavaScript would send it, in Portuguese.
    let r = client()
        .post(herald.url("/api/v1/sms/subscribe"))
        .form(&[("phone", "+55 11 98765-4321"), ("locale", "pt-BR")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let number = "+5511987654321";
    let code = code_in(&wait_to(&fake, number, 1).await[0].body);
    let wrong = client()
        .post(herald.url("/api/v1/sms/confirm"))
        .json(&json!({"phone": number, "code": "000000x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    let r = client()
        .post(herald.url("/api/v1/sms/confirm"))
        .json(&json!({"phone": "+55 (11) 98765-4321", "code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "active");
    let texts = wait_to(&fake, number, 2).await;
    assert!(
        texts[1].body.starts_with("Bem-vindo ao herald!"),
        "{}",
        texts[1].body
    );
    let subs = herald.store.subscriptions_of("sms", number).await.unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].scope, Scope::All);
    assert_eq!(subs[0].locale.as_deref(), Some("pt-BR"));
    // The same code does not work twice.
    let again = client()
        .post(herald.url("/api/v1/sms/confirm"))
        .json(&json!({"phone": number, "code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 400);
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_400_and_stores_and_texts_nothing() {
    for db in TestDb::all().await {
        let fake = FakeTwilio::start(SID, TOKEN).await;
        let herald = start(
            &db,
            &fake,
            json!({}),
            json!({"signup": {"countries": ["US", "BR"]}}),
        )
        .await;
        let cases = [
            (json!({}), "phone", "a phone number is required"),
            (
                json!({"phone": "call me"}),
                "phone",
                "is not a phone number",
            ),
            (
                json!({"phone": "4155552671"}),
                "phone",
                "is not a phone number",
            ),
            (
                json!({"phone": "+44 7400 123456"}),
                "phone",
                "numbers from GB are not accepted here",
            ),
            (
                json!({"phone": PHONE, "teams": ["Frnace"]}),
                "teams",
                "did you mean France?",
            ),
            (
                json!({"phone": PHONE, "kinds": ["corners"]}),
                "kinds",
                "unknown kind `corners`",
            ),
            (
                json!({"phone": PHONE, "locale": "de"}),
                "locale",
                "unknown locale `de`",
            ),
            (
                json!({"phone": 4_155_552_671_i64}),
                "phone",
                "phone must be a string",
            ),
        ];
        for (body, field, message) in cases {
            let (status, answer) = signup(&herald, body.clone()).await;
            assert_eq!(status, 400, "{body} → {answer}");
            assert_eq!(answer["field"], field, "{body} → {answer}");
            let error = answer["error"].as_str().unwrap();
            assert!(error.contains(message), "{body} → {error}");
        }
        let r = client()
            .post(herald.url("/api/v1/sms/subscribe"))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        assert!(fake.requests().is_empty(), "nothing was texted");
        assert!(herald.store.signup("sms", PHONE).await.unwrap().is_none());
        assert!(herald.store.subscriber_rows(None).await.unwrap().is_empty());
        herald.shutdown().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_webhook_gets_403_and_changes_nothing() {
    let db = TestDb::sqlite();
    let fake = FakeTwilio::start(SID, TOKEN).await;
    let herald = start(&db, &fake, json!({}), json!({})).await;
    assert_eq!(signup(&herald, json!({"phone": PHONE})).await.0, 202);
    let code = code_in(&wait_to(&fake, PHONE, 1).await[0].body);
    let (status, _) = text_herald(&herald, PHONE, &code, "not-the-auth-token").await;
    assert_eq!(status, 403);
    let (status, _) = text_herald(&herald, PHONE, "YES", "").await;
    assert_eq!(status, 403);
    let unsigned = client()
        .post(herald.url("/webhooks/twilio/sms"))
        .form(&[("From", PHONE), ("Body", "YES")])
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 403);
    assert!(active(&herald, PHONE).await.is_empty());
    assert!(herald.store.signup("sms", PHONE).await.unwrap().is_some());
    // The genuine reply still works, with YES instead of the code.
    let (status, twiml) = text_herald(&herald, PHONE, "Yes", TOKEN).await;
    assert_eq!(status, 200);
    assert!(twiml.contains("Welcome to herald!"), "{twiml}");
    assert_eq!(active(&herald, PHONE).await.len(), 1);
    let (_, help) = text_herald(&herald, PHONE, "HELP", TOKEN).await;
    assert!(help.contains("Reply STOP to cancel"), "{help}");
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyword_is_the_whole_text() {
    let db = TestDb::sqlite();
    let fake = FakeTwilio::start(SID, TOKEN).await;
    let herald = start(&db, &fake, json!({}), json!({})).await;
    assert_eq!(signup(&herald, json!({"phone": PHONE})).await.0, 202);
    wait_to(&fake, PHONE, 1).await;
    // Confirming takes the keyword alone too.
    let (_, reply) = text_herald(&herald, PHONE, "yes please", TOKEN).await;
    assert!(!reply.contains("Welcome to herald!"), "{reply}");
    assert!(active(&herald, PHONE).await.is_empty());
    let (_, reply) = text_herald(&herald, PHONE, "YES!", TOKEN).await;
    assert!(reply.contains("Welcome to herald!"), "{reply}");
    assert_eq!(active(&herald, PHONE).await.len(), 1);
    // A keyword inside a longer text opts nothing out (Twilio blocks nothing either): the
    // help, and the number still subscribed.
    let (_, reply) = text_herald(&herald, PHONE, "stop sending goals", TOKEN).await;
    assert!(reply.contains("Reply STOP to cancel"), "{reply}");
    assert_eq!(active(&herald, PHONE).await.len(), 1);
    let (_, reply) = text_herald(&herald, PHONE, " Stop. ", TOKEN).await;
    assert_eq!(
        reply,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>"
    );
    assert!(active(&herald, PHONE).await.is_empty());
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signups_are_rate_limited_per_number_prefix_and_address() {
    let db = TestDb::sqlite();
    let fake = FakeTwilio::start(SID, TOKEN).await;
    let herald = start(
        &db,
        &fake,
        json!({}),
        json!({"signup": {"per_number_per_day": 2, "per_prefix_per_hour": 3, "per_ip_per_hour": 5}}),
    )
    .await;
    assert_eq!(signup(&herald, json!({"phone": PHONE})).await.0, 202);
    assert_eq!(signup(&herald, json!({"phone": PHONE})).await.0, 202);
    let (status, body) = signup(&herald, json!({"phone": PHONE})).await;
    assert_eq!(status, 429);
    assert_eq!(
        body["error"],
        "too many signups for this number; try again later"
    );
    // Same prefix (+1415555…): the third distinct number of the range is refused.
    assert_eq!(
        signup(&herald, json!({"phone": "+14155552672"})).await.0,
        202
    );
    let (status, body) = signup(&herald, json!({"phone": "+14155552673"})).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(
        body["error"],
        "too many signups for numbers like this one; try again later"
    );
    // This address has now used its five signups per hour.
    let (status, body) = signup(&herald, json!({"phone": "+12125550123"})).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(
        body["error"],
        "too many signups from this address; try again later"
    );
    assert_eq!(fake.sent().len(), 3, "only admitted signups were texted");
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_refuses_numbers_that_are_not_real() {
    let db = TestDb::sqlite();
    let fake = FakeTwilio::start(SID, TOKEN).await;
    let herald = start(&db, &fake, json!({}), json!({"signup": {"lookup": true}})).await;
    fake.not_real("+12125550123");
    let (status, body) = signup(&herald, json!({"phone": "+12125550123"})).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "this number cannot receive SMS");
    assert_eq!(signup(&herald, json!({"phone": PHONE})).await.0, 202);
    assert_eq!(fake.lookups(), ["+12125550123", PHONE]);
    assert_eq!(fake.sent().len(), 1);
    herald.shutdown().await;
}

async fn subscribe_all(herald: &Herald, number: &str) {
    herald
        .store
        .subscribe(&Subscription {
            sink: "sms".into(),
            recipient: Recipient::new(number),
            scope: Scope::All,
            kinds: vec![],
            locale: None,
        })
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_twilio_says_is_unsubscribed_is_deactivated_not_retried() {
    let db = TestDb::sqlite();
    let fake = FakeTwilio::start(SID, TOKEN).await;
    let herald = start(&db, &fake, json!({}), json!({})).await;
    subscribe_all(&herald, PHONE).await;
    subscribe_all(&herald, "+12125550123").await;
    fake.unsubscribe(PHONE);
    herald.publish(ADMIN, "news", "first").await;
    wait_to(&fake, "+12125550123", 1).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !active(&herald, PHONE).await.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(active(&herald, PHONE).await.is_empty(), "21610 paused it");
    let tries = fake
        .requests()
        .iter()
        .filter(|r| r.field("To") == Some(PHONE))
        .count();
    assert_eq!(tries, 1, "not retried");
    herald.publish(ADMIN, "news", "second").await;
    wait_to(&fake, "+12125550123", 2).await;
    let tries = fake
        .requests()
        .iter()
        .filter(|r| r.field("To") == Some(PHONE))
        .count();
    assert_eq!(tries, 1, "not texted again");
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_cap_skips_what_is_over_it() {
    for db in TestDb::all().await {
        let fake = FakeTwilio::start(SID, TOKEN).await;
        let herald = start(&db, &fake, json!({}), json!({"daily_cap": 2})).await;
        subscribe_all(&herald, PHONE).await;
        // One at a time: queued together, they would go merged as one text.
        for (n, title) in ["one", "two", "three"].into_iter().enumerate() {
            herald.publish(ADMIN, "news", title).await;
            if n < 2 {
                wait_to(&fake, PHONE, n + 1).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(800)).await;
        let bodies: Vec<String> = fake.sent_to(PHONE).into_iter().map(|s| s.body).collect();
        assert_eq!(bodies, ["one\ntext", "two\ntext"], "{}", db.backend);
        herald.shutdown().await;
        db.cleanup().await;
    }
}

/// Starts at most `rate` sends in any window of one second (one more for the window's edges).
fn max_in_any_second(times: &[Instant]) -> usize {
    let mut best = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end].duration_since(times[start]) >= Duration::from_secs(1) {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_to_1000_subscribers_stays_at_the_configured_rate() {
    for db in TestDb::all().await {
        let fake = FakeTwilio::start(SID, TOKEN).await;
        let herald = start(
            &db,
            &fake,
            json!({}),
            json!({"messages_per_second": 50, "signup": {"enabled": false}}),
        )
        .await;
        for i in 0..1000 {
            subscribe_all(&herald, &format!("+1415555{i:04}")).await;
        }
        let started = Instant::now();
        herald.publish(ADMIN, "news", "Kick-off soon").await;
        let sent = fake.wait_sent(1000, Duration::from_secs(60)).await;
        let elapsed = started.elapsed();
        assert_eq!(sent.len(), 1000, "{}", db.backend);
        let mut numbers: Vec<&str> = sent.iter().map(|s| s.to.as_str()).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), 1000, "each subscriber once");
        let mut times: Vec<Instant> = sent.iter().map(|s| s.at).collect();
        times.sort();
        let peak = max_in_any_second(&times);
        let span = times[999].duration_since(times[0]);
        let rate = 999.0 / span.as_secs_f64();
        println!(
            "{}: 1000 SMS in {:.1}s (from publish {:.1}s), {rate:.1} msg/s, at most {peak} in any second",
            db.backend,
            span.as_secs_f64(),
            elapsed.as_secs_f64()
        );
        assert!(peak <= 51, "{peak} messages within one second");
        assert!(rate <= 50.5, "{rate} msg/s");
        assert!(rate >= 25.0, "{rate} msg/s: far below the configured rate");
        herald.shutdown().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_command_hands_a_number_to_the_sms_signup() {
    use sink_telegram::testing::FakeTelegram;
    let db = TestDb::sqlite();
    let fake = FakeTwilio::start(SID, TOKEN).await;
    let bot = FakeTelegram::start("4242:token").await;
    let herald = Herald::start(
        json!({
            "store": { "url": db.url },
            "sources": {},
            "sinks": {
                "sms": twilio(&fake, json!({})),
                "telegram": { "type": "telegram", "token": "4242:token", "endpoint": bot.endpoint(), "poll_timeout": "1s" },
            },
        }),
        vec![],
    )
    .await;
    bot.user_says(42, "/subscribe +1 415 555 2671 goals", None);
    bot.user_says(43, "/subscribe +1 000 000 0000", None);
    let texts = wait_to(&fake, PHONE, 1).await;
    assert!(
        texts[0].body.contains("every match (goals)"),
        "{}",
        texts[0].body
    );
    let replies = bot.wait_sent(2, Duration::from_secs(10)).await;
    let reply = |chat: &str| {
        replies
            .iter()
            .find(|s| s.chat_id == chat)
            .map(|s| s.text.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        reply("42"),
        "Texted a code to +1415•••2671. The SMS subscription starts when that phone replies with the code (or YES)."
    );
    assert!(
        reply("43").starts_with("Cannot sign that number up:"),
        "{}",
        reply("43")
    );
    let code = code_in(&texts[0].body);
    let (_, twiml) = text_herald(&herald, PHONE, &code, TOKEN).await;
    assert!(twiml.contains("every match (goals)"), "{twiml}");
    assert_eq!(active(&herald, PHONE).await[0].kinds, ["goals"]);
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_code_is_refused_and_forgotten() {
    let db = TestDb::sqlite();
    let fake = FakeTwilio::start(SID, TOKEN).await;
    let herald = start(&db, &fake, json!({}), json!({})).await;
    let expired = herald::store::PendingSignup {
        sink: "sms".into(),
        phone: PHONE.into(),
        code: "123456".into(),
        scopes: vec![],
        kinds: vec![],
        locale: "en".into(),
        quiet: None,
        attempts: 0,
        expires_at_ms: herald::store::now_ms() - 1,
    };
    herald.store.put_signup(&expired).await.unwrap();
    let r = client()
        .post(herald.url("/api/v1/sms/confirm"))
        .json(&json!({"phone": PHONE, "code": "123456"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["error"],
        "the code expired; sign up again for a new one"
    );
    assert!(herald.store.signup("sms", PHONE).await.unwrap().is_none());
    assert!(active(&herald, PHONE).await.is_empty());
    // Expired signups of other numbers are swept when anyone signs up.
    let other = herald::store::PendingSignup {
        phone: "+12125550123".into(),
        ..expired
    };
    herald.store.put_signup(&other).await.unwrap();
    assert_eq!(signup(&herald, json!({"phone": PHONE})).await.0, 202);
    assert!(
        herald
            .store
            .signup("sms", "+12125550123")
            .await
            .unwrap()
            .is_none()
    );
    // Five wrong codes drop the signup.
    for _ in 0..5 {
        let (_, twiml) = text_herald(&herald, PHONE, "000000", TOKEN).await;
        assert!(twiml.contains("that code is not right"), "{twiml}");
    }
    let (_, twiml) = text_herald(&herald, PHONE, "000000", TOKEN).await;
    assert!(twiml.contains("nothing to confirm"), "{twiml}");
    assert!(herald.store.signup("sms", PHONE).await.unwrap().is_none());
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_reports_of_undeliverable_numbers_pause_them() {
    let db = TestDb::sqlite();
    let fake = FakeTwilio::start(SID, TOKEN).await;
    let herald = start(&db, &fake, json!({}), json!({})).await;
    let landline = "+12125550123";
    subscribe_all(&herald, PHONE).await;
    subscribe_all(&herald, landline).await;
    let report = |to: &'static str, status: &'static str, code: &'static str| {
        [
            ("AccountSid", SID),
            ("ErrorCode", code),
            ("MessageSid", "SM00000000000000000000000000000002"),
            ("MessageStatus", status),
            ("To", to),
        ]
    };
    // A handset that is off (30003) may come back: nothing changes.
    let r = signed_post(
        &herald,
        "/webhooks/twilio/status",
        &report(PHONE, "undelivered", "30003"),
        TOKEN,
    )
    .await;
    assert_eq!(r.0, 204);
    assert_eq!(active(&herald, PHONE).await.len(), 1);
    // A forged report changes nothing.
    let r = signed_post(
        &herald,
        "/webhooks/twilio/status",
        &report(landline, "failed", "30006"),
        "forged",
    )
    .await;
    assert_eq!(r.0, 403);
    assert_eq!(active(&herald, landline).await.len(), 1);
    // A landline (30006) never gets texts: paused.
    let r = signed_post(
        &herald,
        "/webhooks/twilio/status",
        &report(landline, "failed", "30006"),
        TOKEN,
    )
    .await;
    assert_eq!(r.0, 204);
    assert!(active(&herald, landline).await.is_empty());
    assert_eq!(active(&herald, PHONE).await.len(), 1);
    herald.shutdown().await;
}
