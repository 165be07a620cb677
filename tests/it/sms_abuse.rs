//! SMS signup under attack: forged forwarding headers, huge or overlong input, parallel code
//! guessing, restarts and extra instances that used to reset the limits, and numbers that
//! cost extra to text.

use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use serde_json::{Value, json};
use sink_twilio::testing::FakeTwilio;

use crate::db::TestDb;
use crate::harness::{Herald, client, merge};
use crate::sms::{ADMIN, PHONE, SID, TOKEN, code_in, signup, twilio, wait_to};

async fn start(db: &TestDb, fake: &FakeTwilio, http: Value, signup: Value) -> Herald {
    let mut http_table = json!({ "admin_token": ADMIN });
    merge(&mut http_table, http);
    Herald::start(
        json!({
            "store": { "url": db.url },
            "http": http_table,
            "sources": {},
            "sinks": { "sms": twilio(fake, json!({ "signup": signup })) },
        }),
        vec![],
    )
    .await
}

/// A signup of `phone` claiming to come from `forwarded`.
async fn signup_from(herald: &Herald, phone: &str, forwarded: &str) -> u16 {
    client()
        .post(herald.url("/api/v1/sms/subscribe"))
        .header("x-forwarded-for", forwarded)
        .json(&json!({ "phone": phone }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Distinct numbers in distinct prefixes, so that only the per-address limit can refuse them.
fn numbers() -> impl Iterator<Item = String> {
    (0..).map(|i| format!("+1415{:03}{:04}", 200 + i, 2671))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarding_header_is_believed_only_from_trusted_proxies() {
    let db = TestDb::sqlite();
    let fake = FakeTwilio::start(SID, TOKEN).await;
    // The test client (127.0.0.1) is not a trusted proxy: rotating the header changes nothing.
    let herald = start(
        &db,
        &fake,
        json!({"trusted_proxies": ["10.0.0.0/8"]}),
        json!({"client_ip_header": "X-Forwarded-For", "per_ip_per_hour": 5}),
    )
    .await;
    let mut numbers = numbers();
    let mut admitted = 0;
    for i in 0..12 {
        let status =
            signup_from(&herald, &numbers.next().unwrap(), &format!("203.0.113.{i}")).await;
        admitted += usize::from(status == 202);
    }
    assert_eq!(
        admitted, 5,
        "rotating X-Forwarded-For bypassed the per-address limit"
    );
    herald.shutdown().await;

    // Behind a trusted proxy (127.0.0.1), only the right-most address it did not add counts:
    // what the client wrote before it is ignored.
    let db = TestDb::sqlite();
    let herald = start(
        &db,
        &fake,
        json!({"trusted_proxies": ["127.0.0.1"]}),
        json!({"client_ip_header": "X-Forwarded-For", "per_ip_per_hour": 5}),
    )
    .await;
    let mut admitted = 0;
    for i in 0..12 {
        let forwarded = format!("6.6.6.{i}, 198.51.100.7");
        admitted +=
            usize::from(signup_from(&herald, &numbers.next().unwrap(), &forwarded).await == 202);
    }
    assert_eq!(admitted, 5);
    // Another real client behind the same proxy has its own budget.
    assert_eq!(
        signup_from(&herald, &numbers.next().unwrap(), "198.51.100.8").await,
        202
    );
    herald.shutdown().await;
}

#[test]
fn a_forwarding_header_without_trusted_proxies_is_a_config_error() {
    let tree = json!({
        "sinks": { "sms": {
            "type": "twilio",
            "account_sid": SID,
            "auth_token": TOKEN,
            "from": "+14155550100",
            "signup": { "client_ip_header": "X-Forwarded-For" },
        } },
    });
    let err = herald::config::Config::from_value(tree)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("sinks.sms.signup.client_ip_header: needs http.trusted_proxies"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_and_overlong_input_is_refused_cheaply_and_never_echoed() {
    let db = TestDb::sqlite();
    let fake = FakeTwilio::start(SID, TOKEN).await;
    let herald = start(&db, &fake, json!({}), json!({})).await;
    // A 1.9 MB body announced by its Content-Length: the answer comes from the header alone,
    // before any of the body is read (a client that sends it all only gets a broken pipe).
    let huge = json!({ "phone": PHONE, "teams": ["x".repeat(1_900_000)] }).to_string();
    let started = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(herald.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/sms/subscribe HTTP/1.1\r\nhost: herald\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n",
        huge.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&huge.as_bytes()[..1024]).await.unwrap();
    let mut answer = Vec::new();
    let _read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let text = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    assert!(text.len() < 200 && text.starts_with('{'), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // Under the body cap but longer than any team name: a 400 naming the field, short.
    let (status, body) = signup(
        &herald,
        json!({ "phone": PHONE, "teams": ["y".repeat(60_000)] }),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["field"], "teams");
    assert!(body.to_string().len() < 500, "{body}");
    assert!(fake.requests().is_empty());
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_wrong_codes_compare_no_more_than_the_attempts_allowed() {
    for db in TestDb::all().await {
        let fake = FakeTwilio::start(SID, TOKEN).await;
        let herald = start(&db, &fake, json!({}), json!({"max_code_attempts": 5})).await;
        assert_eq!(signup(&herald, json!({"phone": PHONE})).await.0, 202);
        let code = code_in(&wait_to(&fake, PHONE, 1).await[0].body);
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let url = herald.url("/api/v1/sms/confirm");
        let guesses = (0..100).map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                let r = client()
                    .post(url)
                    .json(&json!({"phone": PHONE, "code": wrong}))
                    .send()
                    .await
                    .unwrap();
                let body: Value = r.json().await.unwrap();
                body["error"].as_str().unwrap_or_default().to_owned()
            })
        });
        let mut compared = 0;
        for guess in guesses {
            if guess.await.unwrap() == "the code is not right" {
                compared += 1;
            }
        }
        assert_eq!(
            compared, 5,
            "{}: {compared} codes were compared",
            db.backend
        );
        // The right code is no use now either.
        let (status, _) = {
            let r = client()
                .post(&url)
                .json(&json!({"phone": PHONE, "code": code}))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), ())
        };
        assert_eq!(status, 400);
        assert!(
            herald
                .store
                .subscriptions_of("sms", PHONE)
                .await
                .unwrap()
                .is_empty()
        );
        herald.shutdown().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signup_limits_hold_across_restarts_and_instances() {
    for db in TestDb::all().await {
        let fake = FakeTwilio::start(SID, TOKEN).await;
        let limits = json!({"per_ip_per_hour": 3});
        let first = start(&db, &fake, json!({}), limits.clone()).await;
        let mut numbers = numbers();
        for _ in 0..2 {
            assert_eq!(
                signup(&first, json!({"phone": numbers.next().unwrap()}))
                    .await
                    .0,
                202
            );
        }
        // A second instance on the same database shares the budget (on SQLite: a restart).
        let second = if db.backend == "sqlite" {
            first.shutdown().await;
            None
        } else {
            Some(first)
        };
        let other = start(&db, &fake, json!({}), limits).await;
        assert_eq!(
            signup(&other, json!({"phone": numbers.next().unwrap()}))
                .await
                .0,
            202
        );
        let (status, body) = signup(&other, json!({"phone": numbers.next().unwrap()})).await;
        assert_eq!(status, 429, "{}: {body}", db.backend);
        if let Some(first) = second {
            let (status, _) = signup(&first, json!({"phone": numbers.next().unwrap()})).await;
            assert_eq!(status, 429);
            first.shutdown().await;
        }
        other.shutdown().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_that_cost_extra_are_refused_unless_allowed() {
    let db = TestDb::sqlite();
    let fake = FakeTwilio::start(SID, TOKEN).await;
    let herald = start(&db, &fake, json!({}), json!({"per_ip_per_hour": 100})).await;
    // Premium rate (US, FR), international premium rate, satellite: the full list is in
    // sink-twilio's phone tests; here, that the signup refuses what they mark.
    for number in [
        "+19002345678",
        "+33899123456",
        "+979123456789",
        "+881612345678",
    ] {
        let (status, body) = signup(&herald, json!({"phone": number})).await;
        assert_eq!(
            (status, body["field"].as_str()),
            (400, Some("phone")),
            "{number}: {body}"
        );
    }
    let (_, body) = signup(&herald, json!({"phone": "+19002345678"})).await;
    assert_eq!(body["error"], "a premium-rate number cannot subscribe");
    assert!(fake.requests().is_empty(), "nothing was texted");
    herald.shutdown().await;

    let db = TestDb::sqlite();
    let herald = start(&db, &fake, json!({}), json!({"allow_costly_numbers": true})).await;
    assert_eq!(
        signup(&herald, json!({"phone": "+19002345678"})).await.0,
        202
    );
    herald.shutdown().await;
}
