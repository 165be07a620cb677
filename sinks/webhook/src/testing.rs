//! A local webhook receiver for tests: takes POSTs on any path, checks the Standard Webhooks
//! signature with its own implementation of the spec (it never calls this crate's signing
//! code, so a wrong signer fails the tests), answers 401 to bad signatures, and otherwise
//! answers what the test scripted: 2xx, any status (with `Retry-After`), or never.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use sink_api::testing::Fake;

/// A scripted answer to the next request with a valid signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `204 No Content`: delivered.
    Ok,
    /// This status, with an empty body.
    Status(u16),
    /// This status, with this `Retry-After` value.
    RetryAfter(u16, String),
    /// Never answer: the sender's timeout has to end it.
    Hang,
}

/// One request the receiver saw.
#[derive(Debug, Clone)]
pub struct Received {
    /// The HTTP method.
    pub method: String,
    /// The path and query.
    pub path: String,
    /// `webhook-id`.
    pub id: Option<String>,
    /// `webhook-timestamp`.
    pub timestamp: Option<String>,
    /// `webhook-signature`.
    pub signature: Option<String>,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `User-Agent`.
    pub user_agent: Option<String>,
    /// The body exactly as received.
    pub body: String,
    /// The body parsed as JSON (`Null` when it is not JSON).
    pub json: Value,
    /// `Ok` when the signature checked out, the reason otherwise.
    pub verified: Result<(), String>,
    /// The status answered; `None` while hanging.
    pub status: Option<u16>,
    /// When it arrived.
    pub at: Instant,
}

/// What the receiver keeps: the secret it checks against and what it saw.
#[derive(Debug)]
struct Seen {
    secret: String,
    received: Vec<Received>,
}

/// A running receiver.
#[derive(Debug, Clone)]
pub struct Receiver {
    fake: Fake<Seen, Answer>,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Receiver {
    /// Starts a receiver that expects signatures made with `secret` (`whsec_…`).
    ///
    /// # Panics
    /// When no local port can be bound.
    pub async fn start(secret: &str) -> Self {
        let seen = Seen {
            secret: secret.to_owned(),
            received: Vec::new(),
        };
        let fake = Fake::start(seen, Router::new().fallback(receive)).await;
        let addr = fake.addr();
        Self { fake, addr }
    }

    /// The URL of `path` (`/hook`) on this receiver.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.fake.endpoint())
    }

    /// Queues answers for the next validly signed requests; afterwards they get 204.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.fake.script(answers);
    }

    /// Every request so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.fake.read(|seen| seen.received.clone())
    }

    /// The requests answered with a 2xx.
    pub fn delivered(&self) -> Vec<Received> {
        self.fake.read(delivered)
    }

    /// Waits until `n` requests were answered with a 2xx, or `timeout` passes.
    pub async fn wait_delivered(&self, n: usize, timeout: Duration) -> Vec<Received> {
        self.fake.wait(n, timeout, delivered).await
    }
}

fn delivered(seen: &Seen) -> Vec<Received> {
    seen.received
        .iter()
        .filter(|r| r.status.is_some_and(|s| (200..300).contains(&s)))
        .cloned()
        .collect()
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The spec's check, written out on its own: the key is the base64 after `whsec_`; the
/// signed content is `{id}.{timestamp}.{body}`; the header holds space-separated
/// `v1,<base64 HMAC-SHA256>` entries, one of which must match; the timestamp must be within
/// five minutes; and the id must not hold a `.`.
fn check(secret: &str, r: &Received) -> Result<(), String> {
    let (Some(id), Some(ts), Some(signatures)) = (&r.id, &r.timestamp, &r.signature) else {
        return Err("a webhook-* header is missing".into());
    };
    if id.is_empty() || id.contains('.') {
        return Err(format!("bad webhook-id {id:?}"));
    }
    let sent: u64 = ts
        .parse()
        .map_err(|_| format!("webhook-timestamp {ts:?} is not unix seconds"))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if sent.abs_diff(now) > 300 {
        return Err(format!(
            "webhook-timestamp {sent} is {now} ± more than 5 min"
        ));
    }
    let encoded = secret
        .strip_prefix("whsec_")
        .ok_or("the receiver's secret lacks whsec_")?;
    let key = STANDARD.decode(encoded).map_err(|e| e.to_string())?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(format!("{id}.{ts}.{}", r.body).as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    if signatures.split(' ').any(|s| s == expected) {
        Ok(())
    } else {
        Err(format!("no signature in {signatures:?} is {expected}"))
    }
}

async fn receive(
    State(fake): State<Fake<Seen, Answer>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let mut received = Received {
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map_or_else(|| uri.path().to_owned(), ToString::to_string),
        id: header(&headers, "webhook-id"),
        timestamp: header(&headers, "webhook-timestamp"),
        signature: header(&headers, "webhook-signature"),
        content_type: header(&headers, "content-type"),
        user_agent: header(&headers, "user-agent"),
        json: serde_json::from_str(&body).unwrap_or(Value::Null),
        body,
        verified: Ok(()),
        status: None,
        at: Instant::now(),
    };
    received.verified = fake.read(|seen| check(&seen.secret, &received));
    let answer = if received.verified.is_ok() {
        fake.next_answer().unwrap_or(Answer::Ok)
    } else {
        Answer::Status(401)
    };
    received.status = match &answer {
        Answer::Ok => Some(204),
        Answer::Status(s) | Answer::RetryAfter(s, _) => Some(*s),
        Answer::Hang => None,
    };
    fake.with(|seen| seen.received.push(received));
    let status = |s: u16| StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match answer {
        Answer::Ok => StatusCode::NO_CONTENT.into_response(),
        Answer::Status(s) => (status(s), "scripted").into_response(),
        Answer::RetryAfter(s, after) => {
            (status(s), [("retry-after", after)], "scripted").into_response()
        }
        Answer::Hang => std::future::pending().await,
    }
}
