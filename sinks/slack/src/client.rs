//! The Web API through slack-morphism: the client (HTTPS, or plain HTTP for a local fake), and
//! what its errors mean for delivery.

use std::sync::Arc;

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use sink_api::SinkError;
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;

/// slack-morphism's connector over rustls (ring); it also opens Socket Mode's WebSockets.
pub(crate) type Connector = SlackClientHyperConnector<HttpsConnector<HttpConnector>>;
/// The client type: slack-morphism over a rustls (ring) connector.
pub(crate) type Client = SlackClient<Connector>;

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the Slack client")]
pub struct BuildError(#[source] std::io::Error);

/// A client for `endpoint`. HTTP is accepted too, for local fakes.
pub(crate) fn client(endpoint: &str) -> Result<Arc<Client>, BuildError> {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(BuildError)?
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .build();
    let connector = SlackClientHyperConnector::with_connector(connector)
        .with_slack_api_url(endpoint.trim_end_matches('/'));
    Ok(Arc::new(SlackClient::new(connector)))
}

/// Error codes that mean the channel cannot be reached any more.
const GONE: &[&str] = &[
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "account_inactive",
    "user_not_found",
    "user_disabled",
];

/// A Slack error worded for a dead letter.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Described(pub(crate) String);

/// What a failed Web API call means for the delivery.
pub(crate) fn classify(error: &SlackClientError) -> SinkError {
    let described = || Described(error.to_string());
    match error {
        SlackClientError::RateLimitError(e) => SinkError::RateLimited {
            retry_after: e.retry_after,
        },
        SlackClientError::ApiError(e) if e.code == "ratelimited" => {
            SinkError::RateLimited { retry_after: None }
        }
        SlackClientError::ApiError(e) if GONE.contains(&e.code.as_str()) => {
            SinkError::gone(described())
        }
        SlackClientError::ApiError(e)
            if e.code == "internal_error"
                || e.code == "fatal_error"
                || e.code == "service_unavailable" =>
        {
            SinkError::transient(described())
        }
        SlackClientError::ApiError(_) => SinkError::permanent(described()),
        SlackClientError::HttpError(e)
            if e.status_code.is_server_error() || e.status_code.as_u16() == 408 =>
        {
            SinkError::transient(described())
        }
        SlackClientError::HttpError(e) if e.status_code.as_u16() == 429 => {
            SinkError::RateLimited { retry_after: None }
        }
        SlackClientError::HttpError(_) => SinkError::permanent(described()),
        _ => SinkError::transient(described()),
    }
}
