//! The one place where sink configuration becomes running sinks: a `match` with one arm per
//! sink type (each behind its cargo feature). Sinks added in code (tests, embedding herald as
//! a library) go through the same [`Registry::add`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use axum::Router;
use sink_api::{Commands, Sink};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, RouteConfig};
use crate::dispatch::{self, WorkerContext};
use crate::routing::Route;

type Start = Box<dyn FnOnce(WorkerContext) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

type Run = Box<dyn FnOnce(CancellationToken) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// A task a sink runs besides delivering (reading bot commands), stopped by the token.
pub struct Listener {
    /// The sink instance id.
    pub id: String,
    run: Run,
}

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listener")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Listener {
    /// The task's future; it ends when `stop` is cancelled.
    pub fn start(self, stop: CancellationToken) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        (self.run)(stop)
    }
}

/// Why a sink could not be built from its config.
#[derive(Debug, thiserror::Error)]
#[error("sinks.{id}: {message}")]
pub struct RegistryError {
    /// The sink instance id.
    pub id: String,
    /// What went wrong.
    pub message: String,
}

/// A sink ready to start: its routing and a way to spawn its worker.
pub struct Entry {
    /// The sink instance id.
    pub id: String,
    /// Its routing.
    pub route: Route,
    start: Start,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("id", &self.id)
            .field("route", &self.route)
            .finish_non_exhaustive()
    }
}

impl Entry {
    /// The future of this sink's worker.
    pub fn start(self, ctx: WorkerContext) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        (self.start)(ctx)
    }
}

/// Every configured sink, plus what some of them add to the HTTP server.
#[derive(Debug, Default)]
pub struct Registry {
    /// The sinks.
    pub entries: Vec<Entry>,
    /// Routes sinks serve (the SSE stream).
    pub routers: Vec<Router>,
    /// SSE hubs, to preload their history at startup and close them at shutdown.
    #[cfg(feature = "sse")]
    pub sse: Vec<(String, sink_sse::Hub)>,
    /// Command readers and other sink tasks, by sink id.
    pub listeners: Vec<Listener>,
}

impl Registry {
    /// Builds every sink of `config`. Sinks that take bot commands get the handler
    /// `commands(id)` returns for their instance.
    ///
    /// # Errors
    /// A sink whose client cannot be built.
    #[cfg_attr(
        not(any(feature = "telegram", feature = "slack")),
        allow(unused_variables)
    )]
    pub fn from_config(
        config: &Config,
        commands: &dyn Fn(&str) -> Commands,
    ) -> Result<Self, RegistryError> {
        let mut registry = Self::default();
        let locale = &config.render.default_locale;
        for (id, sink) in &config.sinks {
            match &sink.kind {
                #[cfg(feature = "console")]
                crate::config::SinkKind::Console(c) => {
                    registry.add(
                        id,
                        sink_console::ConsoleSink::new(c.clone()),
                        &sink.route,
                        locale,
                    );
                }
                #[cfg(feature = "sse")]
                crate::config::SinkKind::Sse(c) => {
                    let sse = sink_sse::SseSink::new(c.clone());
                    registry.routers.push(sse.router());
                    registry.sse.push((id.clone(), sse.hub().clone()));
                    registry.add(id, sse, &sink.route, locale);
                }
                #[cfg(feature = "telegram")]
                crate::config::SinkKind::Telegram(c) => {
                    let telegram =
                        sink_telegram::TelegramSink::new(c.clone()).map_err(|e| RegistryError {
                            id: id.clone(),
                            message: e.to_string(),
                        })?;
                    if c.commands {
                        let handler = commands(id);
                        let reader = telegram.clone();
                        registry.listeners.push(Listener {
                            id: id.clone(),
                            run: Box::new(move |stop| {
                                Box::pin(async move { reader.listen(handler, stop).await })
                            }),
                        });
                    }
                    registry.add(id, telegram, &sink.route, locale);
                }
                #[cfg(feature = "slack")]
                crate::config::SinkKind::Slack(c) => {
                    let slack =
                        sink_slack::SlackSink::new(c.clone()).map_err(|e| RegistryError {
                            id: id.clone(),
                            message: e.to_string(),
                        })?;
                    registry
                        .routers
                        .push(sink_slack::router(slack.clone(), id, commands(id)));
                    registry.add(id, slack, &sink.route, locale);
                }
                #[cfg(feature = "discord")]
                crate::config::SinkKind::Discord(c) => {
                    let discord = sink_discord::DiscordSink::new(c.clone());
                    registry
                        .routers
                        .push(sink_discord::router(&discord, id, commands(id)));
                    if c.register_commands {
                        let registrar = discord.clone();
                        registry.listeners.push(Listener {
                            id: id.clone(),
                            run: Box::new(move |stop| {
                                Box::pin(register_discord_commands(registrar, stop))
                            }),
                        });
                    }
                    registry.add(id, discord, &sink.route, locale);
                }
                #[cfg(feature = "twilio")]
                crate::config::SinkKind::Twilio(c) => {
                    let twilio =
                        sink_twilio::TwilioSink::new((**c).clone()).map_err(|e| RegistryError {
                            id: id.clone(),
                            message: e.to_string(),
                        })?;
                    registry.add(id, twilio, &sink.route, locale);
                }
                #[cfg(feature = "x")]
                crate::config::SinkKind::X(c) => {
                    let x = sink_x::XSink::new(c.clone()).map_err(|e| RegistryError {
                        id: id.clone(),
                        message: e.to_string(),
                    })?;
                    registry.add(id, x, &sink.route, locale);
                }
            }
        }
        Ok(registry)
    }

    /// Adds a sink instance under `id`.
    pub fn add<S: Sink>(&mut self, id: &str, sink: S, route: &RouteConfig, default_locale: &str) {
        let route = Route::new(id, route, sink.recipients(), default_locale);
        self.entries.push(Entry {
            id: id.to_owned(),
            route,
            start: Box::new(move |ctx| Box::pin(dispatch::run(sink, ctx))),
        });
    }

    /// The routes of every sink, for the store.
    pub fn routes(&self) -> Vec<Route> {
        self.entries.iter().map(|e| e.route.clone()).collect()
    }
}

/// Registers Discord's slash commands, retrying with backoff until it works or herald stops.
#[cfg(feature = "discord")]
async fn register_discord_commands(sink: sink_discord::DiscordSink, stop: CancellationToken) {
    let mut wait = std::time::Duration::from_secs(2);
    loop {
        match sink_discord::register_commands(&sink).await {
            Ok(()) => {
                tracing::info!("Discord slash commands registered");
                return;
            }
            Err(error) => {
                tracing::warn!(error = %crate::dispatch::error_chain(&error), "cannot register Discord slash commands; retrying");
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(std::time::Duration::from_secs(300));
    }
}
