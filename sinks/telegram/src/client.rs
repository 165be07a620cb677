//! The Bot API through teloxide: building the bot, and what its errors mean for delivery.
//! Errors are re-worded without the request URL, which carries the bot token.

use secrecy::{ExposeSecret, SecretString};
use sink_api::SinkError;
use teloxide::{ApiError, Bot, RequestError};

use crate::config::Config;

/// Why the bot could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// `endpoint` is not a URL.
    #[error("endpoint is not a URL")]
    Endpoint(#[source] url::ParseError),
    /// The HTTP client could not be built (TLS setup).
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// A bot talking to `config.endpoint`.
pub(crate) fn bot(config: &Config) -> Result<Bot, BuildError> {
    let endpoint = url::Url::parse(&config.endpoint).map_err(BuildError::Endpoint)?;
    let client = teloxide::net::default_reqwest_settings()
        .build()
        .map_err(|e| BuildError::Client(redact(&e.to_string(), &config.token)))?;
    Ok(Bot::with_client(config.token.expose_secret(), client).set_api_url(endpoint))
}

/// A failure described without secrets.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Redacted(pub(crate) String);

/// `text` with the token replaced.
pub(crate) fn redact(text: &str, token: &SecretString) -> String {
    let token = token.expose_secret();
    if token.is_empty() {
        text.to_owned()
    } else {
        text.replace(token, "<token>")
    }
}

/// What a failed Bot API call means for the delivery.
pub(crate) fn classify(error: &RequestError, token: &SecretString) -> SinkError {
    let described = || Redacted(redact(&error.to_string(), token));
    match error {
        RequestError::RetryAfter(seconds) => SinkError::RateLimited {
            retry_after: Some(seconds.duration()),
        },
        RequestError::Api(api) if recipient_gone(api) => SinkError::gone(described()),
        RequestError::Api(ApiError::Unknown(text)) if text.contains("Too Many Requests") => {
            SinkError::RateLimited { retry_after: None }
        }
        RequestError::Api(ApiError::Unknown(text))
            if text.contains("Internal Server Error")
                || text.contains("Bad Gateway")
                || text.contains("Gateway") =>
        {
            SinkError::transient(described())
        }
        RequestError::Api(_) | RequestError::MigrateToChatId(_) => {
            SinkError::permanent(described())
        }
        // Network trouble, and non-JSON answers (a proxy's 502 page) are worth retrying.
        RequestError::Network(_) | RequestError::InvalidJson { .. } | RequestError::Io(_) => {
            SinkError::transient(described())
        }
    }
}

/// The chat cannot be reached any more: stop sending to it until it subscribes again.
fn recipient_gone(error: &ApiError) -> bool {
    matches!(
        error,
        ApiError::BotBlocked
            | ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::BotKickedFromChannel
            | ApiError::UserDeactivated
            | ApiError::ChatNotFound
            | ApiError::GroupDeactivated
            | ApiError::CantInitiateConversation
            | ApiError::CantTalkWithBots
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_outcomes() {
        let token = SecretString::from("123:secret");
        let kind = |e: RequestError| match classify(&e, &token) {
            SinkError::RateLimited { retry_after } => {
                format!("rate:{:?}", retry_after.map(|d| d.as_secs()))
            }
            SinkError::Transient(_) => "transient".into(),
            SinkError::Permanent(_) => "permanent".into(),
            SinkError::RecipientGone(_) => "gone".into(),
        };
        assert_eq!(
            kind(RequestError::RetryAfter(
                teloxide::types::Seconds::from_seconds(7)
            )),
            "rate:Some(7)"
        );
        assert_eq!(kind(RequestError::Api(ApiError::BotBlocked)), "gone");
        assert_eq!(kind(RequestError::Api(ApiError::ChatNotFound)), "gone");
        assert_eq!(
            kind(RequestError::Api(ApiError::MessageTextIsEmpty)),
            "permanent"
        );
        assert_eq!(
            kind(RequestError::Api(ApiError::Unknown(
                "Internal Server Error".into()
            ))),
            "transient"
        );
    }

    #[test]
    fn the_token_is_redacted() {
        let token = SecretString::from("123:secret");
        assert_eq!(
            redact(
                "GET https://api.telegram.org/bot123:secret/sendMessage",
                &token
            ),
            "GET https://api.telegram.org/bot<token>/sendMessage"
        );
    }
}
