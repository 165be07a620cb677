//! The SMS routes: signup and confirmation (JSON or form), the page's signup settings, and
//! Twilio's inbound-message webhook (signature-checked, answered with TwiML).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use sink_twilio::twiml;
use sink_twilio::webhook::{self, form_pairs, param};

use super::{Origin, Request, Signup, SignupError};
#[allow(
    unused_imports,
    reason = "the request bodies are named in the OpenAPI attributes only"
)]
use crate::http::answers::{ErrorBody, SmsConfirm, SmsNumberSignup, SmsSignup};
use crate::http::answers::{SmsActive, SmsPending, SmsSettings};
use crate::http::error;

/// The SMS routes of `signup`.
pub fn router(signup: Arc<Signup>) -> Router {
    Router::new()
        .route("/api/v1/sms", get(settings))
        .route("/api/v1/sms/subscribe", post(subscribe))
        .route("/api/v1/sms/confirm", post(confirm))
        .route("/subscribe", post(subscribe_number))
        .route(webhook::INBOUND_PATH, post(inbound))
        .route(webhook::STATUS_PATH, post(status))
        .with_state(signup)
}

/// The longest team, competition, kind, locale, phone or code a request may carry: longer
/// input is refused before it is looked at (matching names is the costly part of a signup).
const MAX_NAME: usize = 100;

/// A request that cannot be read: the message and the field it is about.
struct Malformed {
    message: String,
    field: Option<&'static str>,
}

impl Malformed {
    fn new(message: impl Into<String>, field: Option<&'static str>) -> Self {
        Self {
            message: message.into(),
            field,
        }
    }
}

impl IntoResponse for Malformed {
    fn into_response(self) -> Response {
        error(StatusCode::BAD_REQUEST, &self.message, self.field)
    }
}

/// The fields of a JSON object or a form, with list fields given as arrays, repeated keys or
/// comma-separated text.
struct Fields(serde_json::Map<String, Value>);

impl Fields {
    fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Self, Malformed> {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if content_type.starts_with("application/x-www-form-urlencoded") {
            let mut map = serde_json::Map::new();
            for (k, v) in form_pairs(body) {
                let v = Value::String(v);
                match map.get_mut(&k) {
                    Some(Value::Array(items)) => items.push(v),
                    Some(first) => *first = Value::Array(vec![first.clone(), v]),
                    None => {
                        map.insert(k, v);
                    }
                }
            }
            return Ok(Self(map));
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(Malformed::new("the body must be a JSON object", None)),
            Err(e) => Err(Malformed::new(
                format!("the body is not JSON or a form: {e}"),
                None,
            )),
        }
    }

    fn text(&self, key: &'static str) -> Result<Option<String>, Malformed> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.chars().count() > MAX_NAME => Err(Malformed::new(
                format!("{key} is longer than {MAX_NAME} characters"),
                Some(key),
            )),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Malformed::new(format!("{key} must be a string"), Some(key))),
        }
    }

    fn list(&self, key: &'static str) -> Result<Vec<String>, Malformed> {
        let items = match self.0.get(key) {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(items)) => items.clone(),
            Some(other) => vec![other.clone()],
        };
        let mut out = Vec::new();
        for item in items {
            let Value::String(s) = item else {
                return Err(Malformed::new(
                    format!("{key} must be a list of strings"),
                    Some(key),
                ));
            };
            if s.chars().count() > MAX_NAME {
                return Err(Malformed::new(
                    format!("{key}: each entry is at most {MAX_NAME} characters"),
                    Some(key),
                ));
            }
            out.extend(
                s.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned),
            );
        }
        if out.len() > 20 {
            return Err(Malformed::new(
                format!("{key}: at most 20 entries"),
                Some(key),
            ));
        }
        Ok(out)
    }
}

/// The status and the field a signup error is about, the phone number being `phone_field`.
fn refusal(err: &SignupError, phone_field: &'static str) -> Response {
    let (status, field) = match err {
        SignupError::Phone(_)
        | SignupError::Country(_)
        | SignupError::NotReal
        | SignupError::Costly(_)
        | SignupError::Unreachable
        | SignupError::NothingPending => (StatusCode::BAD_REQUEST, Some(phone_field)),
        SignupError::UnknownTarget { .. } => (StatusCode::BAD_REQUEST, Some("teams")),
        SignupError::UnknownKind(_) => (StatusCode::BAD_REQUEST, Some("kinds")),
        SignupError::UnknownLocale { .. } => (StatusCode::BAD_REQUEST, Some("locale")),
        SignupError::Quiet(_) => (StatusCode::BAD_REQUEST, Some("quiet")),
        SignupError::Expired | SignupError::WrongCode | SignupError::TooManyAttempts => {
            (StatusCode::BAD_REQUEST, Some("code"))
        }
        SignupError::TooMany(_) => (StatusCode::TOO_MANY_REQUESTS, None),
        SignupError::Send(_) => (StatusCode::BAD_GATEWAY, None),
        SignupError::Store(_) => (StatusCode::SERVICE_UNAVAILABLE, None),
    };
    if let SignupError::Store(e) = err {
        tracing::error!(error = %crate::dispatch::error_chain(e), "SMS signup failed");
    }
    error(status, &err.to_string(), field)
}

/// `GET /api/v1/sms`: what the signup form needs.
#[utoipa::path(get, path = "/api/v1/sms", tag = "sms",
    responses((status = 200, description = "Signup settings.", body = SmsSettings)))]
pub(crate) async fn settings(State(signup): State<Arc<Signup>>) -> Response {
    let config = &signup.twilio().config().signup;
    axum::Json(SmsSettings {
        enabled: true,
        countries: config.countries.clone(),
        locales: signup.renderer.locales().map(str::to_owned).collect(),
        code_ttl_seconds: config.code_ttl.as_secs(),
    })
    .into_response()
}

/// A signup request whose phone number is the field `phone_field`.
fn signup_request(
    headers: &HeaderMap,
    body: &[u8],
    phone_field: &'static str,
) -> Result<Request, Malformed> {
    let fields = Fields::parse(headers, body)?;
    Ok(Request {
        phone: fields.text(phone_field)?.unwrap_or_default(),
        teams: fields.list("teams")?,
        competitions: fields.list("competitions")?,
        kinds: fields.list("kinds")?,
        locale: fields.text("locale")?,
        quiet: fields.text("quiet")?,
    })
}

/// `POST /api/v1/sms/subscribe`: `phone` and what to follow.
#[utoipa::path(post, path = "/api/v1/sms/subscribe", tag = "sms",
    request_body(content((SmsSignup = "application/json"), (SmsSignup = "application/x-www-form-urlencoded"))),
    responses(
        (status = 202, description = "A code was texted; the subscription starts when it comes back.", body = SmsPending),
        (status = 400, description = "A field that does not hold.", body = ErrorBody),
        (status = 429, description = "Too many signups for this number, prefix or address.", body = ErrorBody),
        (status = 502, description = "Twilio refused to text the code.", body = ErrorBody),
    ))]
pub(crate) async fn subscribe(
    State(signup): State<Arc<Signup>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    start(&signup, peer, &headers, &body, "phone").await
}

/// `POST /subscribe {"number": "..."}`: the signup route of the World Cup SMS bot tutorial,
/// for its clients; the same double opt-in.
#[utoipa::path(post, path = "/subscribe", tag = "sms",
    request_body(content((SmsNumberSignup = "application/json"), (SmsNumberSignup = "application/x-www-form-urlencoded"))),
    responses(
        (status = 202, description = "A code was texted.", body = SmsPending),
        (status = 400, description = "A field that does not hold (`number`).", body = ErrorBody),
        (status = 429, description = "Too many signups.", body = ErrorBody),
    ))]
pub(crate) async fn subscribe_number(
    State(signup): State<Arc<Signup>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    start(&signup, peer, &headers, &body, "number").await
}

/// Starts a signup whose phone number is the field `phone_field` of the body.
async fn start(
    signup: &Signup,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: &[u8],
    phone_field: &'static str,
) -> Response {
    let request = match signup_request(headers, body, phone_field) {
        Ok(r) => r,
        Err(bad) => return bad.into_response(),
    };
    let origin = Origin::Ip(signup.client_ip().resolve(headers, peer));
    match signup.start(request, origin).await {
        Ok(started) => (
            StatusCode::ACCEPTED,
            axum::Json(SmsPending {
                status: "pending",
                phone: started.phone,
                expires_in_seconds: started.expires_in.as_secs(),
                message: "We texted you a code: reply with it (or YES), or enter it here.",
            }),
        )
            .into_response(),
        Err(e) => refusal(&e, phone_field),
    }
}

/// `POST /api/v1/sms/confirm`: the code typed on the page.
#[utoipa::path(post, path = "/api/v1/sms/confirm", tag = "sms",
    request_body(content((SmsConfirm = "application/json"), (SmsConfirm = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "The subscription is active.", body = SmsActive),
        (status = 400, description = "A wrong or expired code.", body = ErrorBody),
    ))]
pub(crate) async fn confirm(
    State(signup): State<Arc<Signup>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = match Fields::parse(&headers, &body) {
        Ok(f) => f,
        Err(bad) => return bad.into_response(),
    };
    let (phone, code) = match (fields.text("phone"), fields.text("code")) {
        (Ok(p), Ok(c)) => (p.unwrap_or_default(), c.unwrap_or_default()),
        (Err(bad), _) | (_, Err(bad)) => return bad.into_response(),
    };
    if code.trim().is_empty() {
        return error(StatusCode::BAD_REQUEST, "a code is required", Some("code"));
    }
    match signup.confirm(&phone, &code).await {
        Ok(confirmed) => axum::Json(SmsActive {
            status: "active",
            phone: confirmed.phone,
            following: confirmed.following,
        })
        .into_response(),
        Err(e) => refusal(&e, "phone"),
    }
}

fn forged() -> Response {
    (StatusCode::FORBIDDEN, "invalid X-Twilio-Signature").into_response()
}

/// A delivery report: a text that failed after Twilio accepted it, for a reason that will not
/// pass, pauses the number like a refusal at send time would.
async fn status(
    State(signup): State<Arc<Signup>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(params) = webhook::verified(signup.twilio(), &uri, &headers, &body) else {
        return forged();
    };
    let outcome = param(&params, "MessageStatus");
    let code = param(&params, "ErrorCode");
    if matches!(outcome, "undelivered" | "failed") {
        match signup.delivery_failed(param(&params, "To"), code).await {
            Ok(()) => {}
            Err(e) => {
                tracing::error!(error = %crate::dispatch::error_chain(&e), "cannot record a delivery report");
                return (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response();
            }
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn inbound(
    State(signup): State<Arc<Signup>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(params) = webhook::verified(signup.twilio(), &uri, &headers, &body) else {
        return forged();
    };
    match signup
        .inbound(param(&params, "From"), param(&params, "Body"))
        .await
    {
        Ok(reply) => (
            [(header::CONTENT_TYPE, twiml::CONTENT_TYPE)],
            twiml::reply(reply.map(|r| signup.twilio().prepare(&r)).as_deref()),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %crate::dispatch::error_chain(&e), "cannot handle an inbound SMS");
            // A 5xx makes Twilio retry the webhook later.
            (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
        }
    }
}
