//! Inbound over Socket Mode: herald connects to Slack (no public URL needed) with
//! slack-morphism's Socket Mode listener, which acknowledges each envelope; events and slash
//! commands go to [`Inbound`], as the HTTP routes' do.
//!
//! The task first opens a connection URL itself, so that a refused app token is a clear error
//! retried with backoff (slack-morphism would retry it quietly every 30 s); then the listener
//! holds the WebSocket, reconnecting at once when Slack asks (`disconnect`) or the connection
//! drops, and every 30 s while that fails. The URL Slack returns carries a one-time ticket: it
//! is never logged here.

use std::sync::Arc;
use std::time::Duration;

use sink_api::plugin::CancellationToken;
use slack_morphism::errors::SlackClientError;
use slack_morphism::listener::HttpStatusCode;
use slack_morphism::prelude::*;

use crate::client::{self, Client};
use crate::inbound::{Event, Inbound, SlashCommand};

/// The first wait after Slack refused or failed to open a connection; doubled after each
/// failure in a row.
const RETRY_FIRST: Duration = Duration::from_secs(2);
/// The longest wait between attempts: a token fixed in Slack's settings works within it.
const RETRY_MAX: Duration = Duration::from_secs(300);
/// How often slack-morphism retries a reconnection that fails: `apps.connections.open` is a
/// Tier 1 method (about one call a minute).
const RECONNECT_EVERY_SECONDS: u64 = 30;
/// One connection: the core's lease already keeps this task on one herald instance.
const CONNECTIONS: u32 = 1;
/// API error codes that pass by waiting; any other code means the token or the app's settings
/// must change.
const TRANSIENT_CODES: &[&str] = &[
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
];

/// Why no Socket Mode connection could be opened.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OpenError {
    /// Slack refused the token or the app: the operator must act.
    #[error(
        "Slack refused the app token ({0}): app_token must be an app-level token (xapp-…) with \
         the connections:write scope, and Socket Mode must be enabled in the app's settings"
    )]
    Refused(String),
    /// Slack asked to slow down.
    #[error("rate limited by Slack")]
    RateLimited(Option<Duration>),
    /// Slack or the network failed.
    #[error("cannot reach Slack")]
    Unavailable(#[source] client::Described),
}

/// Receives commands over Socket Mode until `stop`; a sink task, on one herald instance at a
/// time.
pub(crate) async fn run(inbound: Arc<Inbound>, stop: CancellationToken) {
    let Some(token) = inbound.sink.app_token.clone() else {
        return;
    };
    let mut failures: u32 = 0;
    loop {
        let opened = tokio::select! {
            () = stop.cancelled() => return,
            opened = open(&inbound.sink.client, &token) => opened,
        };
        let Err(error) = opened else { break };
        let wait = match &error {
            OpenError::RateLimited(Some(asked)) => (*asked).max(backoff(failures)),
            _ => backoff(failures),
        };
        failures = failures.saturating_add(1);
        let error_text = sink_api::error_chain(&error);
        if matches!(error, OpenError::Refused(_)) {
            tracing::error!(sink = %inbound.id, error = %error_text, retry_in = ?wait, "no Slack commands over Socket Mode");
        } else {
            tracing::warn!(sink = %inbound.id, error = %error_text, retry_in = ?wait, "cannot open a Slack Socket Mode connection");
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
    }
    let listener = listener(Arc::clone(&inbound));
    if let Err(error) = listener.listen_for(&token).await {
        tracing::error!(sink = %inbound.id, %error, "cannot start Slack Socket Mode");
        return;
    }
    listener.start().await;
    stop.cancelled().await;
    listener.shutdown().await;
    tracing::info!(sink = %inbound.id, "closed the Slack Socket Mode connection");
}

/// Asks Slack for a connection URL with the app token, to learn whether it works; the URL
/// (a one-time ticket) is dropped unused.
async fn open(client: &Client, token: &SlackApiToken) -> Result<(), OpenError> {
    client
        .open_session(token)
        .apps_connections_open(&SlackApiAppsConnectionOpenRequest::new())
        .await
        .map(drop)
        .map_err(|e| classify(&e))
}

/// What a failed `apps.connections.open` means.
fn classify(error: &SlackClientError) -> OpenError {
    match error {
        SlackClientError::ApiError(e) if e.code == "ratelimited" => OpenError::RateLimited(None),
        SlackClientError::ApiError(e) if !TRANSIENT_CODES.contains(&e.code.as_str()) => {
            OpenError::Refused(e.code.clone())
        }
        SlackClientError::RateLimitError(e) => OpenError::RateLimited(e.retry_after),
        SlackClientError::HttpError(e) if e.status_code.as_u16() == 429 => {
            OpenError::RateLimited(None)
        }
        SlackClientError::HttpError(e) if matches!(e.status_code.as_u16(), 401 | 403) => {
            OpenError::Refused(format!("HTTP {}", e.status_code))
        }
        other => OpenError::Unavailable(client::Described(other.to_string())),
    }
}

/// The wait after `failures` failures in a row: 2 s, 4 s, 8 s … up to five minutes.
fn backoff(failures: u32) -> Duration {
    RETRY_FIRST
        .saturating_mul(2_u32.saturating_pow(failures.min(16)))
        .min(RETRY_MAX)
}

/// slack-morphism's listener, with `inbound` as the callbacks' state.
fn listener(inbound: Arc<Inbound>) -> SlackClientSocketModeListener<client::Connector> {
    let environment = Arc::new(
        SlackClientEventsListenerEnvironment::new(Arc::clone(&inbound.sink.client))
            .with_error_handler(on_error)
            .with_user_state(inbound),
    );
    let callbacks = SlackSocketModeListenerCallbacks::new()
        .with_hello_events(on_hello)
        .with_push_events(on_event)
        .with_command_events(on_slash_command)
        .with_interaction_events(on_interaction);
    let config = SlackClientSocketModeConfig::new()
        .with_max_connections_count(CONNECTIONS)
        .with_reconnect_timeout_in_seconds(RECONNECT_EVERY_SECONDS);
    SlackClientSocketModeListener::new(&config, environment, callbacks)
}

/// The [`Inbound`] the listener was given.
async fn inbound(state: &SlackClientEventsUserState) -> Option<Arc<Inbound>> {
    state.read().await.get_user_state::<Arc<Inbound>>().cloned()
}

/// The listener has no state: it was built without one (a bug).
#[derive(Debug, thiserror::Error)]
#[error("the Socket Mode listener has no inbound state")]
struct NoState;

/// A connection is up (also after each reconnection). Generic because slack-morphism does not
/// export the hello event's type; nothing in it is needed.
async fn on_hello<Hello>(_hello: Hello, _client: Arc<Client>, state: SlackClientEventsUserState) {
    if let Some(inbound) = inbound(&state).await {
        tracing::info!(sink = %inbound.id, "connected to Slack in Socket Mode");
    }
}

/// An `events_api` envelope: its event, read as the HTTP route reads it, and acknowledged when
/// this returns (the command is answered afterwards).
async fn on_event(
    callback: SlackPushEventCallback,
    _client: Arc<Client>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    let inbound = inbound(&state).await.ok_or(NoState)?;
    match event(&callback.event) {
        Ok(event) => inbound.event(callback.event_id.value(), event),
        Err(error) => {
            tracing::debug!(sink = %inbound.id, %error, "ignored a Slack event of an unexpected shape");
        }
    }
    Ok(())
}

/// The event as Slack sent it, in the form the HTTP route reads.
fn event(body: &SlackEventCallbackBody) -> Result<Event, serde_json::Error> {
    serde_json::from_value(serde_json::to_value(body)?)
}

/// A `slash_commands` envelope: acknowledged with the reply as its payload, which Slack shows
/// to whoever typed the command (the HTTP route's response body).
async fn on_slash_command(
    command: SlackCommandEvent,
    _client: Arc<Client>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<SlackCommandEventResponse> {
    let inbound = inbound(&state).await.ok_or(NoState)?;
    let text = inbound
        .slash_command(SlashCommand {
            text: command.text.unwrap_or_default(),
            channel_id: command.channel_id.0,
            user_id: Some(command.user_id.0),
        })
        .await;
    Ok(
        SlackCommandEventResponse::new(SlackMessageContent::new().with_text(text))
            .with_response_type(SlackMessageResponseType::Ephemeral),
    )
}

/// An `interactive` envelope: herald's messages have no buttons or menus, so it is only
/// acknowledged.
async fn on_interaction(
    _interaction: SlackInteractionEvent,
    _client: Arc<Client>,
    _state: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    Ok(())
}

/// A WebSocket failure (slack-morphism reconnects), or a frame it could not read (it still
/// acknowledges it). Only the error's kind is logged: a frame's body holds people's messages.
fn on_error(
    error: sink_api::BoxError,
    _client: Arc<Client>,
    _state: SlackClientEventsUserState,
) -> HttpStatusCode {
    let described = match error.downcast::<SlackClientError>().map(|e| *e) {
        Ok(SlackClientError::ProtocolError(e)) => {
            format!("unreadable Socket Mode frame: {}", e.json_error)
        }
        Ok(other) => other.to_string(),
        Err(other) => other.to_string(),
    };
    tracing::warn!(error = %described, "Slack Socket Mode");
    HttpStatusCode::OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_five_minutes() {
        assert_eq!(backoff(0), Duration::from_secs(2));
        assert_eq!(backoff(1), Duration::from_secs(4));
        assert_eq!(backoff(7), Duration::from_secs(256));
        assert_eq!(backoff(8), RETRY_MAX);
        assert_eq!(backoff(u32::MAX), RETRY_MAX);
    }

    /// Events as slack-morphism reads them from Socket Mode's `events_api` envelopes.
    fn from_socket_mode(event: serde_json::Value) -> Option<sink_api::Command> {
        let body: SlackEventCallbackBody = serde_json::from_value(event).unwrap();
        super::event(&body).unwrap().command()
    }

    #[test]
    fn socket_mode_events_read_as_the_http_route_reads_them() {
        let mention = from_socket_mode(serde_json::json!({
            "type": "app_mention", "user": "U1", "text": "<@UHERALD> subscribe France",
            "ts": "1700000000.000100", "channel": "C43", "event_ts": "1700000000.000100"
        }))
        .unwrap();
        assert_eq!(mention.chat.as_str(), "C43");
        assert_eq!(mention.user.as_deref(), Some("U1"));
        assert_eq!(mention.text, "subscribe France");
        let direct = from_socket_mode(serde_json::json!({
            "type": "message", "user": "U1", "text": "help", "ts": "1700000000.000200",
            "channel": "D1", "channel_type": "im", "event_ts": "1700000000.000200"
        }))
        .unwrap();
        assert_eq!((direct.chat.as_str(), direct.text.as_str()), ("D1", "help"));
        let from_a_bot = from_socket_mode(serde_json::json!({
            "type": "message", "subtype": "bot_message", "bot_id": "B1", "text": "hello",
            "ts": "1700000000.000300", "channel": "D1", "channel_type": "im"
        }));
        assert!(from_a_bot.is_none());
    }
}
