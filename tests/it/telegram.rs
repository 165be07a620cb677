//! Telegram end to end: chats subscribe with bot commands, a real match plays through the
//! FIFA poller, and each chat receives exactly what it follows, in order, in its language —
//! through teloxide against a local fake of the Bot API. Plus the platform's failure modes:
//! `retry_after`, 5xx, and a bot blocked by the user.

use std::time::{Duration, Instant};

use serde_json::json;
use sink_telegram::testing::{Answer, FakeTelegram, Sent};

use crate::db::TestDb;
use crate::e2e::source_table;
use crate::expected::{Expected, fixture_dirs};
use crate::fake_provider::FakeProvider;
use crate::harness::Herald;

const TOKEN: &str = "4242:telegram-test-token";
const ADMIN: &str = "telegram-admin-token-123";

fn telegram(fake: &FakeTelegram) -> serde_json::Value {
    json!({
        "type": "telegram",
        "token": TOKEN,
        "endpoint": fake.endpoint(),
        "poll_timeout": "1s",
        "per_chat_per_second": 1000,
        "global_per_second": 1000,
    })
}

fn to(sent: &[Sent], chat: &str) -> Vec<String> {
    sent.iter()
        .filter(|s| s.chat_id == chat)
        .map(|s| s.text.clone())
        .collect()
}

/// Waits until chat `chat` has received `n` messages.
async fn wait_chat(fake: &FakeTelegram, chat: &str, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got = to(&fake.sent(), chat);
        if got.len() >= n || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribed_chats_get_exactly_what_they_follow_in_their_language() {
    for db in TestDb::all().await {
        let fixture = fixture_dirs()
            .into_iter()
            .find(|d| d.to_string_lossy().contains("/fifa/"))
            .unwrap();
        let expected = Expected::load(&fixture);
        let provider = FakeProvider::start(&fixture).await;
        let bot = FakeTelegram::start(TOKEN).await;
        let herald = Herald::start(
            json!({
                "store": { "url": db.url },
                "sources": { "fifa": source_table(&provider, &fixture) },
                "sinks": { "telegram": telegram(&bot) },
            }),
            vec![],
        )
        .await;
        // Pre-match: herald has seen the fixture, so team names resolve.
        provider.wait_polls(2, Duration::from_secs(10)).await;
        bot.user_says(42, "/lang pt-BR", None);
        bot.user_says(42, "/subscribe França", None);
        bot.user_says(43, "/subscribe Germany", None);
        bot.user_says(44, "/subscribe france cards", None);
        bot.user_says(45, "/subscribe Frnace", None);
        assert_eq!(
            wait_chat(&bot, "42", 2).await,
            [
                "Idioma definido: pt-BR.",
                "✅ Você agora segue France. As notificações chegam aqui."
            ]
        );
        assert_eq!(
            wait_chat(&bot, "43", 1).await,
            ["✅ You now follow Germany. Notifications will arrive here."]
        );
        assert_eq!(
            wait_chat(&bot, "44", 1).await,
            ["✅ You now follow France (cards). Notifications will arrive here."]
        );
        assert_eq!(
            wait_chat(&bot, "45", 1).await,
            ["I don't know \"Frnace\". Did you mean: France?"]
        );

        for step in 0..provider.steps() {
            provider.set_step(step);
            provider.wait_polls(2, Duration::from_secs(20)).await;
        }
        let all = expected.notifications.len();
        let france = wait_chat(&bot, "42", 2 + all).await;
        let cards = wait_chat(&bot, "44", 1 + 3).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let sent = bot.sent();
        let france_notes = &to(&sent, "42")[2..];
        assert_eq!(france_notes.len(), all, "{france:#?}");
        assert_eq!(
            france_notes
                .iter()
                .map(|t| t.lines().next().unwrap())
                .collect::<Vec<_>>(),
            [
                "<b>⚽ Bola rolando: France x Croatia</b>",
                "<b>⚽ GOL CONTRA! France 1-0 Croatia</b>",
                "<b>🟨 Cartão amarelo: KANTE (France) 27'</b>",
                "<b>⚽ GOL! France 1-1 Croatia</b>",
                "<b>⚽ GOL DE PÊNALTI! France 2-1 Croatia</b>",
                "<b>🟨 Cartão amarelo: HERNANDEZ (France) 41'</b>",
                "<b>⏸️ Intervalo: France 2-1 Croatia</b>",
                "<b>▶️ Começa o segundo tempo: France 2-1 Croatia</b>",
                "<b>⚽ GOL! France 3-1 Croatia</b>",
                "<b>⚽ GOL! France 4-1 Croatia</b>",
                "<b>⚽ GOL! France 4-2 Croatia</b>",
                "<b>🟨 Cartão amarelo: VRSALJKO (Croatia) 90+2'</b>",
                "<b>🏁 Fim de jogo: France 4-2 Croatia</b>",
            ],
            "{}",
            db.backend
        );
        assert!(
            to(&sent, "43").len() == 1,
            "Germany does not play: only the confirmation"
        );
        assert_eq!(
            cards.len(),
            4,
            "three bookings in a France match: {cards:#?}"
        );
        assert!(
            cards[1..]
                .iter()
                .all(|t| t.starts_with("<b>🟨 Yellow card"))
        );
        herald.shutdown().await;
        db.cleanup().await;
    }
}

async fn start_with_chat(db: &TestDb, bot: &FakeTelegram, dispatch: serde_json::Value) -> Herald {
    let herald = Herald::start(
        json!({
            "store": { "url": db.url },
            "http": { "admin_token": ADMIN },
            "dispatch": dispatch,
            "sources": {},
            "sinks": { "telegram": telegram(bot) },
        }),
        vec![],
    )
    .await;
    bot.user_says(42, "/subscribe", None);
    assert_eq!(
        wait_chat(bot, "42", 1).await.len(),
        1,
        "the chat subscribed"
    );
    herald
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_from_telegram_is_waited_out() {
    let db = TestDb::sqlite();
    let bot = FakeTelegram::start(TOKEN).await;
    let herald = start_with_chat(&db, &bot, json!({"backoff_base": "10ms"})).await;
    bot.script([Answer::RetryAfter(2)]);
    let before = bot.attempts();
    herald.publish(ADMIN, "news", "news").await;
    let sent = wait_chat(&bot, "42", 2).await;
    assert_eq!(sent.len(), 2);
    let all = bot.sent();
    let attempts = bot.attempts() - before;
    assert_eq!(attempts, 2, "one refused attempt, one delivery");
    let delivered = all.last().unwrap().at;
    let refused_at = all[0].at; // the confirmation, just before the refused attempt
    assert!(
        delivered - refused_at >= Duration::from_secs(2),
        "retried after {:?}",
        delivered - refused_at
    );
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_is_retried() {
    let db = TestDb::sqlite();
    let bot = FakeTelegram::start(TOKEN).await;
    // teloxide waits 10 s after a 5xx before reporting it; the send timeout cuts that short.
    let herald = start_with_chat(
        &db,
        &bot,
        json!({"send_timeout": "500ms", "backoff_base": "50ms"}),
    )
    .await;
    bot.script([Answer::ServerError(502)]);
    herald.publish(ADMIN, "news", "news").await;
    let sent = wait_chat(&bot, "42", 2).await;
    assert_eq!(sent.len(), 2, "delivered on the retry: {sent:?}");
    assert!(sent[1].starts_with("<b>📣 news</b>"));
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_blocked_by_the_user_pauses_the_subscription() {
    let db = TestDb::sqlite();
    let bot = FakeTelegram::start(TOKEN).await;
    let herald = start_with_chat(&db, &bot, json!({})).await;
    bot.script([Answer::Blocked]);
    herald.publish(ADMIN, "news", "first").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !herald
        .store
        .subscriptions("telegram")
        .await
        .unwrap()
        .is_empty()
    {
        assert!(Instant::now() < deadline, "the subscription was not paused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    herald.publish(ADMIN, "news", "second").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        to(&bot.sent(), "42").len(),
        1,
        "nothing more is sent to a chat that blocked the bot"
    );
    assert_eq!(bot.attempts(), 2, "no retries against a blocked chat");
    // Subscribing again (the user unblocked the bot) resumes deliveries.
    bot.user_says(42, "/subscribe", None);
    wait_chat(&bot, "42", 2).await;
    herald.publish(ADMIN, "news", "third").await;
    let sent = wait_chat(&bot, "42", 3).await;
    assert!(sent[2].starts_with("<b>📣 third</b>"), "{sent:?}");
    herald.shutdown().await;
}
