//! The WhatsApp sink against a local fake of Twilio: nothing to numbers that have not opted
//! in, free-form text inside the 24-hour window, the template with its variables outside it,
//! the exact request, and how Twilio's answers become outcomes.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use sink_api::{BoxError, Notification, Recipient, Sink, SinkError};
use sink_twilio::testing::{Answer, FakeTwilio};
use sink_twilio::whatsapp::{SessionFuture, WhatsAppError};
use sink_twilio::{Session, Sessions, WhatsAppConfig, WhatsAppSink};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "auth-token";
const SENDER: &str = "+14155238886";
const TEMPLATE: &str = "HX0123456789abcdef0123456789abcdef";
const PHONE: &str = "+14155552671";

/// Sessions kept in memory, counting reads; `fail` makes reads fail.
#[derive(Default)]
struct Memory {
    sessions: Mutex<HashMap<String, Session>>,
    fail: Mutex<bool>,
}

impl Memory {
    fn set(&self, phone: &str, opted_in: bool, wrote_ago: Option<Duration>) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis();
        let last = wrote_ago.map(|ago| i64::try_from(now - ago.as_millis()).unwrap());
        self.sessions.lock().unwrap().insert(
            phone.to_owned(),
            Session {
                opted_in,
                last_inbound_at_ms: last,
            },
        );
    }
}

impl Sessions for Memory {
    fn session<'a>(&'a self, phone: &'a str) -> SessionFuture<'a> {
        Box::pin(async move {
            if *self.fail.lock().unwrap() {
                return Err(BoxError::from("database is down"));
            }
            Ok(self.sessions.lock().unwrap().get(phone).copied())
        })
    }
}

fn config(fake: &FakeTwilio) -> WhatsAppConfig {
    serde_json::from_value(serde_json::json!({
        "account_sid": SID,
        "auth_token": TOKEN,
        "endpoint": fake.endpoint(),
        "from": SENDER,
        "content_sid": TEMPLATE,
        "content_variables": {"1": "title", "2": "body", "3": "home"},
        "status_callback": "https://herald.example/webhooks/twilio/whatsapp/status",
    }))
    .unwrap()
}

fn goal() -> Notification {
    let mut n = sink_api::testing::goal(
        "⚽ GOAL! France 1-0 Croatia",
        "Mbappé (France) 18'\nassisted by Griezmann",
    );
    n.teams = vec!["France".into(), "Croatia".into()];
    n
}

async fn sink() -> (FakeTwilio, WhatsAppSink, Arc<Memory>) {
    let _installed = rustls::crypto::ring::default_provider().install_default();
    let fake = FakeTwilio::start(SID, TOKEN).await;
    let sink = WhatsAppSink::new(config(&fake)).unwrap();
    let memory = Arc::new(Memory::default());
    sink.attach(Arc::clone(&memory) as Arc<dyn Sessions>)
        .unwrap();
    (fake, sink, memory)
}

fn pairs(form: &[(String, String)]) -> Vec<(&str, &str)> {
    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[tokio::test]
async fn a_number_that_has_not_opted_in_gets_nothing_and_twilio_is_not_called() {
    let (fake, sink, memory) = sink().await;
    let to = Recipient::new(PHONE);
    for state in [None, Some(false)] {
        if let Some(opted_in) = state {
            // Wrote a minute ago, but sent STOP (or never subscribed).
            memory.set(PHONE, opted_in, Some(Duration::from_secs(60)));
        }
        // Gone, not permanent: the core pauses what the number follows instead of making a
        // dead letter of every event.
        match sink.send(&to, &goal()).await {
            Err(SinkError::RecipientGone(e)) => {
                assert_eq!(e.to_string(), "+1415•••2671 has not opted in");
            }
            other => panic!("expected the recipient gone, got {other:?}"),
        }
    }
    assert!(fake.requests().is_empty(), "Twilio was not called");
    *memory.fail.lock().unwrap() = true;
    assert!(
        matches!(sink.send(&to, &goal()).await, Err(SinkError::Transient(_))),
        "an unreadable record is retried"
    );
    let detached = WhatsAppSink::new(config(&fake)).unwrap();
    match detached.send(&to, &goal()).await {
        Err(SinkError::Permanent(e)) => {
            assert!(e.downcast_ref::<WhatsAppError>().is_some(), "{e}");
        }
        other => panic!("expected a permanent refusal, got {other:?}"),
    }
    assert!(fake.requests().is_empty());
    assert!(matches!(
        sink.attach(Arc::new(Memory::default())),
        Err(WhatsAppError::AlreadyAttached)
    ));
}

#[tokio::test]
async fn inside_the_window_the_text_is_free_form() {
    let (fake, sink, memory) = sink().await;
    memory.set(PHONE, true, Some(Duration::from_secs(23 * 3600)));
    sink.healthcheck().await.unwrap();
    let receipt = sink.send(&Recipient::new(PHONE), &goal()).await.unwrap();
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
        pairs(&r.form),
        [
            ("To", "whatsapp:+14155552671"),
            ("From", "whatsapp:+14155238886"),
            (
                "Body",
                "⚽ GOAL! France 1-0 Croatia\nMbappé (France) 18'\nassisted by Griezmann"
            ),
            (
                "StatusCallback",
                "https://herald.example/webhooks/twilio/whatsapp/status"
            ),
        ]
    );
    let sent = fake.whatsapp_to(PHONE);
    assert_eq!(sent.len(), 1);
    assert!(!sent[0].is_template());
    assert_eq!(receipt.platform_id.as_deref(), Some(sent[0].sid.as_str()));
    assert!(fake.sent().is_empty(), "not an SMS");
}

#[tokio::test]
async fn outside_the_window_the_template_carries_the_variables() {
    let (fake, sink, memory) = sink().await;
    let to = Recipient::new(PHONE);
    // Last wrote 25 hours ago; then an opt-in without any message (never wrote).
    for wrote in [Some(Duration::from_secs(25 * 3600)), None] {
        memory.set(PHONE, true, wrote);
        sink.send(&to, &goal()).await.unwrap();
    }
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        let form = pairs(&r.form);
        assert_eq!(
            form[..3],
            [
                ("To", "whatsapp:+14155552671"),
                ("From", "whatsapp:+14155238886"),
                ("ContentSid", TEMPLATE),
            ]
        );
        assert!(r.field("Body").is_none(), "no free-form body: {form:?}");
        let variables: BTreeMap<String, String> =
            serde_json::from_str(r.field("ContentVariables").unwrap()).unwrap();
        assert_eq!(
            variables,
            BTreeMap::from([
                ("1".to_owned(), "⚽ GOAL! France 1-0 Croatia".to_owned()),
                (
                    "2".to_owned(),
                    "Mbappé (France) 18' - assisted by Griezmann".to_owned()
                ),
                ("3".to_owned(), "France".to_owned()),
            ])
        );
    }
    let sent = fake.whatsapp_to(PHONE);
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|s| s.is_template() && s.body.is_none()));
}

#[tokio::test]
async fn twilio_refusals_become_outcomes() {
    let (fake, sink, memory) = sink().await;
    let to = Recipient::new(PHONE);
    memory.set(PHONE, true, Some(Duration::from_secs(60)));
    fake.script([Answer::TooManyRequests(2), Answer::ServerError(503)]);
    match sink.send(&to, &goal()).await {
        Err(SinkError::RateLimited { retry_after }) => {
            assert_eq!(retry_after, Some(Duration::from_secs(2)));
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert!(matches!(
        sink.send(&to, &goal()).await,
        Err(SinkError::Transient(_))
    ));
    // A stored number that is not one: Twilio says 21211.
    memory.set("+1415", true, Some(Duration::from_secs(60)));
    assert!(matches!(
        sink.send(&Recipient::new("+1415"), &goal()).await,
        Err(SinkError::RecipientGone(_))
    ));
    let mut wrong = config(&fake);
    wrong.auth_token = secrecy::SecretString::from("wrong");
    let wrong = WhatsAppSink::new(wrong).unwrap();
    wrong
        .attach(Arc::clone(&memory) as Arc<dyn Sessions>)
        .unwrap();
    assert!(matches!(
        wrong.send(&to, &goal()).await,
        Err(SinkError::Permanent(_))
    ));
    assert!(wrong.healthcheck().await.is_err());
    let mut bad_template = config(&fake);
    bad_template.content_sid = "HX-not-a-template".into();
    let bad_template = WhatsAppSink::new(bad_template).unwrap();
    bad_template
        .attach(Arc::clone(&memory) as Arc<dyn Sessions>)
        .unwrap();
    memory.set(PHONE, true, None);
    match bad_template.send(&to, &goal()).await {
        Err(SinkError::Permanent(e)) => assert!(e.to_string().contains("21655"), "{e}"),
        other => panic!("expected Permanent, got {other:?}"),
    }
    assert!(fake.whatsapp().is_empty());
}

#[tokio::test]
async fn limits_follow_the_sender_throughput_and_the_pair_rate() {
    let (_fake, sink, _memory) = sink().await;
    let limits = sink.limits();
    assert_eq!(limits.global[0].per, Duration::from_millis(100));
    assert_eq!(limits.global[0].count.get(), 1);
    assert_eq!(limits.per_recipient[0].count.get(), 10);
    assert_eq!(limits.per_recipient[0].per, Duration::from_secs(60));
    assert_eq!(limits.daily_per_recipient, None);
    assert_eq!(sink.cost(&goal()), 1);
}

#[tokio::test]
async fn the_fakes_inbound_messages_verify_with_the_sinks_token() {
    use axum::http::{HeaderMap, Uri};
    use axum::routing::post;
    use tokio::sync::mpsc;

    let (fake, sink, _memory) = sink().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let checker = sink.clone();
    let app = axum::Router::new().route(
        sink_twilio::webhook::WHATSAPP_PATH,
        post(
            move |uri: Uri, headers: HeaderMap, body: axum::body::Bytes| {
                let (tx, sink) = (tx.clone(), checker.clone());
                async move {
                    let verified = sink_twilio::webhook::verified(&sink, &uri, &headers, &body);
                    let ok = verified.is_some();
                    tx.send(verified).unwrap();
                    if ok { "ok" } else { "forged" }
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}{}",
        listener.local_addr().unwrap(),
        sink_twilio::webhook::WHATSAPP_PATH
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let reply = fake
        .whatsapp_inbound(&url, PHONE, SENDER, "subscribe France")
        .await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "ok"));
    let params = rx.recv().await.unwrap().unwrap();
    let param = |name| sink_twilio::webhook::param(&params, name).to_owned();
    assert_eq!(param("From"), "whatsapp:+14155552671");
    assert_eq!(param("To"), "whatsapp:+14155238886");
    assert_eq!(param("WaId"), "14155552671");
    assert_eq!(param("Body"), "subscribe France");
    let forged = fake
        .forged_whatsapp_inbound(&url, PHONE, SENDER, "STOP", Some("not-the-token"))
        .await;
    assert_eq!(forged.body, "forged");
    assert!(rx.recv().await.unwrap().is_none());
}
