//! Twilio's webhooks to herald: where they are served, how their `X-Twilio-Signature` is
//! checked, and what their form fields mean.

use axum::http::{HeaderMap, Uri};

use crate::TwilioSink;

/// Where Twilio posts inbound messages (configure it on the number or Messaging Service).
pub const INBOUND_PATH: &str = "/webhooks/twilio/sms";
/// Where Twilio posts delivery reports, when the sink's `status_callback` points here.
pub const STATUS_PATH: &str = "/webhooks/twilio/status";

/// Delivery-report error codes that mean the number will never get our texts: blocked
/// (30004), unknown or inactive (30005), a landline (30006), opted out (21610).
const UNDELIVERABLE: [&str; 4] = ["30004", "30005", "30006", "21610"];

/// Whether a delivery report's `ErrorCode` means the number cannot receive texts.
pub fn undeliverable(code: &str) -> bool {
    UNDELIVERABLE.contains(&code)
}

/// The pairs of a form body, in order (repeated keys kept); nothing when it does not parse.
pub fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// The first value of `name` in `params`, empty when absent.
pub fn param<'a>(params: &'a [(String, String)], name: &str) -> &'a str {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// The form parameters of a request Twilio signed for `sink`'s account; `None` for one it did
/// not sign (forged, or sent to another URL).
pub fn verified(
    sink: &TwilioSink,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Option<Vec<(String, String)>> {
    let params = form_pairs(body);
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let url = signed_url(sink, headers, uri);
    if sink.verify(&url, &params, signature) {
        Some(params)
    } else {
        tracing::warn!(
            path = uri.path(),
            "refused a Twilio webhook with a bad signature"
        );
        None
    }
}

/// The URL Twilio signed: the configured public URL, or what the request says it was sent to.
fn signed_url(sink: &TwilioSink, headers: &HeaderMap, uri: &Uri) -> String {
    let path_and_query = uri
        .path_and_query()
        .map_or(INBOUND_PATH, axum::http::uri::PathAndQuery::as_str);
    if let Some(base) = &sink.config().public_url {
        return format!("{}{path_and_query}", base.trim_end_matches('/'));
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let scheme = header("x-forwarded-proto").unwrap_or("http");
    let host = header("x-forwarded-host")
        .or_else(|| header("host"))
        .unwrap_or("localhost");
    format!("{scheme}://{host}{path_and_query}")
}
