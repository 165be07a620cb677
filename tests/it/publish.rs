//! `POST /api/v1/publish`: bearer auth, refusal without a configured token, field-naming
//! errors, and delivery through the same path as match events (here: the SSE stream).

use std::time::Duration;

use serde_json::json;

use crate::db::TestDb;
use crate::harness::{Herald, client};
use crate::sse_client::SseClient;

const TOKEN: &str = "publish-token-0123456789";

async fn start(db: &TestDb, admin_token: Option<&str>) -> Herald {
    let mut http = json!({});
    if let Some(t) = admin_token {
        http["admin_token"] = json!(t);
    }
    let config = json!({
        "store": { "url": db.url },
        "http": http,
        "sources": {},
        "sinks": { "sse": {} },
    });
    Herald::start(config, vec![]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_message_reaches_the_stream() {
    let db = TestDb::sqlite();
    let herald = start(&db, Some(TOKEN)).await;
    let addr = herald.addr;
    let sse = SseClient::connect(addr, "?team=France", None).await;
    let r = client()
        .post(format!("http://{addr}/api/v1/publish"))
        .bearer_auth(TOKEN)
        .json(&json!({"topic": "France", "title": "Team news", "body": "Mbappé starts."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["deliveries"], 1);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while sse.received().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the message never arrived"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let got = &sse.received()[0];
    assert_eq!(got.kind, "announcement");
    assert_eq!(got.title, "📣 Team news");
    assert_eq!(got.body, "Mbappé starts.");
    assert_eq!(got.topic.as_deref(), Some("France"));
    assert_eq!(got.event_id, body["id"].as_str().unwrap());
    herald.shutdown().await;
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_401() {
    let db = TestDb::sqlite();
    let herald = start(&db, Some(TOKEN)).await;
    let addr = herald.addr;
    let url = format!("http://{addr}/api/v1/publish");
    let body = json!({"topic": "t", "title": "t", "body": "b"});
    let missing = client().post(&url).json(&body).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    let challenge = missing.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    let wrong = client()
        .post(&url)
        .bearer_auth("publish-token-0123456780")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let error: serde_json::Value = wrong.json().await.unwrap();
    assert_eq!(error["error"], "invalid credentials");
    assert_eq!(db.store().await.dead_letters(1).await.unwrap().len(), 0);
    herald.shutdown().await;
}

#[tokio::test]
async fn without_a_configured_token_publishing_is_refused() {
    let db = TestDb::sqlite();
    let herald = start(&db, None).await;
    let addr = herald.addr;
    let r = client()
        .post(format!("http://{addr}/api/v1/publish"))
        .bearer_auth("anything-at-all-here")
        .json(&json!({"topic": "t", "title": "t", "body": "b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let error: serde_json::Value = r.json().await.unwrap();
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains("http.admin_token")
    );
    herald.shutdown().await;
}

#[tokio::test]
async fn malformed_bodies_are_400_naming_the_field() {
    let db = TestDb::sqlite();
    let herald = start(&db, Some(TOKEN)).await;
    let addr = herald.addr;
    let url = format!("http://{addr}/api/v1/publish");
    for (body, field) in [
        (r#"{"topic": "t", "body": "b"}"#, Some("title")),
        (
            r#"{"topic": "t", "title": ["x"], "body": "b"}"#,
            Some("title"),
        ),
        (r#"{"topic": "", "title": "t", "body": "b"}"#, Some("topic")),
        (
            r#"{"topic": "t", "title": "t", "body": "b", "urgent": true}"#,
            Some("urgent"),
        ),
        ("not json", None),
    ] {
        let r = client()
            .post(&url)
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{body}");
        let error: serde_json::Value = r.json().await.unwrap();
        assert_eq!(error["field"].as_str(), field, "{body}: {error}");
        assert!(error["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    let huge = client()
        .post(&url)
        .bearer_auth(TOKEN)
        .body(vec![b'x'; 100 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
    herald.shutdown().await;
}

#[tokio::test]
async fn the_page_and_the_matches_api_are_served() {
    let db = TestDb::sqlite();
    let herald = start(&db, None).await;
    let addr = herald.addr;
    let page = client()
        .get(format!("http://{addr}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("new EventSource(\"/stream?\""));
    let matches: serde_json::Value = client()
        .get(format!("http://{addr}/api/v1/matches"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(matches["matches"], json!([]));
    let health = client()
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let missing = client()
        .get(format!("http://{addr}/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    herald.shutdown().await;
}
