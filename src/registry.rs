//! Where configured sinks become running sinks: each is built by its plug-in
//! ([`crate::plugins`]); sinks added in code (tests, embedding herald as a library) go through
//! the same [`Registry::add`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use sink_api::plugin::Task;
use sink_api::{Built, Delivery, History, Sink};

use crate::broadcast;
use crate::config::{Config, RouteConfig};
use crate::dispatch::{self, WorkerContext};
use crate::plugins::Host;
use crate::routing::Route;

type Start = Box<dyn FnOnce(WorkerContext) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// A task a sink runs besides delivering (reading bot commands), stopped by the token.
pub struct Listener {
    /// The sink instance id.
    pub id: String,
    /// What the task is, for logs.
    pub name: &'static str,
    run: Task,
}

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listener")
            .field("id", &self.id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Listener {
    /// The task (a factory: it may be started again on another instance's failover).
    pub fn task(&self) -> Task {
        std::sync::Arc::clone(&self.run)
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

/// A sink ready to start: its routing and a way to spawn its worker (point-to-point sinks)
/// or follower (broadcast sinks).
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
#[derive(Default)]
pub struct Registry {
    /// The sinks.
    pub entries: Vec<Entry>,
    /// Routes sinks serve (streams, inbound webhooks).
    pub routers: Vec<Router>,
    /// Sinks that keep recent notifications for late clients, by sink id: refilled at
    /// startup, closed at shutdown.
    pub histories: Vec<(String, Arc<dyn History>)>,
    /// Command readers and other sink tasks.
    pub listeners: Vec<Listener>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("entries", &self.entries)
            .field("routers", &self.routers.len())
            .field("listeners", &self.listeners)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// Builds every sink of `config` through its plug-in.
    ///
    /// # Errors
    /// A sink whose client cannot be built.
    pub fn from_config(config: &Config, host: &Host<'_>) -> Result<Self, RegistryError> {
        let mut registry = Self::default();
        for (id, sink) in &config.sinks {
            sink.spec
                .build(id, &sink.route, host, &mut registry)
                .map_err(|e| RegistryError {
                    id: id.clone(),
                    message: sink_api::error_chain(&*e),
                })?;
        }
        Ok(registry)
    }

    /// Adds a sink instance under `id`.
    pub fn add<S: Sink>(&mut self, id: &str, sink: S, route: &RouteConfig, default_locale: &str) {
        let route =
            Route::new(id, route, sink.recipients(), default_locale).with_delivery(S::DELIVERY);
        let start: Start = match S::DELIVERY {
            Delivery::PointToPoint => Box::new(move |ctx| Box::pin(dispatch::run(sink, ctx))),
            Delivery::Broadcast => Box::new(move |ctx| Box::pin(broadcast::follow(sink, ctx))),
        };
        self.entries.push(Entry {
            id: id.to_owned(),
            route,
            start,
        });
    }

    /// Adds a sink a plug-in built, with its routes, tasks and history.
    pub fn add_built<S: Sink>(
        &mut self,
        id: &str,
        built: Built<S>,
        route: &RouteConfig,
        default_locale: &str,
    ) {
        self.routers.extend(built.router);
        if let Some(history) = built.history {
            self.histories.push((id.to_owned(), history));
        }
        for (name, task) in built.tasks {
            self.listeners.push(Listener {
                id: id.to_owned(),
                name,
                run: task,
            });
        }
        self.add(id, built.sink, route, default_locale);
    }

    /// Adds everything `other` holds (the sinks added in code) after this registry's own.
    pub fn extend(&mut self, other: Self) {
        self.entries.extend(other.entries);
        self.routers.extend(other.routers);
        self.histories.extend(other.histories);
        self.listeners.extend(other.listeners);
    }

    /// The routes of every sink, for the store.
    pub fn routes(&self) -> Vec<Route> {
        self.entries.iter().map(|e| e.route.clone()).collect()
    }
}
