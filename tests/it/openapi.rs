//! The OpenAPI document at `/api/v1/openapi.json`: OpenAPI 3.1, every route herald serves is
//! in it (and everything in it is served), and real answers of every JSON endpoint, success
//! and error alike, validate against the schemas it gives for their status.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use sink_twilio::testing::FakeTwilio;

use crate::db::TestDb;
use crate::harness::{Herald, client};
use crate::sms::{SID, TOKEN, twilio};

const ADMIN: &str = "openapi-admin-token-0123456789";
const READER: &str = "openapi-reader-token-0123456";

/// Every route herald serves (a sink's routes when that sink is configured), as the document
/// names it.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/competitions"),
    ("get", "/api/v1/matches"),
    ("get", "/api/v1/matches/{id}"),
    ("get", "/api/v1/matches/{id}/events"),
    ("get", "/api/v1/teams/{id}"),
    ("post", "/api/v1/ingest"),
    ("post", "/api/v1/sources/{id}/poll"),
    ("post", "/api/v1/publish"),
    ("post", "/api/v1/messages"),
    ("get", "/api/v1/messages"),
    ("delete", "/api/v1/messages"),
    ("get", "/api/v1/messages/{id}"),
    ("delete", "/api/v1/messages/{id}"),
    ("post", "/updates"),
    ("get", "/api/v1/sms"),
    ("post", "/api/v1/sms/subscribe"),
    ("post", "/api/v1/sms/confirm"),
    ("post", "/subscribe"),
    ("get", "/stream"),
    ("get", "/socket.io/"),
    ("get", "/socket.io/socket.io.min.js"),
    ("post", "/webhooks/twilio/sms"),
    ("post", "/webhooks/twilio/status"),
    ("post", "/webhooks/twilio/whatsapp"),
    ("post", "/webhooks/twilio/whatsapp/status"),
    ("post", "/webhooks/{sink}/events"),
    ("post", "/webhooks/{sink}/commands"),
    ("post", "/webhooks/{sink}/interactions"),
    ("post", "/webhooks/{sink}/callbacks"),
];

/// Checks `body`, answered with `status` to `method path`, against the document.
fn validate(doc: &Value, method: &str, path: &str, status: u16, body: &Value) {
    let errors = mismatches(doc, method, path, status, body);
    assert!(
        errors.is_empty(),
        "{method} {path} {status}: {body}\ndoes not match the document:\n{}",
        errors.join("\n")
    );
}

/// How `body`, answered with `status` to `method path`, departs from the document.
fn mismatches(doc: &Value, method: &str, path: &str, status: u16, body: &Value) -> Vec<String> {
    let response = &doc["paths"][path][method]["responses"][status.to_string()];
    assert!(
        !response.is_null(),
        "{method} {path}: status {status} is not documented: {body}"
    );
    let schema = &response["content"]["application/json"]["schema"];
    assert!(
        !schema.is_null(),
        "{method} {path} {status}: no JSON schema documented"
    );
    // The schema inside a document holding the components its references point at.
    let mut root = schema.clone();
    root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    root["components"] = doc["components"].clone();
    let validator = jsonschema::validator_for(&root)
        .unwrap_or_else(|e| panic!("{method} {path} {status}: the schema does not compile: {e}"));
    validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

/// A call: method, URL, documented path, token, body, the status it answers.
type Call<'a> = (
    Method,
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<Value>,
    u16,
);

struct Api<'a> {
    herald: &'a Herald,
    doc: Value,
}

impl Api<'_> {
    /// Calls `method url` (documented as `path`), checks the answer is `want` and matches the
    /// document; returns it.
    async fn call(
        &self,
        method: Method,
        url: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        want: u16,
    ) -> Value {
        let mut request = client().request(method.clone(), self.herald.url(url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, want, "{method} {url}: {value}");
        validate(
            &self.doc,
            &method.as_str().to_lowercase(),
            path,
            status,
            &value,
        );
        value
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_answers_of_every_endpoint_match_the_document() {
    let db = TestDb::sqlite();
    let fake = FakeTwilio::start(SID, TOKEN).await;
    let herald = Herald::start(
        json!({
            "store": { "url": db.url },
            "http": {
                "admin_token": ADMIN,
                "tokens": [{"name": "reader", "token": READER, "scopes": ["read"]}],
            },
            "sources": { "feed": { "type": "push" } },
            "sinks": { "sse": {}, "rooms": {"type": "socketio"}, "sms": twilio(&fake, json!({})) },
        }),
        vec![],
    )
    .await;
    let doc: Value = client()
        .get(herald.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in ROUTES {
        assert!(
            paths.get(*path).and_then(|p| p.get(*method)).is_some(),
            "{method} {path} is served but not documented"
        );
    }
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(documented, ROUTES.len(), "documented but not served?");

    // The schemas are strict enough to tell a wrong answer.
    for wrong in [
        json!({"matches": [{"id": 7}], "next_cursor": null}),
        json!({"matches": []}),
        json!({"matches": [], "next_cursor": 3}),
    ] {
        assert!(
            !mismatches(&doc, "get", "/api/v1/matches", 200, &wrong).is_empty(),
            "{wrong} passed"
        );
    }
    assert!(!mismatches(&doc, "get", "/healthz", 503, &json!({"field": "x"})).is_empty());

    let api = Api {
        herald: &herald,
        doc: doc.clone(),
    };
    let snapshot = json!({"match": {
        "id": "m1", "competition": "Town League",
        "home": {"id": "n", "name": "Northfield", "lineup": {
            "formation": "4-3-3", "coach": "A. Manager",
            "starting": [{"name": "A. Keeper", "number": 1, "position": "goalkeeper", "captain": true}],
            "bench": [{"name": "B. Sub"}]}},
        "away": {"name": "Southbury"},
        "venue": {"name": "Town Ground"},
        "kickoff": "2026-05-01T15:00:00Z", "phase": "2H", "minute": 50,
        "score": {"home": 1, "away": 0},
        "incidents": [{"id": "g1", "type": "goal", "side": "home", "player": "A. Striker", "minute": 12}],
    }});
    let later = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let later = later
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let message = json!({"title": "Later", "body": "Soon", "send_at": later,
        "recipients": [{"sink": "sms", "to": "+14155552671"}]});
    let phone = |p: &str| Some(json!({ "phone": p }));
    // In order, as a client would.
    let calls: Vec<Call<'_>> = vec![
        (Method::GET, "/healthz", "/healthz", None, None, 200),
        (Method::GET, "/readyz", "/readyz", None, None, 200),
        (
            Method::GET,
            "/api/v1/openapi.json",
            "/api/v1/openapi.json",
            None,
            None,
            200,
        ),
        (
            Method::POST,
            "/api/v1/ingest",
            "/api/v1/ingest",
            Some(ADMIN),
            Some(snapshot),
            202,
        ),
        (
            Method::POST,
            "/api/v1/ingest",
            "/api/v1/ingest",
            Some(ADMIN),
            Some(json!({"match": {"id": "x"}})),
            400,
        ),
        (
            Method::POST,
            "/api/v1/ingest",
            "/api/v1/ingest",
            None,
            Some(json!({})),
            401,
        ),
        (
            Method::POST,
            "/api/v1/ingest",
            "/api/v1/ingest",
            Some(READER),
            Some(json!({})),
            403,
        ),
        (
            Method::POST,
            "/api/v1/sources/feed/poll",
            "/api/v1/sources/{id}/poll",
            Some(ADMIN),
            None,
            202,
        ),
        (
            Method::POST,
            "/api/v1/sources/none/poll",
            "/api/v1/sources/{id}/poll",
            Some(ADMIN),
            None,
            404,
        ),
        (
            Method::POST,
            "/api/v1/publish",
            "/api/v1/publish",
            Some(ADMIN),
            Some(json!({"topic": "Town League", "title": "Gates", "body": "Open at six"})),
            202,
        ),
        (
            Method::POST,
            "/api/v1/publish",
            "/api/v1/publish",
            Some(ADMIN),
            Some(json!({"topic": "x"})),
            400,
        ),
        (
            Method::POST,
            "/api/v1/messages",
            "/api/v1/messages",
            Some(ADMIN),
            Some(json!({"body": ""})),
            400,
        ),
        (
            Method::GET,
            "/api/v1/messages",
            "/api/v1/messages",
            Some(READER),
            None,
            200,
        ),
        (
            Method::DELETE,
            "/api/v1/messages?status=queued",
            "/api/v1/messages",
            Some(ADMIN),
            None,
            400,
        ),
        (Method::GET, "/api/v1/sms", "/api/v1/sms", None, None, 200),
        (
            Method::POST,
            "/api/v1/sms/subscribe",
            "/api/v1/sms/subscribe",
            None,
            phone("+14155552671"),
            202,
        ),
        (
            Method::POST,
            "/api/v1/sms/subscribe",
            "/api/v1/sms/subscribe",
            None,
            phone("12"),
            400,
        ),
        (
            Method::POST,
            "/subscribe",
            "/subscribe",
            None,
            Some(json!({"number": "+14155552672"})),
            202,
        ),
        (
            Method::POST,
            "/api/v1/sms/confirm",
            "/api/v1/sms/confirm",
            None,
            Some(json!({"phone": "+14155552671", "code": "000000"})),
            400,
        ),
        (
            Method::POST,
            "/updates",
            "/updates",
            Some(ADMIN),
            Some(json!({"message": "Kick-off soon"})),
            202,
        ),
    ];
    for (method, url, path, token, body, want) in calls {
        api.call(method, url, path, token, body, want).await;
    }
    // The pushed match, read back in every shape once its poll is committed.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let events = "/api/v1/matches/{id}/events";
    while api
        .call(
            Method::GET,
            "/api/v1/matches/feed:m1/events",
            events,
            None,
            None,
            200,
        )
        .await["events"]
        .as_array()
        .is_none_or(Vec::is_empty)
    {
        assert!(std::time::Instant::now() < deadline, "the pushed goal");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let reads: [(&str, &str, u16); 9] = [
        ("/api/v1/competitions", "/api/v1/competitions", 200),
        ("/api/v1/matches", "/api/v1/matches", 200),
        ("/api/v1/matches?status=over", "/api/v1/matches", 400),
        ("/api/v1/matches/feed:m1", "/api/v1/matches/{id}", 200),
        ("/api/v1/matches/feed:none", "/api/v1/matches/{id}", 404),
        ("/api/v1/matches/feed:none/events", events, 404),
        ("/api/v1/teams/northfield", "/api/v1/teams/{id}", 200),
        ("/api/v1/teams/atlantis", "/api/v1/teams/{id}", 404),
        ("/api/v1/messages/msg_none", "/api/v1/messages/{id}", 404),
    ];
    for (url, path, want) in reads {
        api.call(Method::GET, url, path, Some(ADMIN), None, want)
            .await;
    }
    let detail = api
        .call(
            Method::GET,
            "/api/v1/matches/feed:m1",
            "/api/v1/matches/{id}",
            None,
            None,
            200,
        )
        .await;
    assert_eq!(
        (
            &detail["home"]["lineup"]["starting"][0]["number"],
            &detail["venue"]["name"]
        ),
        (&json!(1), &json!("Town Ground")),
        "the line-up and venue were validated too: {detail}"
    );
    // A message scheduled, shown, cancelled (then nothing left to cancel), purged.
    let sent = api
        .call(
            Method::POST,
            "/api/v1/messages",
            "/api/v1/messages",
            Some(ADMIN),
            Some(message),
            202,
        )
        .await;
    let url = format!("/api/v1/messages/{}", sent["id"].as_str().unwrap());
    let one = "/api/v1/messages/{id}";
    api.call(Method::GET, &url, one, Some(READER), None, 200)
        .await;
    api.call(Method::DELETE, &url, one, Some(ADMIN), None, 200)
        .await;
    api.call(Method::DELETE, &url, one, Some(ADMIN), None, 409)
        .await;
    let purge = "/api/v1/messages?status=cancelled";
    api.call(
        Method::DELETE,
        purge,
        "/api/v1/messages",
        Some(ADMIN),
        None,
        200,
    )
    .await;
    // The code texted confirms the signup.
    let texts = crate::sms::wait_to(&fake, "+14155552671", 1).await;
    let code = crate::sms::code_in(&texts[0].body);
    let confirm = json!({"phone": "+14155552671", "code": code});
    let path = "/api/v1/sms/confirm";
    api.call(Method::POST, path, path, None, Some(confirm), 200)
        .await;

    // The stream answers what the document says.
    let response = client().get(herald.url("/stream")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        doc["paths"]["/stream"]["get"]["responses"]["200"]["content"]
            .get(content_type.split(';').next().unwrap())
            .is_some(),
        "{content_type}"
    );
    drop(response);

    // So does the Socket.IO handshake: an Engine.IO open packet.
    let response = client()
        .get(herald.url("/socket.io/?EIO=4&transport=polling"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let open = response.text().await.unwrap();
    assert!(open.starts_with("0{\"sid\""), "{open}");
    let script = client()
        .get(herald.url("/socket.io/socket.io.min.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert!(script.text().await.unwrap().contains("Socket.IO v4"));

    // And /metrics: Prometheus' text format.
    let metrics = client().get(herald.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(
        doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
            .get("text/plain")
            .is_some()
    );
    assert!(metrics.text().await.unwrap().contains("# TYPE "));
    herald.shutdown().await;
}
