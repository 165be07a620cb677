//! Twilio's webhooks to herald: where they are served, how their `X-Twilio-Signature` is
//! checked, and what their form fields mean.

use axum::http::{HeaderMap, Uri};

use crate::{TwilioSink, WhatsAppSink};

/// Where Twilio posts inbound messages (configure it on the number or Messaging Service).
pub const INBOUND_PATH: &str = "/webhooks/twilio/sms";
/// Where Twilio posts delivery reports, when the sink's `status_callback` points here.
pub const STATUS_PATH: &str = "/webhooks/twilio/status";
/// Where Twilio posts inbound WhatsApp messages (configure it on the WhatsApp sender).
pub const WHATSAPP_PATH: &str = "/webhooks/twilio/whatsapp";
/// Where Twilio posts WhatsApp delivery reports, when the WhatsApp sink's `status_callback`
/// points here.
pub const WHATSAPP_STATUS_PATH: &str = "/webhooks/twilio/whatsapp/status";

/// Delivery-report error codes that mean the number will never get our messages: blocked
/// (30004), unknown or inactive (30005), a landline (30006), opted out (21610); on WhatsApp,
/// no WhatsApp account (63003), an invalid recipient (63024), the sender blocked (63014).
const UNDELIVERABLE: [&str; 7] = [
    "30004", "30005", "30006", "21610", "63003", "63024", "63014",
];

/// A sink whose Twilio account signs the webhooks it receives.
pub trait Signed {
    /// Whether `signature` is the account's for a POST of `params` to `url`.
    fn signed(&self, url: &str, params: &[(String, String)], signature: &str) -> bool;
    /// herald's public base URL as Twilio reaches it, when configured.
    fn public_url(&self) -> Option<&str>;
}

impl Signed for TwilioSink {
    fn signed(&self, url: &str, params: &[(String, String)], signature: &str) -> bool {
        self.verify(url, params, signature)
    }

    fn public_url(&self) -> Option<&str> {
        self.config().public_url.as_deref()
    }
}

impl Signed for WhatsAppSink {
    fn signed(&self, url: &str, params: &[(String, String)], signature: &str) -> bool {
        self.verify(url, params, signature)
    }

    fn public_url(&self) -> Option<&str> {
        self.config().public_url.as_deref()
    }
}

/// Whether a delivery report's `ErrorCode` means the number cannot receive messages.
pub fn undeliverable(code: &str) -> bool {
    UNDELIVERABLE.contains(&code)
}

/// Whether a delivery report's `ErrorCode` is WhatsApp refusing a free-form message because
/// the recipient's 24-hour customer-service window had closed (63016).
pub fn outside_window(code: &str) -> bool {
    code.parse::<u32>() == Ok(crate::client::OUTSIDE_WINDOW)
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
    sink: &impl Signed,
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
    if sink.signed(&url, &params, signature) {
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
fn signed_url(sink: &impl Signed, headers: &HeaderMap, uri: &Uri) -> String {
    let path_and_query = uri
        .path_and_query()
        .map_or(INBOUND_PATH, axum::http::uri::PathAndQuery::as_str);
    if let Some(base) = sink.public_url() {
        return format!("{}{path_and_query}", base.trim_end_matches('/'));
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let scheme = header("x-forwarded-proto").unwrap_or("http");
    let host = header("x-forwarded-host")
        .or_else(|| header("host"))
        .unwrap_or("localhost");
    format!("{scheme}://{host}{path_and_query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_read_from_reports() {
        assert!(outside_window("63016"));
        assert!(!outside_window("63003"));
        assert!(!outside_window(""));
        assert!(undeliverable("63003"));
        assert!(!undeliverable("63016"), "a closed window is no lost number");
    }
}
