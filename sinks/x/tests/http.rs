//! The X sink against a local fake of the API v2: the exact request, OAuth 1.0a, and how
//! refusals become outcomes.

use std::time::Duration;

use secrecy::SecretString;
use sink_api::{Notification, Recipient, Replaces, Sink, SinkError};
use sink_x::testing::{Answer, Credentials, FakeX};
use sink_x::{Config, XSink};

fn credentials() -> Credentials {
    Credentials {
        api_key: "xvz1evFS4wEEPTGEFPHBog".into(),
        api_secret: "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw".into(),
        access_token: "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb".into(),
        access_token_secret: "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE".into(),
    }
}

async fn sink() -> (FakeX, XSink) {
    let _installed = rustls::crypto::ring::default_provider().install_default();
    let c = credentials();
    let fake = FakeX::start(c.clone()).await;
    let sink = XSink::new(Config {
        api_key: SecretString::from(c.api_key),
        api_secret: SecretString::from(c.api_secret),
        access_token: SecretString::from(c.access_token),
        access_token_secret: SecretString::from(c.access_token_secret),
        endpoint: fake.endpoint(),
        posts_per_15_minutes: 100,
        posts_per_day: 0,
    })
    .unwrap();
    (fake, sink)
}

fn note(title: &str, body: &str) -> Notification {
    sink_api::testing::goal(title, body)
}

#[tokio::test]
async fn posts_json_signed_with_oauth1() {
    let (fake, sink) = sink().await;
    sink.healthcheck().await.unwrap();
    let receipt = sink
        .send(
            &Recipient::broadcast(),
            &note("⚽ GOAL! France 1-0 Croatia", "Mbappé (France) 12'"),
        )
        .await
        .unwrap();
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert!(r.signature_valid, "{}", r.authorization);
    assert!(r.authorization.starts_with("OAuth "));
    for key in [
        "oauth_consumer_key",
        "oauth_nonce",
        "oauth_signature",
        "oauth_signature_method",
        "oauth_timestamp",
        "oauth_token",
    ] {
        assert!(
            r.oauth.contains_key(key),
            "{key} missing: {}",
            r.authorization
        );
    }
    assert_eq!(r.oauth["oauth_signature_method"], "HMAC-SHA1");
    assert_eq!(r.oauth["oauth_consumer_key"], credentials().api_key);
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        r.body,
        serde_json::json!({"text": "⚽ GOAL! France 1-0 Croatia\nMbappé (France) 12'"})
    );
    let posts = fake.posts();
    assert_eq!(receipt.platform_id.as_deref(), Some(posts[0].id.as_str()));
    assert_eq!(sink.recipients(), vec![Recipient::broadcast()]);
}

#[tokio::test]
async fn long_text_is_fitted_to_280_weighted_characters() {
    let (fake, sink) = sink().await;
    let body = "日本代表 ".repeat(80);
    sink.send(&Recipient::broadcast(), &note("⚽ GOAL! Japan 1-0", &body))
        .await
        .unwrap();
    let post = &fake.posts()[0];
    let weight = sink_x::text::weighted_length(&post.text);
    assert!(weight <= 280 && weight > 260, "weight {weight}");
    assert!(post.text.starts_with("⚽ GOAL! Japan 1-0\n"));
    assert!(post.text.ends_with('…'));
}

#[tokio::test]
async fn duplicate_content_is_permanent() {
    let (fake, sink) = sink().await;
    let n = note("🏁 Full time: France 4-2 Croatia", "");
    sink.send(&Recipient::broadcast(), &n).await.unwrap();
    let again = sink.send(&Recipient::broadcast(), &n).await;
    match again {
        Err(SinkError::Permanent(e)) => assert!(e.to_string().contains("duplicate content"), "{e}"),
        other => panic!("expected a permanent failure, got {other:?}"),
    }
    assert_eq!(fake.posts().len(), 1);
}

#[tokio::test]
async fn a_429_waits_until_the_reset_and_5xx_is_transient() {
    let (fake, sink) = sink().await;
    fake.script([Answer::TooManyRequests(120), Answer::ServerError(503)]);
    match sink.send(&Recipient::broadcast(), &note("a", "")).await {
        Err(SinkError::RateLimited {
            retry_after: Some(wait),
        }) => assert!(
            wait >= Duration::from_secs(118) && wait <= Duration::from_secs(121),
            "{wait:?}"
        ),
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert!(matches!(
        sink.send(&Recipient::broadcast(), &note("b", "")).await,
        Err(SinkError::Transient(_))
    ));
    sink.send(&Recipient::broadcast(), &note("c", ""))
        .await
        .unwrap();
    assert_eq!(fake.posts().len(), 1);
}

#[tokio::test]
async fn a_correction_replies_to_the_corrected_post() {
    let (fake, sink) = sink().await;
    let goal = sink
        .send(&Recipient::broadcast(), &note("⚽ GOAL! France 2-0", ""))
        .await
        .unwrap();
    let mut correction = note("🚫 Goal disallowed: France 1-0", "VAR");
    correction.replaces = Some(Replaces {
        event_id: "e1".into(),
        receipt: goal.platform_id.clone(),
        original_title: Some("⚽ GOAL! France 2-0".into()),
    });
    sink.send(&Recipient::broadcast(), &correction)
        .await
        .unwrap();
    let posts = fake.posts();
    assert_eq!(posts[1].in_reply_to, goal.platform_id);
}

#[tokio::test]
async fn wrong_credentials_are_permanent() {
    let _installed = rustls::crypto::ring::default_provider().install_default();
    let fake = FakeX::start(credentials()).await;
    let sink = XSink::new(Config {
        api_key: SecretString::from(credentials().api_key),
        api_secret: SecretString::from("wrong"),
        access_token: SecretString::from(credentials().access_token),
        access_token_secret: SecretString::from(credentials().access_token_secret),
        endpoint: fake.endpoint(),
        posts_per_15_minutes: 100,
        posts_per_day: 0,
    })
    .unwrap();
    assert!(matches!(
        sink.send(&Recipient::broadcast(), &note("a", "")).await,
        Err(SinkError::Permanent(_))
    ));
    assert!(!fake.requests()[0].signature_valid);
    assert!(sink.healthcheck().await.is_err());
}
