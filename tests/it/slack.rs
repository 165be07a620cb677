//! Slack end to end: mentions and the slash command reach the subscriptions service through
//! herald's own HTTP server (signed the way Slack signs), or over Socket Mode from a fake
//! Socket Mode server (herald behind NAT, no public URL); replies and notifications go out
//! through slack-morphism to a fake Web API.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use sink_slack::testing::{FakeSlack, signature};

use crate::db::TestDb;
use crate::harness::{Herald, client};

pub(crate) const TOKEN: &str = "xoxb-herald-test";
pub(crate) const SECRET: &str = "herald-signing-secret";
const ADMIN: &str = "slack-admin-token-1234";
const APP_TOKEN: &str = "xapp-1-A0HERALD-1-herald-test";
const WAIT: Duration = Duration::from_secs(5);

pub(crate) fn slack(fake: &FakeSlack) -> serde_json::Value {
    json!({
        "type": "slack",
        "bot_token": TOKEN,
        "signing_secret": SECRET,
        "endpoint": fake.endpoint(),
        "per_channel_per_second": 100,
    })
}

async fn start(db: &TestDb, fake: &FakeSlack) -> Herald {
    Herald::start(
        json!({
            "store": { "url": db.url },
            "http": { "admin_token": ADMIN },
            "sources": {},
            "sinks": { "slack": slack(fake) },
        }),
        vec![],
    )
    .await
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

async fn mention(herald: &Herald, event_id: &str, channel: &str, text: &str, secret: &str) -> u16 {
    let body = json!({
        "type": "event_callback",
        "event_id": event_id,
        "event": {"type": "app_mention", "channel": channel, "user": "U1", "text": format!("<@UHERALD> {text}"), "ts": "1.1"}
    })
    .to_string();
    let ts = now().to_string();
    client()
        .post(herald.url("/webhooks/slack/events"))
        .header("content-type", "application/json")
        .header("x-slack-request-timestamp", &ts)
        .header("x-slack-signature", signature(secret, &ts, body.as_bytes()))
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_subscribes_with_a_mention_and_receives_what_it_follows() {
    for db in TestDb::all().await {
        let fake = FakeSlack::start(TOKEN).await;
        let herald = start(&db, &fake).await;
        assert_eq!(
            mention(&herald, "Ev1", "C42", "subscribe Brasil", SECRET).await,
            200
        );
        let posted = fake.wait_posted(1, Duration::from_secs(5)).await;
        assert_eq!(posted[0].channel, "C42");
        assert_eq!(
            posted[0].text,
            "✅ You now follow Brazil. Notifications will arrive here."
        );
        // WorldCupBot's SMS signup command: no SMS sink yet.
        assert_eq!(
            mention(&herald, "Ev2", "C42", "subscribe +15551234567", SECRET).await,
            200
        );
        let posted = fake.wait_posted(2, Duration::from_secs(5)).await;
        assert_eq!(posted[1].text, "SMS is not configured on this herald.");

        herald.publish(ADMIN, "Brazil", "Team news").await;
        herald
            .publish(ADMIN, "Germany", "Not for this channel")
            .await;
        let posted = fake.wait_posted(3, Duration::from_secs(5)).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let posted_now = fake.posted();
        assert_eq!(posted_now.len(), 3, "{posted_now:#?}");
        assert_eq!(posted[2].channel, "C42");
        assert_eq!(
            posted[2].blocks[0]["text"]["text"], "*📣 Team news*\ntext",
            "{}",
            db.backend
        );
        herald.shutdown().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_requests_get_401_and_subscribe_nobody() {
    let db = TestDb::sqlite();
    let fake = FakeSlack::start(TOKEN).await;
    let herald = start(&db, &fake).await;
    assert_eq!(
        mention(&herald, "Ev9", "C42", "subscribe France", "wrong-secret").await,
        401
    );
    let body = "command=%2Fherald&text=subscribe+France&channel_id=C43";
    let stale = (now() - 600).to_string();
    let r = client()
        .post(herald.url("/webhooks/slack/commands"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", &stale)
        .header(
            "x-slack-signature",
            signature(SECRET, &stale, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        herald
            .store
            .subscriptions("slack")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(fake.posted().is_empty());
    herald.shutdown().await;
}

/// `/herald <text>` typed in `channel`, signed as Slack signs it; the answer's text.
pub(crate) async fn slash(herald: &Herald, channel: &str, text: &str) -> String {
    let body = format!(
        "command=%2Fherald&text={}&channel_id={channel}&user_id=U3",
        text.replace(' ', "+")
    );
    let ts = now().to_string();
    let r = client()
        .post(herald.url("/webhooks/slack/commands"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", &ts)
        .header("x-slack-signature", signature(SECRET, &ts, body.as_bytes()))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let json: serde_json::Value = r.json().await.unwrap();
    json["text"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_slash_command_answers_at_once() {
    let db = TestDb::sqlite();
    let fake = FakeSlack::start(TOKEN).await;
    let herald = start(&db, &fake).await;
    assert_eq!(
        slash(&herald, "C44", "subscribe France cards").await,
        "✅ You now follow France (cards). Notifications will arrive here."
    );
    let subs = herald.store.subscriptions("slack").await.unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].recipient.as_str(), "C44");
    herald.shutdown().await;
}

/// herald with a Slack sink that takes commands over Socket Mode only (no signing secret).
async fn start_socket_mode(db: &TestDb, fake: &FakeSlack) -> Herald {
    Herald::start(
        json!({
            "store": { "url": db.url, "lease_ttl": "3s" },
            "http": { "admin_token": ADMIN },
            "sources": {},
            "sinks": { "slack": {
                "type": "slack",
                "bot_token": TOKEN,
                "app_token": APP_TOKEN,
                "endpoint": fake.endpoint(),
                "per_channel_per_second": 100,
            } },
        }),
        vec![],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nat_commands_arrive_over_socket_mode_and_notifications_follow() {
    for db in TestDb::all().await {
        let fake = FakeSlack::with_app_token(TOKEN, APP_TOKEN).await;
        let herald = start_socket_mode(&db, &fake).await;
        assert_eq!(fake.wait_connected(1, WAIT).await, 1, "{}", db.backend);

        // The slash command's reply comes back in the acknowledgement.
        let envelope = fake.slash_command("C42", "subscribe Brasil");
        let ack = fake.wait_ack(&envelope, WAIT).await.expect("no ack");
        assert_eq!(
            ack.payload.unwrap()["text"],
            "✅ You now follow Brazil. Notifications will arrive here."
        );
        // A mention is acknowledged, then answered in its channel.
        let envelope = fake.app_mention("Ev1", "C43", "subscribe France");
        assert_eq!(fake.wait_ack(&envelope, WAIT).await.unwrap().payload, None);
        let posted = fake.wait_posted(1, WAIT).await;
        assert_eq!(posted[0].channel, "C43");
        assert_eq!(
            posted[0].text,
            "✅ You now follow France. Notifications will arrive here."
        );
        // Without a signing secret there are no HTTP routes to call, or to forge.
        let r = client()
            .post(herald.url("/webhooks/slack/events"))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);

        // Slack recycles the connection: herald reconnects and goes on.
        fake.disconnect();
        assert_eq!(fake.wait_connected(2, WAIT).await, 2, "no reconnection");
        assert_eq!(fake.wait_live_at_most(1, WAIT).await, 1);
        let envelope = fake.app_mention("Ev2", "C44", "subscribe Germany");
        assert!(fake.wait_ack(&envelope, WAIT).await.is_some());
        let posted = fake.wait_posted(2, WAIT).await;
        assert_eq!(posted[1].channel, "C44");

        let mut subscribed: Vec<String> = herald
            .store
            .subscriptions("slack")
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.recipient.as_str().to_owned())
            .collect();
        subscribed.sort();
        assert_eq!(subscribed, ["C42", "C43", "C44"], "{}", db.backend);

        // A notification reaches the channel that subscribed over the slash command, only.
        herald.publish(ADMIN, "Brazil", "Team news").await;
        let posted = fake.wait_posted(3, WAIT).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(fake.posted().len(), 3, "{:#?}", fake.posted());
        assert_eq!(posted[2].channel, "C42");
        assert_eq!(posted[2].blocks[0]["text"]["text"], "*📣 Team news*\ntext");

        herald.shutdown().await;
        assert_eq!(
            fake.wait_live_at_most(0, WAIT).await,
            0,
            "the connection outlived the shutdown"
        );
        db.cleanup().await;
    }
}

/// Two instances on one PostgreSQL database (SQLite is one process per file).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_instance_at_a_time_holds_the_socket_mode_connection() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let fake = FakeSlack::with_app_token(TOKEN, APP_TOKEN).await;
    let first = start_socket_mode(&db, &fake).await;
    assert_eq!(fake.wait_connected(1, WAIT).await, 1);
    let second = start_socket_mode(&db, &fake).await;
    // Longer than a standby's look at the lease (a third of lease_ttl).
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(fake.live_connections(), 1);
    // The first instance's check of the token and its connection; nothing from the second.
    assert_eq!(fake.connections_opened(), 2);
    first.shutdown().await;
    // The lease is released: the second instance connects.
    assert_eq!(fake.wait_connected(2, Duration::from_secs(10)).await, 2);
    assert_eq!(fake.wait_live_at_most(1, WAIT).await, 1);
    let envelope = fake.slash_command("C45", "subscribe Brasil");
    let ack = fake.wait_ack(&envelope, WAIT).await.expect("no ack");
    assert_eq!(
        ack.payload.unwrap()["text"],
        "✅ You now follow Brazil. Notifications will arrive here."
    );
    second.shutdown().await;
    db.cleanup().await;
}
