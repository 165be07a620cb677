//! The Discord REST API through serenity's `Http` (with its rate-limit buckets), and what its
//! errors mean for delivery.

use std::sync::Arc;

use secrecy::ExposeSecret;
use serenity::http::{Http, HttpBuilder, HttpError};
use serenity::model::id::ApplicationId;
use sink_api::SinkError;

use crate::config::Config;

/// An HTTP client for the bot. Against discord.com serenity's rate limiter follows Discord's
/// buckets and waits out 429s itself. With `endpoint` set it is off: serenity 0.12 sends
/// rate-limited requests to discord.com whatever the proxy, so herald's dispatcher handles
/// 429s (as `RateLimited`) instead.
pub(crate) fn http(config: &Config) -> Arc<Http> {
    let mut builder = HttpBuilder::new(config.bot_token.expose_secret())
        .application_id(ApplicationId::new(config.application_id.max(1)));
    if let Some(endpoint) = &config.endpoint {
        builder = builder
            .proxy(endpoint.trim_end_matches('/'))
            .ratelimiter_disabled(true);
    }
    Arc::new(builder.build())
}

/// Discord error codes that mean the channel cannot be reached any more.
const GONE: &[isize] = &[
    10003, // Unknown Channel
    50001, // Missing Access
    50013, // Missing Permissions
];

/// A Discord error worded for a dead letter.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Described(pub(crate) String);

/// What a failed API call means for the delivery.
pub(crate) fn classify(error: &serenity::Error) -> SinkError {
    let described = || Described(sink_api::error_chain(error));
    match error {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) => {
            let status = response.status_code.as_u16();
            match status {
                429 => SinkError::RateLimited { retry_after: None },
                500..=599 | 408 => SinkError::transient(described()),
                _ if GONE.contains(&response.error.code) => SinkError::gone(described()),
                _ => SinkError::permanent(described()),
            }
        }
        serenity::Error::Http(HttpError::Request(_))
        | serenity::Error::Io(_)
        | serenity::Error::Json(_) => SinkError::transient(described()),
        _ => SinkError::permanent(described()),
    }
}
