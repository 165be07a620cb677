//! X end to end: the bundled match replayed fast, posted through the X sink against a local
//! fake of the API (OAuth 1.0a checked) — only the kinds the sink's routing lets through.

use std::time::Duration;

use serde_json::json;
use sink_x::testing::{Credentials, FakeX};

use crate::db::TestDb;
use crate::harness::Herald;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_goals_and_full_time_only() {
    let db = TestDb::sqlite();
    let credentials = Credentials {
        api_key: "key".into(),
        api_secret: "secret".into(),
        access_token: "token".into(),
        access_token_secret: "token-secret".into(),
    };
    let fake = FakeX::start(credentials).await;
    let herald = Herald::start(
        json!({
            "store": { "url": db.url },
            "sources": { "demo": { "type": "replay", "speed": 1_000_000.0, "max_gap": "0s" } },
            "sinks": { "x": {
                "type": "twitter",
                "api_key": "key",
                "api_secret": "secret",
                "access_token": "token",
                "access_token_secret": "token-secret",
                "endpoint": fake.endpoint(),
                "kinds": ["goals", "full_time"],
            } },
        }),
        vec![],
    )
    .await;
    let posts = fake.wait_posts(7, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let posts = if fake.posts().len() > posts.len() {
        fake.posts()
    } else {
        posts
    };
    let firsts: Vec<&str> = posts
        .iter()
        .map(|p| p.text.lines().next().unwrap())
        .collect();
    assert_eq!(
        firsts,
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
    assert!(fake.requests().iter().all(|r| r.signature_valid));
    herald.shutdown().await;
}
