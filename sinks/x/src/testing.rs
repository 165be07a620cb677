//! A local fake of the X API v2 for tests: `POST /2/tweets` with its real JSON shapes, an
//! OAuth 1.0a check that recomputes the HMAC-SHA1 signature independently, X's own refusal
//! of duplicate text, and scripted 429s (with `x-rate-limit-reset`) and 5xx.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use sha1::Sha1;
use sink_api::testing::Fake;

/// A scripted answer to the next post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Accept it (201), unless its text is a duplicate.
    Ok,
    /// `429` with `x-rate-limit-reset` this many seconds ahead.
    TooManyRequests(u64),
    /// A 5xx.
    ServerError(u16),
}

/// A post X accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    /// Its id.
    pub id: String,
    /// Its text.
    pub text: String,
    /// The post it replies to.
    pub in_reply_to: Option<String>,
    /// When the fake received it.
    pub at: Instant,
}

/// What the fake saw of one request to `POST /2/tweets`, accepted or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The `Authorization` header.
    pub authorization: String,
    /// The `oauth_*` parameters parsed from it.
    pub oauth: BTreeMap<String, String>,
    /// Whether the signature matched the credentials.
    pub signature_valid: bool,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The JSON body.
    pub body: Value,
}

/// The credentials the fake accepts.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// API key (consumer key).
    pub api_key: String,
    /// API key secret.
    pub api_secret: String,
    /// Access token.
    pub access_token: String,
    /// Access token secret.
    pub access_token_secret: String,
}

struct Data {
    credentials: Credentials,
    posts: Vec<Post>,
    requests: Vec<Request>,
    next: u64,
}

type Api = Fake<Data, Answer>;

/// A running fake X API.
#[derive(Debug, Clone)]
pub struct FakeX {
    fake: Api,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl FakeX {
    /// Starts a fake that accepts `credentials`.
    ///
    /// # Panics
    /// When no local port can be bound.
    pub async fn start(credentials: Credentials) -> Self {
        let data = Data {
            credentials,
            posts: Vec::new(),
            requests: Vec::new(),
            next: 1_445_880_548_472_328_192,
        };
        let routes = Router::new()
            .route("/2/tweets", axum::routing::post(create))
            .route("/2/users/me", axum::routing::get(me));
        let fake = Fake::start(data, routes).await;
        Self {
            addr: fake.addr(),
            fake,
        }
    }

    /// The URL to configure as the sink's `endpoint`.
    pub fn endpoint(&self) -> String {
        self.fake.endpoint()
    }

    /// Queues answers for the next posts; afterwards they succeed.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.fake.script(answers);
    }

    /// The accepted posts.
    pub fn posts(&self) -> Vec<Post> {
        self.fake.read(|data| data.posts.clone())
    }

    /// Every request to `POST /2/tweets`.
    pub fn requests(&self) -> Vec<Request> {
        self.fake.read(|data| data.requests.clone())
    }

    /// Waits until `n` posts were accepted, or `timeout` passes.
    pub async fn wait_posts(&self, n: usize, timeout: Duration) -> Vec<Post> {
        self.fake.wait(n, timeout, |data| data.posts.clone()).await
    }
}

fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    (
        status,
        axum::Json(json!({"title": title, "detail": detail, "type": "about:blank", "status": status.as_u16()})),
    )
        .into_response()
}

/// RFC 3986 unreserved characters stay, everything else is percent-encoded (RFC 5849 §3.6).
const STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(text: &str) -> String {
    utf8_percent_encode(text, STRICT).to_string()
}

fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// The `oauth_*` parameters of an `Authorization: OAuth …` header.
fn oauth_params(header: &str) -> Option<BTreeMap<String, String>> {
    let rest = header.strip_prefix("OAuth ")?;
    let mut params = BTreeMap::new();
    for part in rest.split(',') {
        let (key, value) = part.trim().split_once('=')?;
        let value = value.strip_prefix('"')?.strip_suffix('"')?;
        params.insert(key.to_owned(), decode(value));
    }
    Some(params)
}

/// Recomputes the signature of a request without query or form parameters (RFC 5849 §3.4).
fn signature_valid(
    method: &str,
    url: &str,
    params: &BTreeMap<String, String>,
    c: &Credentials,
) -> bool {
    let Some(given) = params.get("oauth_signature") else {
        return false;
    };
    let normalized: Vec<String> = params
        .iter()
        .filter(|(k, _)| k.as_str() != "oauth_signature" && k.as_str() != "realm")
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    let base = format!("{method}&{}&{}", encode(url), encode(&normalized.join("&")));
    let key = format!(
        "{}&{}",
        encode(&c.api_secret),
        encode(&c.access_token_secret)
    );
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key.as_bytes()) else {
        return false;
    };
    mac.update(base.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    params.get("oauth_consumer_key") == Some(&c.api_key)
        && params.get("oauth_token") == Some(&c.access_token)
        && params.get("oauth_signature_method").map(String::as_str) == Some("HMAC-SHA1")
        && params.get("oauth_nonce").is_some_and(|n| !n.is_empty())
        && params
            .get("oauth_timestamp")
            .and_then(|t| t.parse::<u64>().ok())
            .is_some_and(|t| {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                t.abs_diff(now) < 300
            })
        && *given == expected
}

fn check_auth(
    fake: &Api,
    method: &str,
    path: &str,
    headers: &HeaderMap,
) -> (String, BTreeMap<String, String>, bool) {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let params = oauth_params(&authorization).unwrap_or_default();
    let url = format!("{}{path}", fake.endpoint());
    let valid = fake.read(|data| signature_valid(method, &url, &params, &data.credentials));
    (authorization, params, valid)
}

async fn me(State(fake): State<Api>, headers: HeaderMap) -> Response {
    if !check_auth(&fake, "GET", "/2/users/me", &headers).2 {
        return problem(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    }
    axum::Json(json!({"data": {"id": "2244994945", "name": "herald", "username": "herald"}}))
        .into_response()
}

async fn create(State(fake): State<Api>, headers: HeaderMap, body: String) -> Response {
    let (authorization, oauth, valid) = check_auth(&fake, "POST", "/2/tweets", &headers);
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let request = Request {
        authorization,
        oauth,
        signature_valid: valid,
        content_type: headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: body.clone(),
    };
    fake.with(|data| data.requests.push(request));
    if !valid {
        return problem(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    }
    match fake.next_answer().unwrap_or(Answer::Ok) {
        Answer::Ok => {}
        Answer::TooManyRequests(seconds) => {
            let reset = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
                + seconds;
            let mut response = problem(
                StatusCode::TOO_MANY_REQUESTS,
                "Too Many Requests",
                "Too Many Requests",
            );
            let h = response.headers_mut();
            h.insert(
                "x-rate-limit-limit",
                axum::http::HeaderValue::from_static("100"),
            );
            h.insert(
                "x-rate-limit-remaining",
                axum::http::HeaderValue::from_static("0"),
            );
            if let Ok(v) = reset.to_string().parse() {
                h.insert("x-rate-limit-reset", v);
            }
            return response;
        }
        Answer::ServerError(status) => {
            return problem(
                StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
                "Service Unavailable",
                "Service Unavailable",
            );
        }
    }
    let Some(text) = body["text"].as_str().map(str::to_owned) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Invalid Request",
            "One or more parameters to your request was invalid.",
        );
    };
    if crate::text::weighted_length(&text) > crate::text::MAX_WEIGHT {
        return problem(
            StatusCode::BAD_REQUEST,
            "Invalid Request",
            "Your Tweet text is too long.",
        );
    }
    let in_reply_to = body["reply"]["in_reply_to_tweet_id"]
        .as_str()
        .map(str::to_owned);
    // The duplicate check and the post under one lock: two equal posts at once, one wins.
    let posted = fake.with(|data| {
        if data.posts.iter().any(|p| p.text == text) {
            return None;
        }
        data.next += 1;
        let id = data.next.to_string();
        data.posts.push(Post {
            id: id.clone(),
            text: text.clone(),
            in_reply_to,
            at: Instant::now(),
        });
        Some(id)
    });
    let Some(id) = posted else {
        return problem(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "You are not allowed to create a Tweet with duplicate content.",
        );
    };
    (
        StatusCode::CREATED,
        axum::Json(json!({"data": {"id": id, "text": text, "edit_history_tweet_ids": [id]}})),
    )
        .into_response()
}
