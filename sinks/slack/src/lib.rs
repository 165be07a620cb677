//! Slack sink: channel messages through the Web API; commands (mentions and a slash command)
//! through the Events API over HTTP, or over Socket Mode without a public URL.
#![doc = include_str!("../README.md")]
//!
//! # Layout
//!
//! | module | what it does |
//! |---|---|
//! | `lib.rs` | the sink: posts and updates messages |
//! | `config` | the `[sinks.<id>]` keys and their checks |
//! | `client` | slack-morphism's client (rustls, ring) and what its errors mean |
//! | `render` | a notification as Block Kit |
//! | `inbound` | commands from Slack to the core and back, whatever the transport |
//! | `events` | transport: the Events API and slash command routes, signed requests |
//! | `socket_mode` | transport: Socket Mode, a sink task holding a WebSocket to Slack |
//! | `plugin` | registration with the core: routes and task per config |
//! | `testing` | fakes of the Web API and of Socket Mode (feature `test-util`) |

mod client;
mod config;
mod events;
mod inbound;
mod plugin;
mod render;
mod socket_mode;
#[cfg(feature = "test-util")]
pub mod testing;

use std::sync::Arc;

use secrecy::ExposeSecret;
use sink_api::{Limits, Notification, Rate, Receipt, Recipient, Sink, SinkError};
use slack_morphism::prelude::*;

pub use client::BuildError;
pub use config::Config;
pub use events::router;
pub use plugin::Plugin;

/// Delivers to Slack channels; see the crate docs.
#[derive(Clone)]
pub struct SlackSink {
    client: Arc<client::Client>,
    token: SlackApiToken,
    /// The app-level token, when commands come over Socket Mode.
    app_token: Option<SlackApiToken>,
    config: Config,
}

impl std::fmt::Debug for SlackSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackSink")
            .field("endpoint", &self.config.endpoint)
            .finish_non_exhaustive()
    }
}

impl SlackSink {
    /// A sink for the app `config` describes.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(config: Config) -> Result<Self, BuildError> {
        Ok(Self {
            client: client::client(&config.endpoint)?,
            token: api_token(&config.bot_token),
            app_token: config.app_token.as_ref().map(api_token),
            config,
        })
    }

    /// Its config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Posts plain text to a channel (command replies).
    pub(crate) async fn post_text(&self, channel: &str, text: &str) -> Result<(), SinkError> {
        let content = SlackMessageContent::new().with_text(text.to_owned());
        let request =
            SlackApiChatPostMessageRequest::new(SlackChannelId::new(channel.to_owned()), content);
        self.client
            .open_session(&self.token)
            .chat_post_message(&request)
            .await
            .map(|_| ())
            .map_err(|e| client::classify(&e))
    }
}

/// A token as slack-morphism sends it (`Authorization: Bearer …`).
fn api_token(secret: &secrecy::SecretString) -> SlackApiToken {
    SlackApiToken::new(SlackApiTokenValue::new(secret.expose_secret().to_owned()))
}

impl Sink for SlackSink {
    const KIND: &'static str = "slack";

    /// Corrections and live tickers edit the message they are about.
    const EDITS: bool = true;

    async fn send(&self, to: &Recipient, msg: &Notification) -> Result<Receipt, SinkError> {
        let session = self.client.open_session(&self.token);
        let channel = SlackChannelId::new(to.as_str().to_owned());
        let content = render::content(msg);
        if let Some(ts) = msg.replaces.as_ref().and_then(|r| r.receipt.clone()) {
            let request =
                SlackApiChatUpdateRequest::new(channel.clone(), content.clone(), SlackTs::new(ts));
            match session.chat_update(&request).await {
                Ok(updated) => return Ok(Receipt::with_id(updated.ts.0)),
                Err(slack_morphism::errors::SlackClientError::ApiError(e))
                    if e.code == "message_not_found" || e.code == "cant_update_message" =>
                {
                    // Gone or too old to edit: post the correction instead.
                }
                Err(e) => return Err(client::classify(&e)),
            }
        }
        let request = SlackApiChatPostMessageRequest::new(channel, content);
        let posted = session
            .chat_post_message(&request)
            .await
            .map_err(|e| client::classify(&e))?;
        Ok(Receipt::with_id(posted.ts.0))
    }

    fn recipients(&self) -> Vec<Recipient> {
        self.config.channels.iter().map(Recipient::new).collect()
    }

    fn limits(&self) -> Limits {
        Limits {
            global: vec![],
            per_recipient: vec![Rate::per_second(self.config.per_channel_per_second)],
            ..Limits::default()
        }
    }

    async fn healthcheck(&self) -> Result<(), SinkError> {
        self.client
            .open_session(&self.token)
            .auth_test()
            .await
            .map(|_| ())
            .map_err(|e| client::classify(&e))
    }
}
