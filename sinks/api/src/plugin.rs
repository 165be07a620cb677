//! The plug-in contract: the one type a sink crate exports so that the core parses, checks,
//! describes, builds and starts its sink without knowing anything else about it.
//!
//! A sink crate implements [`Plugin`]; the core's plugin list names it once, behind the
//! crate's cargo feature. Everything else (the `[sinks.<id>]` table, `check-config`, the
//! registry, startup and shutdown) goes through this trait.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use serde::de::DeserializeOwned;
pub use tokio_util::sync::CancellationToken;

use crate::relay::{LocalRelay, Relay};
use crate::{BoxError, Commands, Notification, Sink};

/// A sink type: its config, its checks and how to build it.
pub trait Plugin: 'static {
    /// Other `type` names it answers to in config (`twitter` for `x`); its own is the sink's
    /// [`Sink::KIND`].
    const ALIASES: &'static [&'static str] = &[];

    /// The platform keys of a `[sinks.<id>]` table (routing keys are the core's), with
    /// `#[serde(deny_unknown_fields)]`.
    type Config: DeserializeOwned + fmt::Debug + Send + Sync + 'static;

    /// The sink it builds.
    type Sink: Sink;

    /// Checks what types cannot; pure (no files, no network).
    ///
    /// # Errors
    /// The first problem, with the key it is about.
    fn validate(config: &Self::Config) -> Result<(), Invalid> {
        let _ = config;
        Ok(())
    }

    /// Fixed HTTP paths the sink serves (`/stream`): two sinks cannot serve the same one, so
    /// the core refuses such a config before starting.
    fn paths(config: &Self::Config) -> Vec<&'static str> {
        let _ = config;
        Vec::new()
    }

    /// What `herald check-config` prints after the sink's id, type and locale: endpoints and
    /// options, never secrets. Empty for nothing.
    fn describe(config: &Self::Config) -> String {
        let _ = config;
        String::new()
    }

    /// Checks a recipient given by hand (the messages API, `herald messages send`) before
    /// anything is queued: a numeric chat id for Telegram, an E.164 number for SMS. The
    /// default takes any non-empty text up to 200 characters.
    ///
    /// # Errors
    /// What is wrong with `to`, in one sentence that may quote it.
    fn check_recipient(config: &Self::Config, to: &str) -> Result<(), String> {
        let _ = config;
        if to.trim().is_empty() || to.chars().count() > 200 {
            return Err("must be 1 to 200 characters".to_owned());
        }
        Ok(())
    }

    /// Builds the sink and what it needs served or run.
    ///
    /// # Errors
    /// When a client cannot be built (no TLS provider).
    fn build(config: &Self::Config, ctx: &Context) -> Result<Built<Self::Sink>, BoxError>;
}

/// A config problem: the key inside the sink's table (empty for the table itself) and what is
/// wrong, in one sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The key, relative to `sinks.<id>` (`bot_token`, `signup.countries`), or empty.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl Invalid {
    /// A problem with `key`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
        }
    }
}

impl From<(&'static str, String)> for Invalid {
    fn from((key, message): (&'static str, String)) -> Self {
        Self::new(key, message)
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.key, self.message)
        }
    }
}

impl std::error::Error for Invalid {}

/// What the core gives a plugin to build one sink instance.
#[derive(Clone)]
pub struct Context {
    id: String,
    commands: Commands,
    relay: Arc<dyn Relay>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Context {
    /// The context of the instance `id`, whose bot commands go to `commands`, with a relay
    /// within this process.
    pub fn new(id: &str, commands: Commands) -> Self {
        Self {
            id: id.to_owned(),
            commands,
            relay: Arc::new(LocalRelay::new()),
        }
    }

    /// The same context with `relay` to the other instances.
    #[must_use]
    pub fn with_relay(mut self, relay: Arc<dyn Relay>) -> Self {
        self.relay = relay;
        self
    }

    /// The instance id (`[sinks.<id>]`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The core's handler for the bot commands this instance receives.
    pub fn commands(&self) -> Commands {
        Arc::clone(&self.commands)
    }

    /// Messages to and from this sink's copies on the other herald instances.
    pub fn relay(&self) -> Arc<dyn Relay> {
        Arc::clone(&self.relay)
    }
}

/// A task a sink runs besides delivering (reading bot commands, registering them), until the
/// token is cancelled. Where several herald instances share a store, one of them runs it at a
/// time (the holder of a lease), so it may be started again on another instance: it is a
/// factory, called for each start.
pub type Task =
    Arc<dyn Fn(CancellationToken) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// A sink ready to run, with what it needs served (inbound webhooks, streams) and run (command
/// readers, registrations).
pub struct Built<S> {
    /// The sink.
    pub sink: S,
    /// Routes merged into herald's HTTP server.
    pub router: Option<Router>,
    /// Tasks started with the pollers and stopped with them.
    pub tasks: Vec<(&'static str, Task)>,
    /// Recent notifications kept for clients that join late, refilled at startup.
    pub history: Option<Arc<dyn History>>,
}

impl<S> fmt::Debug for Built<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tasks: Vec<&str> = self.tasks.iter().map(|(name, _)| *name).collect();
        f.debug_struct("Built")
            .field("router", &self.router.is_some())
            .field("tasks", &tasks)
            .field("history", &self.history.is_some())
            .finish_non_exhaustive()
    }
}

impl<S> Built<S> {
    /// Just the sink.
    pub fn new(sink: S) -> Self {
        Self {
            sink,
            router: None,
            tasks: Vec::new(),
            history: None,
        }
    }

    /// Serves `router` too.
    #[must_use]
    pub fn router(mut self, router: Router) -> Self {
        self.router = Some(router);
        self
    }

    /// Runs `task` (named for logs) until shutdown or until it returns, on one instance at a
    /// time (see [`Task`]).
    #[must_use]
    pub fn task<F, Fut>(mut self, name: &'static str, task: F) -> Self
    where
        F: Fn(CancellationToken) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.tasks
            .push((name, Arc::new(move |stop| Box::pin(task(stop)))));
        self
    }

    /// Keeps `history` filled with what was delivered before a restart.
    #[must_use]
    pub fn history(mut self, history: Arc<dyn History>) -> Self {
        self.history = Some(history);
        self
    }
}

/// A sink that replays recent notifications to clients that connect later (an SSE stream).
pub trait History: Send + Sync + 'static {
    /// How many notifications it keeps.
    fn capacity(&self) -> usize;
    /// Fills it with notifications delivered before this start, oldest first.
    fn preload(&self, notifications: Vec<Notification>);
    /// Ends every client's stream (at shutdown, after the last delivery).
    fn close(&self);
    /// How many clients are connected now (`herald_stream_clients`); `None` when the sink
    /// does not count them.
    fn clients(&self) -> Option<usize> {
        None
    }
}
