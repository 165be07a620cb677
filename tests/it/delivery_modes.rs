//! Recipients' delivery modes end to end, through the platform fakes and the real clients:
//! a live ticker edited in place on Telegram, Slack and Discord (its edits counted and
//! paced), quiet hours over a night when the clocks change (held, then one digest; cards
//! dropped) by chat command and for SMS (signup field and keyword), spoiler-free texts and
//! `result`, a backlog merged into as few SMS as fit `max_segments`, and two instances
//! sharing one ticker and the chats' choices. On SQLite and PostgreSQL.

use std::time::{Duration, Instant};

use herald::clock::Clock;
use serde_json::{Value, json};
use sink_telegram::testing::{FakeTelegram, Sent};
use sink_twilio::testing::{Answer as SmsAnswer, FakeTwilio};

use crate::db::TestDb;
use crate::harness::{Herald, push_snapshot, subscribe_all};

const TOKEN: &str = "4242:telegram-test-token";
const PRODUCER: &str = "producer-token-for-modes";

fn config(db: &TestDb, sinks: Value) -> Value {
    let mut config = json!({
        "store": { "url": db.url },
        "http": { "tokens": [{"name": "producer", "token": PRODUCER, "scopes": ["ingest"]}] },
        "sources": { "push": { "type": "push" } },
        "dispatch": { "ticker_interval": "1s", "backoff_base": "200ms", "backoff_max": "1s" },
    });
    config["sinks"] = sinks;
    config
}

fn telegram(fake: &FakeTelegram) -> Value {
    json!({
        "type": "telegram", "token": TOKEN, "endpoint": fake.endpoint(), "poll_timeout": "1s",
        "per_chat_per_second": 1000, "global_per_second": 1000,
    })
}

/// Match `id` at `minute` with `incidents` (`(id, type, minute)`, all Northbridge's) and
/// the score they make.
fn snapshot(id: &str, phase: &str, minute: u16, incidents: &[(&str, &str, u16)]) -> Value {
    let goals = incidents.iter().filter(|(_, t, _)| *t == "goal").count();
    let incidents: Vec<Value> = incidents
        .iter()
        .map(|(i, t, m)| json!({"id": i, "type": t, "side": "home", "player": format!("Player {i}"), "minute": m}))
        .collect();
    json!({"match": {
        "id": id, "competition": "Town League",
        "home": {"name": "Northbridge"}, "away": {"name": "Southbury"},
        "kickoff": "2026-05-01T15:00:00Z", "phase": phase, "minute": minute,
        "score": {"home": goals, "away": 0}, "incidents": incidents,
    }})
}

async fn push(herald: &Herald, body: &Value) {
    push_snapshot(&herald.url(""), PRODUCER, body).await;
}

fn to(fake: &FakeTelegram, chat: &str) -> Vec<Sent> {
    fake.sent()
        .into_iter()
        .filter(|s| s.chat_id == chat)
        .collect()
}

/// Waits until `chat` has `n` messages (sent or edited), or 20 s.
async fn wait_chat(fake: &FakeTelegram, chat: &str, n: usize) -> Vec<Sent> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = to(fake, chat);
        if got.len() >= n || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sends `text` as chat `chat` and waits for the bot's answer.
async fn say(fake: &FakeTelegram, chat: i64, text: &str) -> String {
    let before = to(fake, &chat.to_string()).len();
    fake.user_says(chat, text, None);
    let got = wait_chat(fake, &chat.to_string(), before + 1).await;
    got.get(before).map(|s| s.text.clone()).unwrap_or_default()
}

/// Waits until the match's first snapshot is stored (team names resolve for commands).
async fn known(herald: &Herald, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while herald
        .store
        .matches(50)
        .await
        .unwrap()
        .iter()
        .all(|m| !m.id.ends_with(id))
    {
        assert!(Instant::now() < deadline, "match {id} never stored");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// herald with a Telegram bot on `clock`, match `id` under way, and chat 42 following it.
async fn following(db: &TestDb, clock: Clock, id: &str) -> (FakeTelegram, Herald) {
    let bot = FakeTelegram::start(TOKEN).await;
    let herald = Herald::start_clocked(
        config(db, json!({"telegram": telegram(&bot)})),
        vec![],
        clock,
    )
    .await;
    push(&herald, &snapshot(id, "1H", 5, &[])).await;
    known(&herald, id).await;
    assert!(
        say(&bot, 42, "/subscribe Northbridge")
            .await
            .contains("Northbridge")
    );
    (bot, herald)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticker_chat_gets_one_message_per_match_edited_in_place_and_paced() {
    for db in TestDb::all().await {
        let (bot, herald) = following(&db, Clock::system(), "t1").await;
        assert_eq!(
            say(&bot, 42, "/mode ticker").await,
            "Ticker mode: one message per match, updated as it goes."
        );
        assert!(
            say(&bot, 43, "/subscribe Northbridge")
                .await
                .contains("Northbridge")
        );
        let replies = to(&bot, "42").len();

        // Three goals in quick succession, a card, then full time.
        let mut incidents = Vec::new();
        for (i, minute) in [(0, 10), (1, 11), (2, 12)] {
            incidents.push((["g0", "g1", "g2"][i], "goal", minute));
            push(&herald, &snapshot("t1", "1H", minute, &incidents)).await;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        incidents.push(("c0", "yellow_card", 30));
        push(&herald, &snapshot("t1", "1H", 30, &incidents)).await;
        push(&herald, &snapshot("t1", "FT", 90, &incidents)).await;

        // The other chat gets a message per event: three goals, a card, half-time and the
        // second half (the jump to full time passes them), full time.
        let plain = wait_chat(&bot, "43", 1 + 7).await;
        assert_eq!(plain.len(), 8, "{plain:#?}");
        assert!(plain.iter().all(|s| s.method == "sendMessage"));

        // The ticker chat: one message, edited until it shows full time.
        let deadline = Instant::now() + Duration::from_secs(20);
        let ticker = loop {
            let ticker: Vec<Sent> = to(&bot, "42").split_off(replies);
            let done = ticker.last().is_some_and(|s| s.text.starts_with("<b>🏁"));
            if done || Instant::now() > deadline {
                break ticker;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        assert_eq!(
            to(&bot, "42").len() - replies,
            ticker.len(),
            "edited after full time"
        );
        let posts: Vec<&Sent> = ticker
            .iter()
            .filter(|s| s.method == "sendMessage")
            .collect();
        assert_eq!(posts.len(), 1, "{ticker:#?}");
        let edits: Vec<&Sent> = ticker
            .iter()
            .filter(|s| s.method == "editMessageText")
            .collect();
        assert!(!edits.is_empty() && edits.len() < 5, "{ticker:#?}");
        assert!(edits.iter().all(|e| e.message_id == posts[0].message_id));
        // Paced: at most one edit per `ticker_interval` (1 s).
        for pair in ticker.windows(2) {
            let gap = pair[1].at.duration_since(pair[0].at);
            assert!(
                gap >= Duration::from_millis(950),
                "edits {gap:?} apart: {ticker:#?}"
            );
        }
        let last = &ticker[ticker.len() - 1].text;
        assert!(
            last.starts_with("<b>🏁 Northbridge 3-0 Southbury (FT)</b>"),
            "{last}"
        );
        for line in [
            "Yellow card: Player c0",
            "Full time: Northbridge 3-0 Southbury",
        ] {
            assert!(last.contains(line), "{line:?} missing from {last}");
        }
        herald.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_hours_across_midnight_and_a_clock_change_hold_a_digest_and_drop_cards() {
    for db in TestDb::all().await {
        // Lisbon, the night summer time ends (02:00 WEST becomes 01:00 WET): 06:59:52 UTC is
        // 06:59:52 local, 8 s before the end of a 22:00-07:00 window that started at 21:00
        // UTC the evening before. Read with the evening's offset, it would have ended at
        // 06:00 UTC, and the goals would go at once.
        let clock = Clock::system();
        clock.set("2026-10-25T06:59:52Z".parse().unwrap());
        let (bot, herald) = following(&db, clock, "q1").await;
        assert_eq!(
            say(&bot, 42, "/quiet 22:00-07:00 Europe/Lisbon drop cards").await,
            "Quiet hours set: 22:00-07:00 (Europe/Lisbon). Notifications in that window come \
             as one digest when it ends; cards are dropped. Send \"quiet off\" to end them."
        );
        assert!(
            say(&bot, 43, "/subscribe Northbridge")
                .await
                .contains("Northbridge")
        );
        let replies = to(&bot, "42").len();
        let started = Instant::now();
        push(&herald, &snapshot("q1", "1H", 10, &[("g0", "goal", 10)])).await;
        push(
            &herald,
            &snapshot(
                "q1",
                "1H",
                12,
                &[("g0", "goal", 10), ("c0", "yellow_card", 11)],
            ),
        )
        .await;
        let all = [
            ("g0", "goal", 10),
            ("c0", "yellow_card", 11),
            ("g1", "goal", 12),
        ];
        push(&herald, &snapshot("q1", "1H", 12, &all)).await;
        // Not quiet: each at once.
        assert_eq!(wait_chat(&bot, "43", 1 + 3).await.len(), 4);
        assert_eq!(to(&bot, "42").len(), replies, "sent inside quiet hours");
        let digest = wait_chat(&bot, "42", replies + 1).await.split_off(replies);
        let waited = started.elapsed();
        assert!(waited >= Duration::from_secs(3), "sent after {waited:?}");
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(to(&bot, "42").len(), replies + 1, "one digest only");
        assert_eq!(
            digest[0].text,
            "<b>🌙 While you slept: Northbridge 2-0 Southbury — 2 goals: Player g0 10', \
             Player g1 12'</b>"
        );
        // The card was dropped, and says so in the outbox.
        let skipped = herald.store.skipped("telegram").await.unwrap();
        assert_eq!(
            skipped,
            [("yellow_card".to_owned(), "dropped: quiet hours".to_owned())]
        );
        // Off: what comes next goes at once.
        assert!(
            say(&bot, 42, "/quiet off")
                .await
                .starts_with("Quiet hours are off")
        );
        herald.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoiler_free_chat_gets_no_score_until_it_asks() {
    for db in TestDb::all().await {
        let (bot, herald) = following(&db, Clock::system(), "s1").await;
        assert_eq!(
            say(&bot, 42, "/spoilers off").await,
            "Spoilers off: notifications will not show the score; send \"result <team>\" to see it."
        );
        let replies = to(&bot, "42").len();
        let goal = [("g0", "goal", 10)];
        push(&herald, &snapshot("s1", "1H", 10, &goal)).await;
        push(&herald, &snapshot("s1", "FT", 90, &goal)).await;
        // The goal, half-time and the second half (passed on the way), full time.
        let got = wait_chat(&bot, "42", replies + 4).await.split_off(replies);
        assert_eq!(
            got[0].text,
            "<b>⚽ Goal in Northbridge v Southbury (10')</b>"
        );
        assert_eq!(
            got[1].text,
            "<b>⏸\u{fe0f} Half-time: Northbridge v Southbury</b>"
        );
        assert_eq!(
            got[3].text,
            "<b>🏁 Full time in Northbridge v Southbury</b>\nSend \"result Northbridge\" for the score."
        );
        for sent in &got {
            assert!(
                !sent.text.contains("1-0") && !sent.text.contains("g0"),
                "{sent:?}"
            );
        }
        assert_eq!(
            say(&bot, 42, "/result Northbridge").await,
            "Northbridge 1-0 Southbury (FT)"
        );
        assert_eq!(
            say(&bot, 42, "/result Atlantis").await,
            "No match found for \"Atlantis\"."
        );
        herald.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_for_an_sms_subscriber_goes_merged_within_max_segments() {
    for db in TestDb::all().await {
        let twilio = FakeTwilio::start(crate::sms::SID, crate::sms::TOKEN).await;
        let sms = crate::sms::twilio(&twilio, json!({"max_segments": 1}));
        let herald = Herald::start(config(&db, json!({"sms": sms})), vec![]).await;
        let phone = "+14155552671";
        subscribe_all(&herald.store, "sms", &[phone]).await;
        // Twilio is down for the first attempts: the goals queue up behind the first.
        twilio.script([SmsAnswer::ServerError(503), SmsAnswer::ServerError(503)]);
        let mut incidents = Vec::new();
        for (i, minute) in [(0_usize, 10), (1, 20), (2, 30), (3, 40), (4, 50)] {
            incidents.push((["g0", "g1", "g2", "g3", "g4"][i], "goal", minute));
            push(&herald, &snapshot("m1", "1H", minute, &incidents)).await;
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        let texts = loop {
            let texts: Vec<String> = twilio.sent_to(phone).into_iter().map(|s| s.body).collect();
            let goals = texts.iter().map(|t| t.matches('\'').count()).sum::<usize>();
            if goals >= 5 || Instant::now() > deadline {
                break texts;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        // Five goals in fewer texts than goals, each one segment (GSM-7: 160 characters).
        assert!(texts.len() < 5, "{texts:#?}");
        for text in &texts {
            assert!(text.chars().count() <= 160, "{text}");
            assert!(!text.ends_with('…'), "cut: {text}");
        }
        let all = texts.join("\n");
        for i in 0..5 {
            assert_eq!(
                all.matches(&format!("Player g{i} ")).count(),
                1,
                "{texts:#?}"
            );
        }
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with("Northbridge ") && t.contains(" goals: "))
        );
        herald.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sms_subscriber_sets_quiet_hours_at_signup_and_by_keyword() {
    use crate::sms::{PHONE, SID, TOKEN as SMS_TOKEN, code_in, signup, text_herald, wait_to};
    for db in TestDb::all().await {
        let twilio = FakeTwilio::start(SID, SMS_TOKEN).await;
        // New York, the morning summer time starts (02:00 EST becomes 03:00 EDT): 10:59:55
        // UTC is 06:59:55 EDT, 5 s before the end of a 23:00-07:00 window that started at
        // 04:00 UTC. Read with the evening's offset, it would end at 12:00 UTC.
        let clock = Clock::system();
        clock.set("2026-03-08T10:59:55Z".parse().unwrap());
        let sms = crate::sms::twilio(&twilio, json!({}));
        let herald = Herald::start_clocked(config(&db, json!({"sms": sms})), vec![], clock).await;
        push(&herald, &snapshot("n1", "1H", 5, &[])).await;
        known(&herald, "n1").await;

        // A window that does not parse is refused, naming the field.
        let (status, body) = signup(&herald, json!({"phone": PHONE, "quiet": "25:00-07:00"})).await;
        assert_eq!(
            (status, body["field"].as_str()),
            (400, Some("quiet")),
            "{body}"
        );
        let (status, body) = signup(
            &herald,
            json!({"phone": PHONE, "teams": ["Northbridge"],
                   "quiet": "23:00-07:00 America/New_York drop cards"}),
        )
        .await;
        assert_eq!(status, 202, "{body}");
        let code = code_in(&wait_to(&twilio, PHONE, 1).await[0].body);
        let (_, welcome) = text_herald(&herald, PHONE, &code, SMS_TOKEN).await;
        assert!(welcome.contains("Welcome to herald!"), "{welcome}");
        let (_, shown) = text_herald(&herald, PHONE, "quiet", SMS_TOKEN).await;
        assert!(
            shown.contains(
                "herald: quiet hours 23:00-07:00 America/New_York. Alerts then come in one text \
                 after; no cards. QUIET OFF ends it."
            ),
            "{shown}"
        );

        let started = Instant::now();
        let all = [
            ("g0", "goal", 10),
            ("c0", "yellow_card", 11),
            ("g1", "goal", 12),
        ];
        for n in 1..=all.len() {
            push(&herald, &snapshot("n1", "1H", all[n - 1].2, &all[..n])).await;
        }
        let texts = wait_to(&twilio, PHONE, 2).await;
        let waited = started.elapsed();
        assert!(waited >= Duration::from_secs(2), "sent after {waited:?}");
        tokio::time::sleep(Duration::from_millis(800)).await;
        let texts: Vec<String> = texts.into_iter().skip(1).map(|s| s.body).collect();
        assert_eq!(
            twilio.sent_to(PHONE).len(),
            2,
            "one digest only: {texts:#?}"
        );
        assert!(
            texts[0].contains(
                "While you slept: Northbridge 2-0 Southbury - 2 goals: Player g0 10', Player g1 12'"
            ),
            "{texts:#?}"
        );
        assert_eq!(
            herald.store.skipped("sms").await.unwrap(),
            [("yellow_card".to_owned(), "dropped: quiet hours".to_owned())]
        );

        // By keyword: a window in the default zone, a bad one, and off.
        let (_, set) = text_herald(&herald, PHONE, "QUIET 22:30-06:30", SMS_TOKEN).await;
        assert!(set.contains("quiet hours 22:30-06:30 UTC."), "{set}");
        let (_, bad) = text_herald(&herald, PHONE, "quiet 8pm to 6am", SMS_TOKEN).await;
        assert!(
            bad.contains("herald: reply QUIET 23:00-07:00 and your time zone"),
            "{bad}"
        );
        let (_, off) = text_herald(&herald, PHONE, "Quiet off", SMS_TOKEN).await;
        assert!(off.contains("herald: no quiet hours."), "{off}");
        assert_eq!(herald.store.prefs("sms", PHONE).await.unwrap().quiet, None);
        herald.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticker_on_slack_and_discord_is_one_message_edited_in_place() {
    use sink_discord::testing::{AppKey, FakeDiscord};
    use sink_slack::testing::FakeSlack;
    for db in TestDb::all().await {
        let slack = FakeSlack::start(crate::slack::TOKEN).await;
        let discord = FakeDiscord::start(crate::discord::TOKEN).await;
        let key = AppKey::new();
        let sinks = json!({
            "slack": crate::slack::slack(&slack),
            "discord": {
                "bot_token": crate::discord::TOKEN, "application_id": 4242,
                "public_key": key.public_key(), "endpoint": discord.endpoint(),
            },
        });
        let herald = Herald::start(config(&db, sinks), vec![]).await;
        push(&herald, &snapshot("k1", "1H", 5, &[])).await;
        known(&herald, "k1").await;
        let slash = |text: &'static str| crate::slack::slash(&herald, "C1", text);
        assert!(slash("subscribe Northbridge").await.contains("Northbridge"));
        assert_eq!(
            slash("mode ticker").await,
            "Ticker mode: one message per match, updated as it goes."
        );
        for (name, value) in [("subscribe", "Northbridge"), ("mode", "ticker")] {
            let reply: Value = crate::discord::interaction(&herald, &key, "555", name, Some(value))
                .await
                .json()
                .await
                .unwrap();
            assert!(
                reply["data"]["content"]
                    .as_str()
                    .unwrap()
                    .contains(if name == "mode" {
                        "Ticker mode"
                    } else {
                        "Northbridge"
                    })
            );
        }

        let mut incidents = Vec::new();
        for (i, minute) in [(0, 10), (1, 11), (2, 12)] {
            incidents.push((["g0", "g1", "g2"][i], "goal", minute));
            push(&herald, &snapshot("k1", "1H", minute, &incidents)).await;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        push(&herald, &snapshot("k1", "FT", 90, &incidents)).await;

        let deadline = Instant::now() + Duration::from_secs(20);
        let final_line = "Northbridge 3-0 Southbury (FT)";
        loop {
            let slack_done = slack
                .posted()
                .last()
                .is_some_and(|p| p.text.contains(final_line));
            let discord_done = discord.messages().last().is_some_and(|m| {
                m.embed["title"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(final_line)
            });
            if slack_done && discord_done {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{:#?}\n{:#?}",
                slack.posted(),
                discord.messages()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(1_500)).await;

        // Slack: one post, then updates of that message, paced.
        let posted = slack.posted();
        let posts = posted
            .iter()
            .filter(|p| p.method == "chat.postMessage")
            .count();
        assert_eq!(posts, 1, "{posted:#?}");
        assert!(posted.len() > 1 && posted.len() < 6, "{posted:#?}");
        assert!(
            posted
                .iter()
                .all(|p| p.ts == posted[0].ts && p.channel == "C1")
        );
        for pair in posted.windows(2) {
            let gap = pair[1].at.duration_since(pair[0].at);
            assert!(
                gap >= Duration::from_millis(950),
                "edits {gap:?} apart: {posted:#?}"
            );
        }
        // Discord: the same.
        let messages = discord.messages();
        let creates = messages.iter().filter(|m| m.action == "create").count();
        assert_eq!(creates, 1, "{messages:#?}");
        assert!(messages.len() > 1 && messages.len() < 6, "{messages:#?}");
        assert!(
            messages
                .iter()
                .all(|m| m.id == messages[0].id && m.channel == "555")
        );
        for pair in messages.windows(2) {
            let gap = pair[1].at.duration_since(pair[0].at);
            assert!(
                gap >= Duration::from_millis(950),
                "edits {gap:?} apart: {messages:#?}"
            );
        }
        herald.shutdown().await;
    }
}

/// Two herald processes on one PostgreSQL database, a push source and a Telegram bot.
fn instance_toml(port: u16, db: &TestDb, telegram: &FakeTelegram) -> String {
    format!(
        "[http]\nlisten = \"127.0.0.1:{port}\"\n\
         tokens = [{{ name = \"producer\", token = {PRODUCER:?}, scopes = [\"ingest\"] }}]\n\n\
         [store]\nurl = {url:?}\n\n\
         [dispatch]\nticker_interval = \"1s\"\n\n\
         [sources.push]\ntype = \"push\"\n\n\
         [sinks.telegram]\ntype = \"telegram\"\ntoken = {TOKEN:?}\nendpoint = {endpoint:?}\n\
         poll_timeout = \"1s\"\nper_chat_per_second = 1000\nglobal_per_second = 1000\n",
        url = db.url,
        endpoint = telegram.endpoint(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_keep_one_ticker_per_match_and_the_chats_choices() {
    use crate::process::{Process, free_port};
    use herald::preferences::Mode;
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let bot = FakeTelegram::start(TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let mut instances = Vec::new();
    for i in 0..2 {
        let port = free_port();
        let path = dir.path().join(format!("herald-{i}.toml"));
        std::fs::write(&path, instance_toml(port, &db, &bot)).unwrap();
        let log = dir.path().join(format!("herald-{i}.log"));
        instances.push(Process::start(&path, port, &log, None).await);
    }
    let push_to = |i: usize, body: Value| {
        let base = instances[i].url("");
        async move { push_snapshot(&base, PRODUCER, &body).await }
    };
    // The choices are made once, in the shared store (as a command on either instance would).
    let store = db.store().await;
    subscribe_all(&store, "telegram", &["42", "43"]).await;
    store
        .set_mode("telegram", "42", Mode::Ticker)
        .await
        .unwrap();
    store.set_spoilers("telegram", "43", false).await.unwrap();
    push_to(0, snapshot("x1", "1H", 5, &[])).await;

    // Goals reach one instance, then the other; full time the first.
    let mut incidents = Vec::new();
    for (i, minute) in [(0_usize, 10), (1, 11), (2, 12), (3, 13)] {
        incidents.push((["g0", "g1", "g2", "g3"][i], "goal", minute));
        push_to(i % 2, snapshot("x1", "1H", minute, &incidents)).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    push_to(0, snapshot("x1", "FT", 90, &incidents)).await;

    let deadline = Instant::now() + Duration::from_secs(30);
    while !to(&bot, "42")
        .last()
        .is_some_and(|s| s.text.starts_with("<b>🏁"))
    {
        assert!(Instant::now() < deadline, "{:#?}", to(&bot, "42"));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Kick-off, four goals, half-time, second half, full time: each once, none with a score.
    let spoiler_free = wait_chat(&bot, "43", 8).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let ticker = to(&bot, "42");
    let posts = ticker.iter().filter(|s| s.method == "sendMessage").count();
    assert_eq!(posts, 1, "one ticker message across instances: {ticker:#?}");
    assert!(ticker.iter().all(|s| s.message_id == ticker[0].message_id));
    assert!(
        ticker
            .last()
            .unwrap()
            .text
            .starts_with("<b>🏁 Northbridge 4-0 Southbury (FT)</b>")
    );
    assert_eq!(to(&bot, "43").len(), 8, "{spoiler_free:#?}");
    for sent in &spoiler_free {
        assert!(!sent.text.contains("-0"), "{sent:?}");
    }
    store.close().await;
    for process in instances {
        process.terminate().await;
    }
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whatsapp_backlog_goes_merged_and_quiet_hours_are_a_command_there() {
    use crate::whatsapp::{whatsapp, write};
    for db in TestDb::all().await {
        let twilio = FakeTwilio::start(crate::sms::SID, crate::sms::TOKEN).await;
        let herald =
            Herald::start(config(&db, json!({"whatsapp": whatsapp(&twilio)})), vec![]).await;
        let phone = crate::sms::PHONE;
        push(&herald, &snapshot("w1", "1H", 5, &[])).await;
        known(&herald, "w1").await;
        // Writing to the sender opts in and opens the 24-hour window.
        let (_, reply) = write(&herald, &twilio, phone, "subscribe Northbridge goals").await;
        assert!(reply.contains("Northbridge"), "{reply}");
        let (_, reply) = write(&herald, &twilio, phone, "quiet 23:00-07:00 Europe/Madrid").await;
        assert!(
            reply.contains("Quiet hours set: 23:00-07:00 (Europe/Madrid)"),
            "{reply}"
        );
        let (_, reply) = write(&herald, &twilio, phone, "quiet off").await;
        assert!(reply.contains("Quiet hours are off"), "{reply}");
        let (_, reply) = write(&herald, &twilio, phone, "mode ticker").await;
        assert!(
            reply.contains("A live ticker is not available on this platform."),
            "WhatsApp cannot edit: {reply}"
        );

        // Twilio is down for the first attempts: the goals queue up behind the first.
        twilio.script([SmsAnswer::ServerError(503), SmsAnswer::ServerError(503)]);
        let mut incidents = Vec::new();
        for (i, minute) in [(0_usize, 10), (1, 20), (2, 30), (3, 40)] {
            incidents.push((["g0", "g1", "g2", "g3"][i], "goal", minute));
            push(&herald, &snapshot("w1", "1H", minute, &incidents)).await;
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        let bodies = loop {
            let bodies: Vec<String> = twilio
                .whatsapp_to(phone)
                .into_iter()
                .filter_map(|s| s.body)
                .collect();
            let all = bodies.join("\n");
            if (0..4).all(|i| all.contains(&format!("Player g{i} "))) || Instant::now() > deadline {
                break bodies;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        tokio::time::sleep(Duration::from_millis(500)).await;
        let all = bodies.join("\n");
        for i in 0..4 {
            assert_eq!(
                all.matches(&format!("Player g{i} ")).count(),
                1,
                "{bodies:#?}"
            );
        }
        assert!(bodies.len() < 4, "merged: {bodies:#?}");
        assert!(
            bodies
                .iter()
                .any(|b| b.contains("Northbridge 4-0 Southbury")),
            "{bodies:#?}"
        );
        herald.shutdown().await;
    }
}
