//! Discord end to end: slash commands registered at startup, interactions (signed with the
//! application's key) reach the subscriptions service through herald's HTTP server, and
//! notifications go out as embeds through serenity to a fake REST API.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use sink_discord::testing::{Answer, AppKey, FakeDiscord};

use crate::db::TestDb;
use crate::harness::{Herald, client};

pub(crate) const TOKEN: &str = "discord-herald-token";
const ADMIN: &str = "discord-admin-token-123";

async fn start(db: &TestDb, fake: &FakeDiscord, key: &AppKey) -> Herald {
    Herald::start(
        json!({
            "store": { "url": db.url },
            "http": { "admin_token": ADMIN },
            "dispatch": { "backoff_base": "100ms" },
            "sources": {},
            "sinks": { "discord": {
                "bot_token": TOKEN,
                "application_id": 4242,
                "public_key": key.public_key(),
                "endpoint": fake.endpoint(),
            } },
        }),
        vec![],
    )
    .await
}

/// A slash command `name` with one option's value (`target`) from `channel`, signed with
/// `key`.
pub(crate) async fn interaction(
    herald: &Herald,
    key: &AppKey,
    channel: &str,
    name: &str,
    target: Option<&str>,
) -> reqwest::Response {
    let mut data = json!({"name": name, "options": []});
    if let Some(t) = target {
        data["options"] = json!([{"name": "target", "type": 3, "value": t}]);
    }
    let body =
        json!({"type": 2, "channel_id": channel, "member": {"user": {"id": "5"}}, "data": data})
            .to_string();
    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    client()
        .post(herald.url("/webhooks/discord/interactions"))
        .header("content-type", "application/json")
        .header("x-signature-timestamp", &ts)
        .header("x-signature-ed25519", key.sign(&ts, body.as_bytes()))
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_subscribes_with_a_slash_command_and_gets_embeds() {
    for db in TestDb::all().await {
        let fake = FakeDiscord::start(TOKEN).await;
        let key = AppKey::new();
        let herald = start(&db, &fake, &key).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while fake.commands().len() < 10 {
            assert!(Instant::now() < deadline, "commands were not registered");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let names: Vec<String> = fake
            .commands()
            .iter()
            .filter_map(|c| c["name"].as_str().map(str::to_owned))
            .collect();
        for name in ["subscribe", "quiet", "spoilers", "mode", "result"] {
            assert!(
                names.iter().any(|n| n == name),
                "{name} missing from {names:?}"
            );
        }
        let reply: serde_json::Value =
            interaction(&herald, &key, "555", "subscribe", Some("France"))
                .await
                .json()
                .await
                .unwrap();
        assert_eq!(
            reply["data"]["content"],
            "✅ You now follow France. Notifications will arrive here."
        );
        herald.publish(ADMIN, "France", "Team news").await;
        herald.publish(ADMIN, "Spain", "Not for this channel").await;
        let messages = fake.wait_messages(1, Duration::from_secs(10)).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(fake.messages().len(), 1, "{}", db.backend);
        assert_eq!(messages[0].channel, "555");
        assert_eq!(messages[0].embed["title"], "📣 Team news");
        herald.shutdown().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_and_server_errors_are_retried_and_unknown_channels_paused() {
    let db = TestDb::sqlite();
    let fake = FakeDiscord::start(TOKEN).await;
    let key = AppKey::new();
    let herald = start(&db, &fake, &key).await;
    interaction(&herald, &key, "555", "subscribe", None).await;
    fake.script([Answer::RateLimited(1), Answer::Status(502)]);
    herald.publish(ADMIN, "news", "first").await;
    let messages = fake.wait_messages(1, Duration::from_secs(10)).await;
    assert_eq!(messages.len(), 1, "delivered after a 429 and a 502");
    assert_eq!(fake.attempts(), 3);

    fake.script([Answer::UnknownChannel]);
    herald.publish(ADMIN, "news", "second").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !herald
        .store
        .subscriptions("discord")
        .await
        .unwrap()
        .is_empty()
    {
        assert!(
            Instant::now() < deadline,
            "the subscription of a deleted channel was not paused"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_interactions_get_401_and_change_nothing() {
    let db = TestDb::sqlite();
    let fake = FakeDiscord::start(TOKEN).await;
    let herald = start(&db, &fake, &AppKey::new()).await;
    let forged = interaction(
        &herald,
        &AppKey::from_seed(9),
        "555",
        "subscribe",
        Some("France"),
    )
    .await;
    assert_eq!(forged.status(), 401);
    assert_no_subscriptions(&herald).await;
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_interaction_from_a_channel_that_is_not_a_discord_id_subscribes_nothing() {
    let db = TestDb::sqlite();
    let fake = FakeDiscord::start(TOKEN).await;
    let key = AppKey::new();
    let herald = start(&db, &fake, &key).await;
    for channel in ["general", "12ab", "", "999999999999999999999999"] {
        let r = interaction(&herald, &key, channel, "subscribe", Some("France")).await;
        assert_eq!(r.status(), 400, "{channel:?}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["field"], "channel_id");
    }
    assert_no_subscriptions(&herald).await;
    herald.shutdown().await;
}

async fn assert_no_subscriptions(herald: &Herald) {
    let subscriptions = herald.store.subscriptions("discord").await.unwrap();
    assert!(subscriptions.is_empty(), "{subscriptions:?}");
}
