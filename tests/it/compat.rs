//! The routes of the World Cup SMS bot tutorial, for its clients: `POST /subscribe {"number"}`
//! starts the double opt-in, `POST /updates {"message"}` texts every active subscriber; and
//! `subscribe 4155552671` typed in a chat reads the number in `signup.default_country`.

use std::time::Duration;

use serde_json::{Value, json};
use sink_telegram::testing::FakeTelegram;
use sink_twilio::testing::FakeTwilio;

use crate::db::TestDb;
use crate::harness::{Herald, client};
use crate::sms::{ADMIN, PHONE, SID, TOKEN, active, code_in, start, text_herald, twilio, wait_to};

const OTHER: &str = "+14155552672";

async fn post(herald: &Herald, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = client().post(herald.url(path)).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Signs `number` up through `POST /subscribe` and confirms by texting the code back.
async fn subscribe_number(herald: &Herald, fake: &FakeTwilio, number: &str) {
    let (status, answer) = post(herald, "/subscribe", None, &json!({"number": number})).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["status"], "pending");
    assert!(
        active(herald, number).await.is_empty(),
        "nothing before the code"
    );
    let texts = wait_to(fake, number, 1).await;
    let code = code_in(&texts[0].body);
    let (status, _) = text_herald(herald, number, &code, TOKEN).await;
    assert_eq!(status, 200);
    assert_eq!(active(herald, number).await.len(), 1, "{number} is active");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_by_number_then_updates_reach_every_active_subscriber() {
    for db in TestDb::all().await {
        let fake = FakeTwilio::start(SID, TOKEN).await;
        let herald = start(&db, &fake, json!({}), json!({})).await;
        subscribe_number(&herald, &fake, PHONE).await;
        subscribe_number(&herald, &fake, OTHER).await;
        // A third number starts the signup and never confirms: it gets no update.
        let pending = "+14155552673";
        let (status, _) = post(&herald, "/subscribe", None, &json!({"number": pending})).await;
        assert_eq!(status, 202);
        // A bad number names the tutorial's field.
        let (status, answer) = post(&herald, "/subscribe", None, &json!({"number": "12"})).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["field"], "number", "{answer}");

        let update = json!({"message": "Kick-off in 10 minutes!"});
        let (status, _) = post(&herald, "/updates", None, &update).await;
        assert_eq!(status, 401, "{}: updates need a token", db.backend);
        let (status, answer) = post(&herald, "/updates", Some(ADMIN), &update).await;
        assert_eq!(status, 202, "{answer}");
        assert_eq!(answer["deliveries"], 2, "{answer}");
        for number in [PHONE, OTHER] {
            // The welcome is the webhook's TwiML answer; the REST API sent the code and the update.
            let texts = wait_to(&fake, number, 2).await;
            assert_eq!(texts.len(), 2, "{}: code, update", db.backend);
            assert!(
                texts[1].body.contains("Kick-off in 10 minutes!"),
                "{}",
                texts[1].body
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(fake.sent_to(pending).len(), 1, "only the code");
        let (status, answer) =
            post(&herald, "/updates", Some(ADMIN), &json!({"message": " "})).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["field"], "message");
        herald.shutdown().await;
    }
}

async fn chat_herald(db: &TestDb, fake: &FakeTwilio, bot: &FakeTelegram, sms: Value) -> Herald {
    Herald::start(
        json!({
            "store": { "url": db.url },
            "sources": {},
            "sinks": {
                "sms": twilio(fake, sms),
                "telegram": { "type": "telegram", "token": "4242:token", "endpoint": bot.endpoint(), "poll_timeout": "1s" },
            },
        }),
        vec![],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_national_number_typed_in_a_chat_starts_the_sms_signup_in_the_default_country() {
    let db = TestDb::sqlite();
    let fake = FakeTwilio::start(SID, TOKEN).await;
    let bot = FakeTelegram::start("4242:token").await;
    let herald = chat_herald(
        &db,
        &fake,
        &bot,
        json!({"signup": {"default_country": "US"}}),
    )
    .await;
    bot.user_says(42, "/subscribe 4155552671", None);
    let texts = wait_to(&fake, PHONE, 1).await;
    assert_eq!(texts.len(), 1, "the code went to {PHONE}");
    let reply = bot.wait_sent(1, Duration::from_secs(10)).await;
    assert!(
        reply[0].text.starts_with("Texted a code to +1415•••2671."),
        "{}",
        reply[0].text
    );
    let code = code_in(&texts[0].body);
    text_herald(&herald, PHONE, &code, TOKEN).await;
    assert_eq!(active(&herald, PHONE).await.len(), 1);
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_default_country_a_national_number_is_not_a_phone() {
    let db = TestDb::sqlite();
    let fake = FakeTwilio::start(SID, TOKEN).await;
    let bot = FakeTelegram::start("4242:token").await;
    let herald = chat_herald(&db, &fake, &bot, json!({})).await;
    bot.user_says(42, "/subscribe 4155552671", None);
    let reply = bot.wait_sent(1, Duration::from_secs(10)).await;
    assert!(
        !reply[0].text.contains("Texted a code"),
        "{}",
        reply[0].text
    );
    assert!(fake.sent_to(PHONE).is_empty(), "no code texted");
    herald.shutdown().await;
}
