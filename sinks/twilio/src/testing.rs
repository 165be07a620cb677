//! A local fake of Twilio for tests: the real Messages path, Basic auth, form fields, JSON
//! answers and error bodies (`{"code": 21211, …}`), the account and Lookup resources, and
//! scripted failures (429/20429, 5xx, unsubscribed numbers).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::json;
use sink_api::testing::Fake;

/// A scripted answer to the next message request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Accept it (201).
    Ok,
    /// `429` with error 20429 and `Retry-After: N`.
    TooManyRequests(u32),
    /// A 5xx with Twilio's error body.
    ServerError(u16),
}

/// One request the fake received on the Messages resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The path, e.g. `/2010-04-01/Accounts/AC…/Messages.json`.
    pub path: String,
    /// The `Authorization` header as sent.
    pub authorization: Option<String>,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The form fields in the order sent.
    pub form: Vec<(String, String)>,
}

impl Request {
    /// A form field's value.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A message Twilio accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The `To` number.
    pub to: String,
    /// The `Body`.
    pub body: String,
    /// The message SID answered.
    pub sid: String,
    /// When the fake received it.
    pub at: Instant,
}

#[derive(Default)]
struct Data {
    account_sid: String,
    auth_token: String,
    requests: Vec<Request>,
    sent: Vec<Sent>,
    unsubscribed: BTreeSet<String>,
    not_real: BTreeSet<String>,
    lookups: Vec<String>,
    next: u64,
}

type Api = Fake<Data, Answer>;

/// A running fake Twilio.
#[derive(Debug, Clone)]
pub struct FakeTwilio {
    fake: Api,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl FakeTwilio {
    /// Starts a fake of the account `account_sid` with `auth_token`.
    ///
    /// # Panics
    /// When no local port can be bound.
    pub async fn start(account_sid: &str, auth_token: &str) -> Self {
        let data = Data {
            account_sid: account_sid.to_owned(),
            auth_token: auth_token.to_owned(),
            ..Data::default()
        };
        let routes = Router::new()
            .route(
                "/2010-04-01/Accounts/{sid}/Messages.json",
                axum::routing::post(create_message),
            )
            .route(
                "/2010-04-01/Accounts/{account}",
                axum::routing::get(fetch_account),
            )
            .route("/v2/PhoneNumbers/{number}", axum::routing::get(lookup));
        let fake = Fake::start(data, routes).await;
        Self {
            addr: fake.addr(),
            fake,
        }
    }

    /// The URL to configure as the sink's `endpoint` (and `signup.lookup_endpoint`).
    pub fn endpoint(&self) -> String {
        self.fake.endpoint()
    }

    /// Queues answers for the next message requests; afterwards they succeed.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.fake.script(answers);
    }

    /// `number` texted STOP to the sender: Twilio refuses messages to it with error 21610.
    pub fn unsubscribe(&self, number: &str) {
        self.fake
            .with(|data| data.unsubscribed.insert(number.to_owned()));
    }

    /// Lookup answers that `number` is not a real number.
    pub fn not_real(&self, number: &str) {
        self.fake
            .with(|data| data.not_real.insert(number.to_owned()));
    }

    /// Every request on the Messages resource, failed ones included.
    pub fn requests(&self) -> Vec<Request> {
        self.fake.read(|data| data.requests.clone())
    }

    /// Numbers Lookup was asked about.
    pub fn lookups(&self) -> Vec<String> {
        self.fake.read(|data| data.lookups.clone())
    }

    /// The messages accepted so far.
    pub fn sent(&self) -> Vec<Sent> {
        self.fake.read(|data| data.sent.clone())
    }

    /// The messages accepted for `number`.
    pub fn sent_to(&self, number: &str) -> Vec<Sent> {
        self.sent().into_iter().filter(|s| s.to == number).collect()
    }

    /// Waits until `n` messages were accepted, or `timeout` passes.
    pub async fn wait_sent(&self, n: usize, timeout: Duration) -> Vec<Sent> {
        self.fake.wait(n, timeout, |data| data.sent.clone()).await
    }
}

/// Twilio's error body.
fn error(status: u16, code: u32, message: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        axum::Json(json!({
            "code": code,
            "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
            "status": status,
        })),
    )
        .into_response()
}

fn authorized(data: &Data, headers: &HeaderMap) -> bool {
    let expected = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", data.account_sid, data.auth_token));
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Basic {expected}"))
}

fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit())
    })
}

async fn create_message(
    State(fake): State<Api>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let form: Vec<(String, String)> = form_pairs(&body);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let request = Request {
        path: format!("/2010-04-01/Accounts/{sid}/Messages.json"),
        authorization: header("authorization"),
        content_type: header("content-type"),
        form: form.clone(),
    };
    let known = fake.with(|data| {
        data.requests.push(request);
        sid == data.account_sid && authorized(data, &headers)
    });
    if !known {
        return error(401, 20003, "Authenticate");
    }
    match fake.next_answer().unwrap_or(Answer::Ok) {
        Answer::Ok => {}
        Answer::TooManyRequests(seconds) => {
            let mut response = error(429, 20429, "Too Many Requests");
            if let Ok(value) = seconds.to_string().parse() {
                response.headers_mut().insert("retry-after", value);
            }
            return response;
        }
        Answer::ServerError(status) => return error(status, 20500, "Internal Server Error"),
    }
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let Some(to) = field("To") else {
        return error(400, 21604, "A 'To' phone number is required.");
    };
    let Some(text) = field("Body") else {
        return error(400, 21602, "Message body is required.");
    };
    if field("MessagingServiceSid").is_none() && field("From").is_none() {
        return error(400, 21603, "A 'From' phone number is required.");
    }
    if !is_e164(&to) {
        return error(
            400,
            21211,
            &format!("The 'To' number {to} is not a valid phone number."),
        );
    }
    if fake.read(|data| data.unsubscribed.contains(&to)) {
        return error(400, 21610, "Attempt to send to unsubscribed recipient");
    }
    let message_sid = fake.with(|data| {
        data.next += 1;
        let message_sid = format!("SM{:032x}", data.next);
        data.sent.push(Sent {
            to: to.clone(),
            body: text.clone(),
            sid: message_sid.clone(),
            at: Instant::now(),
        });
        message_sid
    });
    let segments = crate::gsm::segments(&text).count;
    (
        StatusCode::CREATED,
        axum::Json(json!({
            "account_sid": sid,
            "api_version": "2010-04-01",
            "body": text,
            "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
            "date_sent": null,
            "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000",
            "direction": "outbound-api",
            "error_code": null,
            "error_message": null,
            "from": field("From"),
            "messaging_service_sid": field("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": segments.to_string(),
            "price": null,
            "price_unit": "USD",
            "sid": message_sid,
            "status": "queued",
            "subresource_uris": {"media": format!("/2010-04-01/Accounts/{sid}/Messages/{message_sid}/Media.json")},
            "to": to,
            "uri": format!("/2010-04-01/Accounts/{sid}/Messages/{message_sid}.json"),
        })),
    )
        .into_response()
}

/// `application/x-www-form-urlencoded` pairs, in order.
fn form_pairs(body: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

async fn fetch_account(
    State(fake): State<Api>,
    Path(account): Path<String>,
    headers: HeaderMap,
) -> Response {
    fake.read(|data| {
        if account != format!("{}.json", data.account_sid) || !authorized(data, &headers) {
            return error(401, 20003, "Authenticate");
        }
        axum::Json(json!({"sid": data.account_sid, "status": "active", "type": "Full"}))
            .into_response()
    })
}

async fn lookup(
    State(fake): State<Api>,
    Path(number): Path<String>,
    headers: HeaderMap,
) -> Response {
    let valid = fake.with(|data| {
        authorized(data, &headers).then(|| {
            data.lookups.push(number.clone());
            is_e164(&number) && !data.not_real.contains(&number)
        })
    });
    let Some(valid) = valid else {
        return error(401, 20003, "Authenticate");
    };
    let body: BTreeMap<&str, serde_json::Value> = BTreeMap::from([
        ("phone_number", json!(number)),
        ("valid", json!(valid)),
        (
            "validation_errors",
            if valid {
                json!([])
            } else {
                json!(["INVALID_BUT_POSSIBLE"])
            },
        ),
        (
            "url",
            json!(format!(
                "https://lookups.twilio.com/v2/PhoneNumbers/{number}"
            )),
        ),
    ]);
    axum::Json(body).into_response()
}
