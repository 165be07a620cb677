//! The REST Bot API over reqwest: the wire types, the calls (`send_message`, `set_webhook`,
//! `get_account_info`), and what Viber's answers mean for delivery. The token travels in the
//! `X-Viber-Auth-Token` header only, marked sensitive, and is in no error or log.

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sink_api::SinkError;

/// The header that carries the bot's token on every request.
pub(crate) const AUTH_HEADER: &str = "X-Viber-Auth-Token";

/// The callbacks herald asks for besides `message`, which Viber always sends: `failed` (to
/// record the failed delivery), `unsubscribed` (to pause what the user follows), `subscribed`
/// (to resume it) and `conversation_started` (to greet). `delivered` and `seen` would only be
/// ignored.
pub(crate) const EVENT_TYPES: &[&str] = &[
    "failed",
    "unsubscribed",
    "subscribed",
    "conversation_started",
];

/// Why the HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the Viber HTTP client")]
pub struct BuildError(#[source] reqwest::Error);

/// Viber refused a request: its non-zero `status` and `status_message`.
#[derive(Debug, thiserror::Error)]
#[error("Viber answered status {status} ({message})")]
pub struct ViberError {
    /// Viber's status code.
    pub status: i64,
    /// Viber's `status_message` (`receiverNotSubscribed`, `invalidAuthToken`, …).
    pub message: String,
}

/// A 200 answer that is not Viber's JSON (a proxy's page).
#[derive(Debug, thiserror::Error)]
#[error("unreadable answer from Viber")]
struct Unreadable(#[source] serde_json::Error);

/// A token that cannot be sent as a header (a control character in it).
#[derive(Debug, thiserror::Error)]
#[error("the auth token is not a valid header value")]
struct BadToken;

/// A text message: what `send_message` takes with a `receiver`, and what the answer to a
/// `conversation_started` callback holds without one.
#[derive(Debug, Serialize)]
pub(crate) struct Message<'a> {
    /// The user's id; absent in a callback's answer, which goes to the user who called.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) receiver: Option<&'a str>,
    /// 1: plain text works on every Viber version that supports bots.
    pub(crate) min_api_version: u32,
    /// The bot as the user sees it.
    pub(crate) sender: Sender<'a>,
    /// Always `text`.
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    /// The text, within [`crate::render::MAX_TEXT`].
    pub(crate) text: &'a str,
}

/// `sender` of a message.
#[derive(Debug, Serialize)]
pub(crate) struct Sender<'a> {
    /// At most 28 characters.
    pub(crate) name: &'a str,
    /// The avatar's URL, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) avatar: Option<&'a str>,
}

/// `set_webhook`'s body.
#[derive(Debug, Serialize)]
struct SetWebhook<'a> {
    url: &'a str,
    event_types: &'a [&'a str],
    /// The user's name in callbacks, for logs and the `user` of commands.
    send_name: bool,
    send_photo: bool,
}

/// Every answer: `{"status": 0, "status_message": "ok", "message_token": 5741311803571721087}`.
#[derive(Debug, Deserialize)]
pub(crate) struct Answer {
    status: i64,
    #[serde(default)]
    status_message: String,
    /// A number in Viber's answers (up to 64 bits); kept as JSON to read it exactly.
    #[serde(default)]
    message_token: Option<serde_json::Value>,
}

impl Answer {
    /// The sent message's token as text, the receipt of a delivery.
    pub(crate) fn message_token(&self) -> Option<String> {
        match self.message_token.as_ref()? {
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
            _ => None,
        }
    }
}

/// The API of one bot.
#[derive(Debug)]
pub(crate) struct Client {
    http: reqwest::Client,
    endpoint: String,
    token: SecretString,
}

impl Client {
    /// A client for the bot with `token`, talking to `endpoint`.
    pub(crate) fn new(endpoint: &str, token: SecretString) -> Result<Self, BuildError> {
        Ok(Self {
            http: sink_api::http::client().map_err(BuildError)?,
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            token,
        })
    }

    /// Calls `method` with `body`; Viber's answer when its status is 0, the failure
    /// classified otherwise.
    pub(crate) async fn call(
        &self,
        method: &str,
        body: &impl Serialize,
    ) -> Result<Answer, SinkError> {
        let mut token = HeaderValue::from_str(self.token.expose_secret())
            .map_err(|_| SinkError::permanent(BadToken))?;
        token.set_sensitive(true);
        let request = self
            .http
            .post(format!("{}/{method}", self.endpoint))
            .header(AUTH_HEADER, token)
            .json(body);
        let answer = sink_api::http::call(request).await?;
        if let Some(error) =
            sink_api::http::classify_status(answer.status, &answer.headers, &answer.body)
        {
            return Err(error);
        }
        let parsed: Answer =
            serde_json::from_str(&answer.body).map_err(|e| SinkError::transient(Unreadable(e)))?;
        classify(parsed.status, &parsed.status_message)?;
        Ok(parsed)
    }

    /// `send_message`.
    pub(crate) async fn send(&self, message: &Message<'_>) -> Result<Answer, SinkError> {
        self.call("send_message", message).await
    }

    /// `set_webhook` to `url`, for [`EVENT_TYPES`].
    pub(crate) async fn set_webhook(&self, url: &str) -> Result<(), SinkError> {
        let body = SetWebhook {
            url,
            event_types: EVENT_TYPES,
            send_name: true,
            send_photo: false,
        };
        self.call("set_webhook", &body).await.map(drop)
    }

    /// `get_account_info`: the token works.
    pub(crate) async fn account_info(&self) -> Result<(), SinkError> {
        self.call("get_account_info", &serde_json::json!({}))
            .await
            .map(drop)
    }
}

/// What a Viber status means for the delivery. Viber answers HTTP 200 with a status in the
/// body; the codes are those of the REST Bot API's error table
/// (<https://developers.viber.com/docs/api/rest-bot-api/#error-codes>, the same table as
/// <https://creators.viber.com/docs/bots-api/errors> and Viber's own SDKs, e.g.
/// `Viber/viber-bot-python`): 0 ok, 1 invalidUrl, 2 invalidAuthToken, 3 badData,
/// 4 missingData, 5 receiverNotRegistered, 6 receiverNotSubscribed, 7 publicAccountBlocked,
/// 8 publicAccountNotFound, 9 publicAccountSuspended, 10 webhookNotSet,
/// 11 receiverNoSuitableDevice, 12 tooManyRequests, 13 apiVersionNotSupported,
/// 14 incompatibleWithVersion, 15 publicAccountNotAuthorized, 16 inchatReplyMessageNotAllowed,
/// 17 publicAccountIsNotInline, 18 noPublicChat, 19 cannotSendBroadcast,
/// 20 broadcastNotAllowed, 21 unsupportedCountry, 22 paymentUnsupported,
/// 23 freeMessagesExceeded, 24 noBalance; any other: a general error.
///
/// | status | outcome |
/// |---|---|
/// | 0 | success |
/// | 5, 6, 11 (the user is not on Viber, unsubscribed, or has no device for bots) | `RecipientGone`: the user's subscriptions are paused |
/// | 12 (rate control, including `send_message`'s 100 messages per user per hour without a reply) | `RateLimited` |
/// | 10 (no webhook yet: herald registers it at startup, and a first send may come first) | `Transient` |
/// | 1–4, 7–9, 13–24 (bad request, bad token, account blocked or unpaid) | `Permanent` |
/// | any other (Viber's "general error") | `Transient` |
pub(crate) fn classify(status: i64, message: &str) -> Result<(), SinkError> {
    let error = || ViberError {
        status,
        message: message.to_owned(),
    };
    match status {
        0 => Ok(()),
        5 | 6 | 11 => Err(SinkError::gone(error())),
        12 => Err(SinkError::RateLimited { retry_after: None }),
        10 => Err(SinkError::transient(error())),
        1..=4 | 7..=9 | 13..=24 => Err(SinkError::permanent(error())),
        _ => Err(SinkError::transient(error())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(status: i64) -> &'static str {
        match classify(status, "x") {
            Ok(()) => "ok",
            Err(SinkError::RateLimited { .. }) => "rate_limited",
            Err(SinkError::Transient(_)) => "transient",
            Err(SinkError::Permanent(_)) => "permanent",
            Err(SinkError::RecipientGone(_)) => "gone",
        }
    }

    #[test]
    fn statuses_map_to_outcomes() {
        let table: &[(i64, &str)] = &[
            (0, "ok"),
            (1, "permanent"),
            (2, "permanent"),
            (3, "permanent"),
            (4, "permanent"),
            (5, "gone"),
            (6, "gone"),
            (7, "permanent"),
            (8, "permanent"),
            (9, "permanent"),
            (10, "transient"),
            (11, "gone"),
            (12, "rate_limited"),
            (13, "permanent"),
            (14, "permanent"),
            (24, "permanent"),
            (25, "transient"),
            (-1, "transient"),
        ];
        for &(status, want) in table {
            assert_eq!(outcome(status), want, "status {status}");
        }
    }

    #[test]
    fn errors_say_the_status_and_its_message() {
        let Err(SinkError::RecipientGone(e)) = classify(6, "receiverNotSubscribed") else {
            panic!("6 is gone")
        };
        assert_eq!(
            e.to_string(),
            "Viber answered status 6 (receiverNotSubscribed)"
        );
    }

    #[test]
    fn message_tokens_are_read_exactly() {
        let answer: Answer = serde_json::from_str(
            r#"{"status":0,"status_message":"ok","message_token":5741311803571721087}"#,
        )
        .unwrap();
        assert_eq!(
            answer.message_token().as_deref(),
            Some("5741311803571721087")
        );
        let answer: Answer = serde_json::from_str(r#"{"status":0}"#).unwrap();
        assert_eq!(answer.message_token(), None);
    }

    #[test]
    fn a_message_serializes_as_viber_expects() {
        let message = Message {
            receiver: Some("01234567890A="),
            min_api_version: 1,
            sender: Sender {
                name: "herald",
                avatar: None,
            },
            kind: "text",
            text: "hi",
        };
        assert_eq!(
            serde_json::to_value(&message).unwrap(),
            serde_json::json!({
                "receiver": "01234567890A=", "min_api_version": 1,
                "sender": {"name": "herald"}, "type": "text", "text": "hi"
            })
        );
    }
}
