//! Twilio's REST API over reqwest: the Messages resource (SMS and WhatsApp), the account
//! (healthcheck) and Lookup, with Twilio's error codes mapped to delivery outcomes.

use std::time::SystemTime;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sink_api::http::{Answered, classify_status, retry_after};
use sink_api::{Receipt, SinkError};

use crate::config::Config;

/// The HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the Twilio HTTP client")]
pub struct BuildError(#[source] reqwest::Error);

/// A client for Twilio's REST API (every request names its [`Account`]).
#[derive(Debug, Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
}

/// The account a request is made for: where its API is and its credentials. The SMS and the
/// WhatsApp sink each configure one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Account<'a> {
    /// The REST API server (`https://api.twilio.com`, a fake in tests).
    pub(crate) endpoint: &'a str,
    /// The account SID (`AC…`).
    pub(crate) sid: &'a str,
    /// The auth token.
    pub(crate) token: &'a SecretString,
}

/// Twilio's error body: `{"code": 21211, "message": "…", "more_info": "…", "status": 400}`.
#[derive(Debug, Deserialize)]
struct ApiError {
    code: Option<u32>,
    message: Option<String>,
}

/// A message resource, as far as herald reads it.
#[derive(Debug, Deserialize)]
struct Message {
    sid: String,
}

/// A Lookup v2 answer.
#[derive(Debug, Deserialize)]
struct Lookup {
    valid: Option<bool>,
}

/// Twilio refused a request, with its error code.
#[derive(Debug, thiserror::Error)]
#[error("Twilio error {code}: {message}")]
pub struct TwilioError {
    /// Twilio's error code (<https://www.twilio.com/docs/api/errors>).
    pub code: u32,
    /// Twilio's explanation.
    pub message: String,
}

/// Error codes that mean the number cannot receive messages from us: invalid `To` (21211),
/// unsubscribed with STOP (21610), not a mobile number (21614), blocked by a carrier (21612),
/// region not reachable (21408); on WhatsApp, no WhatsApp account at the number (63003), an
/// invalid recipient (63024) and a user who blocked the sender (63014).
const GONE: [u32; 8] = [21211, 21610, 21614, 21612, 21408, 63003, 63024, 63014];
/// Too many requests (20429) and the account's queue being full (21611, 30001); on WhatsApp,
/// the account's rate (63017) and the sender's messaging limit (63018).
const SLOW_DOWN: [u32; 5] = [20429, 21611, 30001, 63017, 63018];
/// A free-form WhatsApp message outside the recipient's 24-hour customer-service window.
/// herald sends the template when its own record says the window is closed, so this means the
/// two clocks disagree near the window's end: transient, as the retry finds the window closed
/// and sends the template (the WhatsApp sink makes it permanent for a template).
pub(crate) const OUTSIDE_WINDOW: u32 = 63016;

impl Client {
    pub(crate) fn new() -> Result<Self, BuildError> {
        Ok(Self {
            http: sink_api::http::client().map_err(BuildError)?,
        })
    }

    fn messages_url(account: Account<'_>) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            account.endpoint.trim_end_matches('/'),
            account.sid
        )
    }

    /// Sends `body` to `to` (E.164) by SMS.
    pub(crate) async fn send(
        &self,
        config: &Config,
        to: &str,
        body: &str,
    ) -> Result<Receipt, SinkError> {
        let mut form: Vec<(&str, &str)> = vec![("To", to), ("Body", body)];
        if let Some(mg) = &config.messaging_service_sid {
            form.push(("MessagingServiceSid", mg));
        } else if let Some(from) = &config.from {
            form.push(("From", from));
        }
        if let Some(cb) = &config.status_callback {
            form.push(("StatusCallback", cb));
        }
        self.create_message(config.account(), &form).await
    }

    /// Creates a message resource from `form` (`To`, `From`, `Body` or `ContentSid`, …); the
    /// message SID is the receipt.
    pub(crate) async fn create_message(
        &self,
        account: Account<'_>,
        form: &[(&str, &str)],
    ) -> Result<Receipt, SinkError> {
        let answer = self
            .call(
                account,
                self.http.post(Self::messages_url(account)).form(form),
            )
            .await?;
        if !answer.status.is_success() {
            return Err(classify(&answer));
        }
        let message: Message = serde_json::from_str(&answer.body).map_err(SinkError::transient)?;
        Ok(Receipt::with_id(message.sid))
    }

    /// Reads the account: proves the credentials work.
    pub(crate) async fn fetch_account(&self, account: Account<'_>) -> Result<(), SinkError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}.json",
            account.endpoint.trim_end_matches('/'),
            account.sid
        );
        let answer = self.call(account, self.http.get(url)).await?;
        if answer.status.is_success() {
            Ok(())
        } else {
            Err(classify(&answer))
        }
    }

    /// Asks Lookup whether `e164` is a real number; `Ok(false)` when Twilio says it is not.
    pub(crate) async fn lookup(&self, config: &Config, e164: &str) -> Result<bool, SinkError> {
        let mut url =
            url::Url::parse(&config.signup.lookup_endpoint).map_err(SinkError::permanent)?;
        url.path_segments_mut()
            .map_err(|()| SinkError::permanent("lookup_endpoint cannot have a path"))?
            .pop_if_empty()
            .extend(["v2", "PhoneNumbers", e164]);
        let answer = self.call(config.account(), self.http.get(url)).await?;
        if answer.status == reqwest::StatusCode::NOT_FOUND {
            return Ok(false);
        }
        if let Some(err) = classify_status(answer.status, &answer.headers, &answer.body) {
            return Err(err);
        }
        let lookup: Lookup = serde_json::from_str(&answer.body).map_err(SinkError::transient)?;
        Ok(lookup.valid.unwrap_or(false))
    }

    /// Sends a request with the account's Basic auth and reads the answer.
    async fn call(
        &self,
        account: Account<'_>,
        request: reqwest::RequestBuilder,
    ) -> Result<Answered, SinkError> {
        sink_api::http::call(request.basic_auth(account.sid, Some(account.token.expose_secret())))
            .await
    }
}

/// What a failed response means: Twilio's error code first, the HTTP status otherwise.
fn classify(answer: &Answered) -> SinkError {
    let (status, headers, body) = (answer.status, &answer.headers, answer.body.as_str());
    let api: Option<ApiError> = serde_json::from_str(body).ok();
    let code = api.as_ref().and_then(|a| a.code);
    let error = |code: u32| TwilioError {
        code,
        message: api
            .as_ref()
            .and_then(|a| a.message.clone())
            .unwrap_or_default()
            .chars()
            .take(300)
            .collect(),
    };
    match code {
        Some(code) if GONE.contains(&code) => SinkError::gone(error(code)),
        Some(code) if SLOW_DOWN.contains(&code) => SinkError::RateLimited {
            retry_after: retry_after(headers, SystemTime::now()),
        },
        Some(OUTSIDE_WINDOW) => SinkError::transient(error(OUTSIDE_WINDOW)),
        Some(code) if status.is_server_error() => SinkError::transient(error(code)),
        Some(code) if status != reqwest::StatusCode::TOO_MANY_REQUESTS => {
            SinkError::permanent(error(code))
        }
        _ => classify_status(status, headers, body)
            .unwrap_or_else(|| SinkError::transient(format!("unexpected HTTP {status}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;

    fn outcome(status: u16, body: &str) -> &'static str {
        match classify(&Answered {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: body.to_owned(),
        }) {
            SinkError::RateLimited { .. } => "rate_limited",
            SinkError::Transient(_) => "transient",
            SinkError::Permanent(_) => "permanent",
            SinkError::RecipientGone(_) => "gone",
        }
    }

    #[test]
    fn twilio_error_codes_map_to_outcomes() {
        let body = |code: u32| {
            format!(
                r#"{{"code": {code}, "message": "m", "more_info": "https://www.twilio.com/docs/errors/{code}", "status": 400}}"#
            )
        };
        assert_eq!(outcome(400, &body(21211)), "gone");
        assert_eq!(outcome(400, &body(21610)), "gone");
        assert_eq!(outcome(400, &body(21614)), "gone");
        assert_eq!(outcome(429, &body(20429)), "rate_limited");
        assert_eq!(outcome(429, "Too Many Requests"), "rate_limited");
        assert_eq!(outcome(401, &body(20003)), "permanent");
        assert_eq!(outcome(400, &body(21602)), "permanent");
        assert_eq!(outcome(500, &body(20500)), "transient");
        assert_eq!(outcome(503, "<html>bad gateway</html>"), "transient");
    }

    #[test]
    fn whatsapp_error_codes_map_to_outcomes() {
        let body = |code: u32| format!(r#"{{"code": {code}, "message": "m", "status": 400}}"#);
        // Not on WhatsApp, an invalid recipient, blocked by the user.
        assert_eq!(outcome(400, &body(63003)), "gone");
        assert_eq!(outcome(400, &body(63024)), "gone");
        assert_eq!(outcome(400, &body(63014)), "gone");
        // The account's rate and the sender's messaging limit.
        assert_eq!(outcome(429, &body(63017)), "rate_limited");
        assert_eq!(outcome(400, &body(63018)), "rate_limited");
        // Outside the 24-hour window: the retry sends the template.
        assert_eq!(outcome(400, &body(63016)), "transient");
        // Bad template variables, an unknown sender.
        assert_eq!(outcome(400, &body(21656)), "permanent");
        assert_eq!(outcome(400, &body(63007)), "permanent");
    }
}
