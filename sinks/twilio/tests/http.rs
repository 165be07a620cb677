//! The Twilio sink against a local fake of the REST API: the exact request, and how Twilio's
//! answers become outcomes.

use std::time::Duration;

use base64::Engine as _;
use secrecy::SecretString;
use sink_api::{Notification, Recipient, Sink, SinkError};
use sink_twilio::testing::{Answer, FakeTwilio};
use sink_twilio::{Config, SignupConfig, TwilioSink};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "auth-token";

fn config(fake: &FakeTwilio) -> Config {
    Config {
        account_sid: SID.into(),
        auth_token: SecretString::from(TOKEN),
        endpoint: fake.endpoint(),
        messaging_service_sid: Some("MG0123456789abcdef0123456789abcdef".into()),
        from: None,
        status_callback: Some("https://herald.example/twilio/status".into()),
        messages_per_second: 1.0,
        max_segments: 2,
        daily_cap: 10,
        transliterate: true,
        public_url: None,
        signup: SignupConfig::default(),
    }
}

fn note(title: &str, body: &str) -> Notification {
    sink_api::testing::goal(title, body)
}

async fn sink() -> (FakeTwilio, TwilioSink) {
    let _installed = rustls::crypto::ring::default_provider().install_default();
    let fake = FakeTwilio::start(SID, TOKEN).await;
    let sink = TwilioSink::new(config(&fake)).unwrap();
    (fake, sink)
}

#[tokio::test]
async fn sends_the_documented_form_with_basic_auth() {
    let (fake, sink) = sink().await;
    sink.healthcheck().await.unwrap();
    let receipt = sink
        .send(
            &Recipient::new("+14155552671"),
            &note("⚽ GOAL! Germany 1-0 Japan", "İlkay Gündoğan (Germany) 75'"),
        )
        .await
        .unwrap();
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.path, format!("/2010-04-01/Accounts/{SID}/Messages.json"));
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{TOKEN}"));
    assert_eq!(
        r.authorization.as_deref(),
        Some(format!("Basic {basic}").as_str())
    );
    assert_eq!(
        r.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    let fields: Vec<(&str, &str)> = r
        .form
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            ("To", "+14155552671"),
            (
                "Body",
                "GOAL! Germany 1-0 Japan\nIlkay Gündogan (Germany) 75'"
            ),
            ("MessagingServiceSid", "MG0123456789abcdef0123456789abcdef"),
            ("StatusCallback", "https://herald.example/twilio/status"),
        ]
    );
    assert_eq!(receipt.platform_id, Some(fake.sent()[0].sid.clone()));
    assert!(sink_twilio::gsm::is_gsm7(&fake.sent()[0].body));
}

#[tokio::test]
async fn long_texts_are_cut_to_the_segment_cap_and_cost_their_segments() {
    let (fake, sink) = sink().await;
    let long = note(
        "FULL TIME: France 4-2 Croatia",
        &"What a final. ".repeat(60),
    );
    assert_eq!(sink.cost(&long), 2);
    assert_eq!(sink.cost(&note("GOAL!", "")), 1);
    sink.send(&Recipient::new("+14155552671"), &long)
        .await
        .unwrap();
    let body = &fake.sent()[0].body;
    assert_eq!(sink_twilio::gsm::segments(body).count, 2);
    assert!(body.ends_with("..."), "{body}");
    let limits = sink.limits();
    assert_eq!(limits.global[0].per, Duration::from_secs(1));
    assert_eq!(limits.daily_per_recipient.map(|n| n.get()), Some(10));
}

#[tokio::test]
async fn twilio_refusals_become_outcomes() {
    let (fake, sink) = sink().await;
    fake.script([Answer::TooManyRequests(3), Answer::ServerError(503)]);
    let to = Recipient::new("+14155552671");
    match sink.send(&to, &note("a", "")).await {
        Err(SinkError::RateLimited { retry_after }) => {
            assert_eq!(retry_after, Some(Duration::from_secs(3)));
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert!(matches!(
        sink.send(&to, &note("a", "")).await,
        Err(SinkError::Transient(_))
    ));
    assert!(matches!(
        sink.send(&Recipient::new("555-2671"), &note("a", "")).await,
        Err(SinkError::RecipientGone(_))
    ));
    fake.unsubscribe("+14155552671");
    match sink.send(&to, &note("a", "")).await {
        Err(SinkError::RecipientGone(e)) => assert!(e.to_string().contains("21610"), "{e}"),
        other => panic!("expected RecipientGone, got {other:?}"),
    }
    let mut wrong = config(&fake);
    wrong.auth_token = SecretString::from("wrong");
    let wrong = TwilioSink::new(wrong).unwrap();
    assert!(matches!(
        wrong
            .send(&Recipient::new("+12125550123"), &note("a", ""))
            .await,
        Err(SinkError::Permanent(_))
    ));
    assert!(wrong.healthcheck().await.is_err());
}
