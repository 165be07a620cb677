//! A local fake of Twilio for tests: the real Messages path, Basic auth, form fields, JSON
//! answers and error bodies (`{"code": 21211, …}`), the account and Lookup resources, and
//! scripted failures (429/20429, 5xx, unsubscribed numbers). WhatsApp messages (`To` and
//! `From` as `whatsapp:+…`, a `Body` or a `ContentSid` with `ContentVariables`) are recorded
//! apart from SMS, and the fake posts inbound WhatsApp messages to herald, signed as Twilio
//! signs them.

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

/// A WhatsApp message Twilio accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhatsAppSent {
    /// The `To` address as sent (`whatsapp:+14155552671`).
    pub to: String,
    /// The `From` address as sent (`whatsapp:+14155238886`).
    pub from: String,
    /// The free-form `Body`, if any.
    pub body: Option<String>,
    /// The template's `ContentSid`, if any.
    pub content_sid: Option<String>,
    /// The `ContentVariables`, parsed.
    pub content_variables: Option<BTreeMap<String, String>>,
    /// The message SID answered.
    pub sid: String,
    /// When the fake received it.
    pub at: Instant,
}

impl WhatsAppSent {
    /// Whether this is a template rather than free-form text.
    pub fn is_template(&self) -> bool {
        self.content_sid.is_some()
    }
}

/// herald's answer to a webhook the fake posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body (TwiML for an inbound message).
    pub body: String,
}

#[derive(Default)]
struct Data {
    account_sid: String,
    auth_token: String,
    requests: Vec<Request>,
    sent: Vec<Sent>,
    whatsapp: Vec<WhatsAppSent>,
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

    /// The WhatsApp messages accepted so far (not in [`FakeTwilio::sent`]).
    pub fn whatsapp(&self) -> Vec<WhatsAppSent> {
        self.fake.read(|data| data.whatsapp.clone())
    }

    /// The WhatsApp messages accepted for `number` (E.164, without the prefix).
    pub fn whatsapp_to(&self, number: &str) -> Vec<WhatsAppSent> {
        let to = crate::whatsapp::address(number);
        self.whatsapp().into_iter().filter(|s| s.to == to).collect()
    }

    /// Waits until `n` WhatsApp messages were accepted, or `timeout` passes.
    pub async fn wait_whatsapp(&self, n: usize, timeout: Duration) -> Vec<WhatsAppSent> {
        self.fake
            .wait(n, timeout, |data| data.whatsapp.clone())
            .await
    }

    /// Posts the WhatsApp message `body` from `from` to the sender `to` (both E.164) to herald's
    /// webhook at `url`, with the parameters Twilio sends and signed with the account's token.
    ///
    /// # Panics
    /// When herald cannot be reached.
    pub async fn whatsapp_inbound(&self, url: &str, from: &str, to: &str, body: &str) -> Reply {
        let token = self.fake.read(|data| data.auth_token.clone());
        self.forged_whatsapp_inbound(url, from, to, body, Some(&token))
            .await
    }

    /// Like [`FakeTwilio::whatsapp_inbound`], signed with `token` instead of the account's (a
    /// forgery), or unsigned with `None`.
    ///
    /// # Panics
    /// When herald cannot be reached.
    pub async fn forged_whatsapp_inbound(
        &self,
        url: &str,
        from: &str,
        to: &str,
        body: &str,
        token: Option<&str>,
    ) -> Reply {
        let params = self.fake.with(|data| {
            data.next += 1;
            let sid = format!("SM{:032x}", data.next);
            let field = |k: &str, v: &str| (k.to_owned(), v.to_owned());
            vec![
                field("AccountSid", &data.account_sid),
                field("ApiVersion", "2010-04-01"),
                field("Body", body),
                field("From", &crate::whatsapp::address(from)),
                field("MessageSid", &sid),
                field("MessageType", "text"),
                field("NumMedia", "0"),
                field("NumSegments", "1"),
                field("ProfileName", "Fan"),
                field("SmsMessageSid", &sid),
                field("SmsSid", &sid),
                field("SmsStatus", "received"),
                field("To", &crate::whatsapp::address(to)),
                field("WaId", from.trim_start_matches('+')),
            ]
        });
        post_signed(url, &params, token).await
    }

    /// Posts the form `params` to `url`, signed with `token` as Twilio signs its webhooks (or
    /// unsigned with `None`): delivery reports and any other webhook.
    ///
    /// # Panics
    /// When herald cannot be reached.
    pub async fn post_signed(
        &self,
        url: &str,
        params: &[(&str, &str)],
        token: Option<&str>,
    ) -> Reply {
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        post_signed(url, &params, token).await
    }
}

async fn post_signed(url: &str, params: &[(String, String)], token: Option<&str>) -> Reply {
    let mut request = sink_api::http::client()
        .expect("an HTTP client (is a rustls provider installed?)")
        .post(url)
        .form(params);
    if let Some(token) = token {
        request = request.header(
            "x-twilio-signature",
            crate::signature::sign(token, url, params),
        );
    }
    let response = request.send().await.expect("herald answers");
    Reply {
        status: response.status().as_u16(),
        body: response.text().await.unwrap_or_default(),
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
    if to.starts_with(crate::whatsapp::PREFIX) {
        return create_whatsapp(&fake, &sid, &form);
    }
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

/// A `ContentSid`: `HX` and 32 more letters or digits.
fn is_content_sid(sid: &str) -> bool {
    sid.starts_with("HX") && sid.len() == 34 && sid.chars().all(|c| c.is_ascii_alphanumeric())
}

/// `ContentVariables` as Twilio takes them: a JSON object of non-empty strings.
fn content_variables(json: &str) -> Option<BTreeMap<String, String>> {
    let map: BTreeMap<String, String> = serde_json::from_str(json).ok()?;
    map.values().all(|v| !v.trim().is_empty()).then_some(map)
}

/// A message to `whatsapp:+…`: both addresses on WhatsApp, and free-form `Body` or a template.
fn create_whatsapp(fake: &Api, account: &str, form: &[(String, String)]) -> Response {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let to = field("To").unwrap_or_default();
    let Some(from) = field("From") else {
        return error(400, 21603, "A 'From' phone number is required.");
    };
    if !from.starts_with(crate::whatsapp::PREFIX) {
        return error(
            400,
            21910,
            "Invalid From and To pair. From and To should be of the same channel",
        );
    }
    let number = crate::whatsapp::number(&to);
    if !is_e164(number) {
        return error(
            400,
            21211,
            &format!("The 'To' number {to} is not a valid phone number."),
        );
    }
    let body = field("Body");
    let content_sid = field("ContentSid");
    let variables = field("ContentVariables");
    let content_variables = match (&content_sid, &variables) {
        (None, Some(_)) => {
            return error(
                400,
                21654,
                "A ContentSid must be specified if ContentVariables are provided in the request.",
            );
        }
        (Some(sid), _) if !is_content_sid(sid) => {
            return error(400, 21655, "The ContentSid is Invalid.");
        }
        (_, Some(json)) => match content_variables(json) {
            Some(map) => Some(map),
            None => return error(400, 21656, "The ContentVariables Parameter is invalid."),
        },
        (_, None) => None,
    };
    if body.is_none() && content_sid.is_none() {
        return error(400, 21602, "Message body is required.");
    }
    let message_sid = fake.with(|data| {
        data.next += 1;
        let message_sid = format!("SM{:032x}", data.next);
        data.whatsapp.push(WhatsAppSent {
            to: to.clone(),
            from: from.clone(),
            body: body.clone(),
            content_sid: content_sid.clone(),
            content_variables,
            sid: message_sid.clone(),
            at: Instant::now(),
        });
        message_sid
    });
    (
        StatusCode::CREATED,
        axum::Json(json!({
            "account_sid": account,
            "api_version": "2010-04-01",
            "body": body.unwrap_or_default(),
            "direction": "outbound-api",
            "error_code": null,
            "from": from,
            "num_segments": "1",
            "sid": message_sid,
            "status": "queued",
            "to": to,
            "uri": format!("/2010-04-01/Accounts/{account}/Messages/{message_sid}.json"),
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
