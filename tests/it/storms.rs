//! Fault storms. A score provider that answers 429, 500, nothing and truncated JSON for 30 s in
//! the middle of a match: every expected notification still arrives once, and the provider's
//! limits hold. A chat platform that hangs, then answers 5xx, for 60 s: the other sinks do not
//! slow down, and every delivery to it completes afterwards.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use sink_discord::testing::{AppKey, FakeDiscord};
use sink_telegram::testing::{Answer, FakeTelegram};

use crate::db::TestDb;
use crate::e2e::{play, source_table};
use crate::expected::{Expected, check, fixture_dirs};
use crate::fake_provider::{FakeProvider, STORM_RETRY_AFTER};
use crate::harness::Herald;
use crate::sse_client::{SseClient, as_got};

/// How long the provider storms.
const PROVIDER_STORM: Duration = Duration::from_secs(30);
/// The per-minute quota of the metered providers in this test.
const REQUESTS_PER_MINUTE: usize = 120;

async fn provider_storm(fixture: &Path) {
    let label = fixture.display().to_string();
    let expected = Expected::load(fixture);
    let fake = FakeProvider::start(fixture).await;
    let mut source = source_table(&fake, fixture);
    let metered = source.get("requests_per_minute").is_some();
    if metered {
        source["requests_per_minute"] = json!(REQUESTS_PER_MINUTE);
    }
    let db = TestDb::sqlite();
    let herald = Herald::start(
        json!({"store": {"url": db.url}, "sources": {"provider": source}, "sinks": {"sse": {}}}),
        vec![],
    )
    .await;
    let sse = SseClient::connect(herald.addr, "", Some(0)).await;

    // The first half as usual; then the storm while the match goes on (a step every 6 s);
    // then the rest.
    let steps = fake.steps();
    let storm_from = steps / 2 - 2;
    let storm_steps = storm_from..storm_from + 4;
    play(&fake, || sse.received(), &expected, 0..storm_from, &label).await;
    let started = Instant::now();
    fake.storm(PROVIDER_STORM);
    for step in storm_steps.clone() {
        fake.set_step(step);
        tokio::time::sleep(Duration::from_secs(6)).await;
    }
    tokio::time::sleep(PROVIDER_STORM.saturating_sub(started.elapsed())).await;
    play(
        &fake,
        || sse.received(),
        &expected,
        storm_steps.end..steps,
        &label,
    )
    .await;
    fake.wait_polls(4, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let received = sse.received();
    let problems = check(&expected, &as_got(&received));
    assert!(problems.is_empty(), "{label}:\n{}", problems.join("\n"));
    let ids: std::collections::HashSet<i64> = received.iter().map(|n| n.id).collect();
    assert_eq!(ids.len(), received.len(), "{label}: streamed twice");

    let hits = fake.hits();
    let storm: Vec<_> = hits.iter().filter(|h| h.fault).collect();
    for status in [429, 500, 504, 200] {
        assert!(
            storm.iter().any(|h| h.status == status),
            "{label}: the storm never answered {status}: {storm:?}"
        );
    }
    // A 429's Retry-After is honoured: nothing is asked before it passes.
    for (i, hit) in hits.iter().enumerate() {
        if hit.status == 429
            && let Some(next) = hits.get(i + 1)
        {
            let waited = next.at.duration_since(hit.at);
            assert!(
                waited >= Duration::from_secs(STORM_RETRY_AFTER) - Duration::from_millis(50),
                "{label}: asked again {waited:?} after a 429 with Retry-After: {STORM_RETRY_AFTER}"
            );
        }
    }
    // The per-minute quota holds in every minute, storm or not.
    if metered {
        for (i, hit) in hits.iter().enumerate() {
            let in_minute = hits[i..]
                .iter()
                .take_while(|h| h.at.duration_since(hit.at) < Duration::from_secs(60))
                .count();
            assert!(
                in_minute <= REQUESTS_PER_MINUTE,
                "{label}: {in_minute} requests in a minute (quota {REQUESTS_PER_MINUTE})"
            );
        }
    }
    sse.stop();
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_provider_storm_mid_match_loses_nothing_and_respects_quotas() {
    // The four formats at once, each against its own fake provider and herald.
    let fixtures = fixture_dirs();
    futures::future::join_all(fixtures.iter().map(|f| provider_storm(f))).await;
}

const TG_TOKEN: &str = "123:storm";
const DISCORD_TOKEN: &str = "discord-storm";
const ADMIN: &str = "storm-admin-token-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_platform_storm_slows_no_other_sink_and_every_delivery_completes() {
    let telegram = FakeTelegram::start(TG_TOKEN).await;
    let discord = FakeDiscord::start(DISCORD_TOKEN).await;
    let db = TestDb::sqlite();
    let herald = Herald::start(
        json!({
            "store": {"url": db.url},
            "http": {"admin_token": ADMIN},
            "sources": {},
            "dispatch": {"send_timeout": "3s", "backoff_base": "100ms", "backoff_max": "2s",
                         "max_attempts": 200, "shutdown_grace": "1s"},
            "sinks": {
                "sse": {},
                "tg": {"type": "telegram", "token": TG_TOKEN, "endpoint": telegram.endpoint(),
                       "chats": ["1001"], "commands": false,
                       "per_chat_per_second": 1000, "global_per_second": 1000},
                "dc": {"type": "discord", "bot_token": DISCORD_TOKEN, "endpoint": discord.endpoint(),
                       "application_id": 4242, "public_key": AppKey::new().public_key(),
                       "channels": ["900"], "register_commands": false},
            },
        }),
        vec![],
    )
    .await;
    let sse = SseClient::connect(herald.addr, "", None).await;

    // Announcements every 500 ms: how long each takes to reach Discord and the stream.
    let mut published = Vec::new();
    let mut publish = async |n: usize| {
        herald.publish(ADMIN, "storm", &format!("news {n}")).await;
        published.push(Instant::now());
    };
    for n in 0..5 {
        publish(n).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    telegram.wait_sent(5, Duration::from_secs(10)).await;

    // Telegram hangs for 15 s, then answers 502 for 45 s.
    telegram.outage(vec![
        (Duration::from_secs(15), Answer::Hang),
        (Duration::from_secs(45), Answer::ServerError(502)),
    ]);
    let storm_started = Instant::now();
    let mut n = 5;
    while storm_started.elapsed() < Duration::from_secs(60) {
        publish(n).await;
        n += 1;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let total = n;

    // Discord and the stream got every announcement at once, storm or not.
    let on_discord = discord.wait_messages(total, Duration::from_secs(10)).await;
    let texts: Vec<String> = on_discord.iter().map(|m| m.embed.to_string()).collect();
    assert_eq!(on_discord.len(), total, "{texts:#?}");
    assert_eq!(sse.received().len(), total);
    let latencies = |arrivals: Vec<Instant>| -> (Duration, Duration) {
        let each: Vec<Duration> = arrivals
            .iter()
            .zip(&published)
            .map(|(at, sent)| at.saturating_duration_since(*sent))
            .collect();
        let (before, during) = each.split_at(5);
        (
            before.iter().copied().max().unwrap(),
            during.iter().copied().max().unwrap(),
        )
    };
    for (sink, arrivals) in [
        ("discord", on_discord.iter().map(|m| m.at).collect()),
        ("sse", sse.received_at()),
    ] {
        let (before, during) = latencies(arrivals);
        eprintln!("{sink}: worst latency {before:?} before the storm, {during:?} during it");
        assert!(
            during < Duration::from_secs(2),
            "{sink} was slowed down by Telegram's storm: {during:?} (before: {before:?})"
        );
    }

    // Telegram gets everything once the storm is over, each once, in order.
    let sent = telegram.wait_sent(total, Duration::from_secs(60)).await;
    let texts: Vec<String> = sent.iter().map(|m| m.text.clone()).collect();
    assert_eq!(texts.len(), total, "{texts:#?}");
    for (i, text) in texts.iter().enumerate() {
        assert!(text.contains(&format!("news {i}")), "{i}: {text}");
    }
    assert!(
        telegram.attempts() > total + 10,
        "the storm was not felt: {} attempts",
        telegram.attempts()
    );
    sse.stop();
    herald.shutdown().await;
}
