//! Webhooks end to end: the bundled match replayed fast, POSTed by a `webhook` sink to local
//! receivers that check the Standard Webhooks signature on their own; and a subscribed URL
//! that answers 410 Gone is paused while the configured one keeps receiving.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use herald::routing::{Scope, Subscription};
use serde_json::json;
use sink_api::Recipient;
use sink_webhook::sign;
use sink_webhook::testing::{Answer, Receiver};

use crate::db::TestDb;
use crate::harness::Herald;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ADMIN: &str = "an-admin-token-of-some-length";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goals_and_full_time_arrive_signed() {
    let db = TestDb::sqlite();
    let receiver = Receiver::start(SECRET).await;
    let herald = Herald::start(
        json!({
            "store": { "url": db.url },
            "sources": { "demo": { "type": "replay", "speed": 1_000_000.0, "max_gap": "0s" } },
            "sinks": { "hook": {
                "type": "webhook",
                "secret": SECRET,
                "urls": [receiver.url("/herald")],
                "kinds": ["goals", "full_time"],
            } },
        }),
        vec![],
    )
    .await;
    receiver.wait_delivered(7, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received = receiver.received();
    for r in &received {
        assert_eq!(r.verified, Ok(()), "{r:?}");
        assert_eq!(r.path, "/herald");
        assert_eq!(r.content_type.as_deref(), Some("application/json"));
    }
    let titles: Vec<&str> = received
        .iter()
        .map(|r| r.json["data"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "⚽ OWN GOAL! France 1-0 Croatia",
            "⚽ GOAL! France 1-1 Croatia",
            "⚽ PENALTY GOAL! France 2-1 Croatia",
            "⚽ GOAL! France 3-1 Croatia",
            "⚽ GOAL! France 4-1 Croatia",
            "⚽ GOAL! France 4-2 Croatia",
            "🏁 Full time: France 4-2 Croatia",
        ]
    );
    let last = &received.last().unwrap().json;
    assert_eq!(last["type"], "full_time");
    assert_eq!(last["data"]["teams"], json!(["France", "Croatia"]));
    assert_eq!(last["data"]["locale"], "en");
    // One id per event, derived from the sink instance and the event's stable id.
    let ids: HashSet<&str> = received.iter().map(|r| r.id.as_deref().unwrap()).collect();
    assert_eq!(ids.len(), received.len());
    for r in &received {
        let event_id = r.json["data"]["event_id"].as_str().unwrap();
        assert_eq!(
            r.id.as_deref(),
            Some(sign::message_id("hook", event_id).as_str())
        );
        assert_eq!(r.json["id"].as_str(), r.id.as_deref());
    }
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gone_subscribed_url_is_paused_and_the_configured_one_keeps_receiving() {
    let db = TestDb::sqlite();
    let configured = Receiver::start(SECRET).await;
    let subscribed = Receiver::start(SECRET).await;
    subscribed.script([Answer::Status(410)]);
    let herald = Herald::start(
        json!({
            "store": { "url": db.url },
            "http": { "admin_token": ADMIN },
            "sources": {},
            "sinks": { "hook": {
                "type": "webhook",
                "secret": SECRET,
                "urls": [configured.url("/all")],
            } },
        }),
        vec![],
    )
    .await;
    herald
        .store
        .subscribe(&Subscription {
            sink: "hook".into(),
            recipient: Recipient::new(subscribed.url("/news")),
            scope: Scope::All,
            kinds: vec!["announcements".into()],
            locale: None,
        })
        .await
        .unwrap();
    herald.publish(ADMIN, "news", "first").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !herald.store.subscriptions("hook").await.unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the subscription was not paused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    herald.publish(ADMIN, "news", "second").await;
    let got = configured.wait_delivered(2, Duration::from_secs(10)).await;
    let titles: Vec<&str> = got
        .iter()
        .map(|r| r.json["data"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 2, "{got:?}");
    assert!(titles[1].contains("second"), "{titles:?}");
    assert_eq!(got[1].json["type"], "announcement");
    assert_eq!(got[1].json["data"]["topic"], "news");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let gone = subscribed.received();
    assert_eq!(
        gone.len(),
        1,
        "one refused POST, no retry, nothing after: {gone:?}"
    );
    assert_eq!(gone[0].verified, Ok(()));
    assert_eq!(gone[0].status, Some(410));
    herald.shutdown().await;
}
