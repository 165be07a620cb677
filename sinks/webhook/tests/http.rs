//! The webhook sink against a local receiver that checks Standard Webhooks signatures on its
//! own: the exact request, and how every kind of answer becomes an outcome.

use std::time::{Duration, Instant, SystemTime};

use secrecy::SecretString;
use serde_json::json;
use sink_api::{Notification, Rate, Recipient, Sink, SinkError};
use sink_webhook::sign::{self, Secret};
use sink_webhook::testing::{Answer, Receiver};
use sink_webhook::{Config, WebhookSink};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn config(urls: Vec<String>, timeout: Duration) -> Config {
    Config {
        secret: SecretString::from(SECRET),
        urls,
        timeout,
        per_url_per_second: 10,
    }
}

async fn setup() -> (Receiver, WebhookSink, Recipient) {
    let _installed = rustls::crypto::ring::default_provider().install_default();
    let receiver = Receiver::start(SECRET).await;
    let url = receiver.url("/hooks/herald?tenant=7");
    let sink = WebhookSink::new(
        "hook",
        config(vec![url.clone()], Duration::from_millis(800)),
    )
    .unwrap();
    (receiver, sink, Recipient::new(url))
}

fn goal() -> Notification {
    let mut n = sink_api::testing::goal("⚽ GOAL! France 1-0 Croatia", "Mandžukić (og) 18'");
    n.event_id = "fifa:300331499:goal:1".into();
    n.match_id = Some("300331499".into());
    n.teams = vec!["France".into(), "Croatia".into()];
    n.data = json!({"score": {"home": 1, "away": 0}, "minute": 18});
    n.created_at_ms = 1_531_667_880_000;
    n
}

#[tokio::test]
async fn posts_signed_json_that_verifies_independently() {
    let (receiver, sink, to) = setup().await;
    let before = sign::unix_seconds(SystemTime::now());
    let receipt = sink.send(&to, &goal()).await.unwrap();

    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let r = &received[0];
    assert_eq!(r.verified, Ok(()), "{r:?}");
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/hooks/herald?tenant=7");
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    assert!(
        r.user_agent
            .as_deref()
            .is_some_and(|ua| ua.starts_with("herald/")),
        "{:?}",
        r.user_agent
    );
    let id = r.id.clone().unwrap();
    assert_eq!(receipt.platform_id.as_deref(), Some(id.as_str()));
    assert_eq!(id, sink.message_id(&goal()));
    let ts: i64 = r.timestamp.as_deref().unwrap().parse().unwrap();
    assert!((before..=before + 5).contains(&ts), "{ts} vs {before}");
    assert!(r.signature.as_deref().unwrap().starts_with("v1,"));
    assert_eq!(
        r.json,
        json!({
            "type": "goal",
            "id": id,
            "timestamp": "2018-07-15T15:18:00Z",
            "data": {
                "event_id": "fifa:300331499:goal:1",
                "match_id": "300331499",
                "topic": null,
                "teams": ["France", "Croatia"],
                "locale": "en",
                "title": "⚽ GOAL! France 1-0 Croatia",
                "body": "Mandžukić (og) 18'",
                "event": {"score": {"home": 1, "away": 0}, "minute": 18},
                "replaces": null,
            },
        })
    );

    // The crate's own verify agrees, and refuses a body changed by one byte.
    let secret = Secret::parse(SECRET).unwrap();
    let (ts, sig) = (
        r.timestamp.as_deref().unwrap(),
        r.signature.as_deref().unwrap(),
    );
    let now = SystemTime::now();
    assert_eq!(
        sign::verify(&secret, &id, ts, sig, r.body.as_bytes(), now),
        Ok(())
    );
    let changed = r.body.replacen("1-0", "2-0", 1);
    assert!(sign::verify(&secret, &id, ts, sig, changed.as_bytes(), now).is_err());
}

#[tokio::test]
async fn a_retry_keeps_the_id_and_another_event_gets_another() {
    let (receiver, sink, to) = setup().await;
    receiver.script([Answer::Status(503)]);
    assert!(matches!(
        sink.send(&to, &goal()).await,
        Err(SinkError::Transient(_))
    ));
    sink.send(&to, &goal()).await.unwrap();
    let mut other = goal();
    other.event_id = "fifa:300331499:goal:2".into();
    sink.send(&to, &other).await.unwrap();
    let ids: Vec<String> = receiver
        .received()
        .into_iter()
        .map(|r| {
            assert_eq!(r.verified, Ok(()));
            r.id.unwrap()
        })
        .collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[0], ids[1], "a retry is the same message");
    assert_ne!(ids[1], ids[2]);
}

#[tokio::test]
async fn answers_become_outcomes() {
    let (receiver, sink, to) = setup().await;
    receiver.script([
        Answer::Status(200),
        Answer::Status(410),
        Answer::RetryAfter(429, "7".into()),
        Answer::Status(429),
        Answer::Status(503),
        Answer::Status(408),
        Answer::Status(400),
        Answer::Status(401),
        Answer::Status(301),
    ]);
    let mut outcomes = Vec::new();
    for _ in 0..9 {
        outcomes.push(match sink.send(&to, &goal()).await {
            Ok(_) => "delivered".to_owned(),
            Err(SinkError::RecipientGone(e)) => {
                assert!(e.to_string().contains("410"), "{e}");
                "gone".to_owned()
            }
            Err(SinkError::RateLimited { retry_after }) => format!("wait {retry_after:?}"),
            Err(SinkError::Transient(_)) => "retry".to_owned(),
            Err(SinkError::Permanent(e)) => {
                assert!(e.to_string().starts_with("HTTP "), "{e}");
                "dead".to_owned()
            }
        });
    }
    assert_eq!(
        outcomes,
        [
            "delivered".to_owned(),
            "gone".to_owned(),
            format!("wait {:?}", Some(Duration::from_secs(7))),
            "wait None".to_owned(),
            "retry".to_owned(),
            "retry".to_owned(),
            "dead".to_owned(),
            "dead".to_owned(),
            "dead".to_owned(),
        ]
    );
    // Every attempt was signed, and the redirect was not followed.
    let received = receiver.received();
    assert_eq!(received.len(), 9);
    assert!(received.iter().all(|r| r.verified.is_ok()));
}

#[tokio::test]
async fn a_hung_receiver_is_a_transient_timeout() {
    let (receiver, sink, to) = setup().await;
    receiver.script([Answer::Hang]);
    let started = Instant::now();
    let result = sink.send(&to, &goal()).await;
    let took = started.elapsed();
    match result {
        Err(SinkError::Transient(e)) => {
            let chain = sink_api::error_chain(&*e);
            assert!(chain.contains("timed out"), "{chain}");
            assert!(
                !chain.contains("tenant=7"),
                "the URL stays out of errors: {chain}"
            );
        }
        other => panic!("expected a transient failure, got {other:?}"),
    }
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn unreachable_and_malformed_recipients() {
    let (receiver, sink, _) = setup().await;
    // Nothing listens there: a connection error, retried later.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let result = sink
        .send(&Recipient::new(format!("http://{closed}/hook")), &goal())
        .await;
    assert!(matches!(result, Err(SinkError::Transient(_))), "{result:?}");
    // Not a URL (a subscriber added with a typo, or a broadcast): never retried.
    for bad in ["*", "crm.example/hook", "ftp://crm.example/hook"] {
        let result = sink.send(&Recipient::new(bad), &goal()).await;
        assert!(
            matches!(result, Err(SinkError::Permanent(_))),
            "{bad}: {result:?}"
        );
    }
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn recipients_and_limits_come_from_the_config() {
    let _installed = rustls::crypto::ring::default_provider().install_default();
    let mut c = config(
        vec!["https://a.example/h".into(), "https://b.example/h".into()],
        Duration::from_secs(15),
    );
    c.per_url_per_second = 3;
    let sink = WebhookSink::new("hook", c).unwrap();
    assert_eq!(
        sink.recipients(),
        [
            Recipient::new("https://a.example/h"),
            Recipient::new("https://b.example/h")
        ]
    );
    let limits = sink.limits();
    assert_eq!(limits.per_recipient, [Rate::per_second(3)]);
    assert!(limits.global.is_empty());
    assert_eq!(limits.daily_per_recipient, None);
}
