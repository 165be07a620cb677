//! Builds herald from a validated [`Config`] and runs it: startup in dependency order, shutdown
//! as a protocol (stop polling and accepting, drain deliveries under a deadline, close streams,
//! close the store).

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use sink_api::{Delivery, LocalRelay, Relay, Sink};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{Config, RouteConfig};
use crate::dispatch::WorkerContext;
use crate::http::{self, AppState};
use crate::liveness::Liveness;
use crate::outbox::Outbox;
use crate::plugins::Host;
use crate::poller::{PollerContext, PollerEntry};
use crate::registry::Registry;
use crate::relay::{self, StoreRelay};
use crate::render::Renderer;
use crate::signal::Wakers;
use crate::sources::{Cadence, Source};
use crate::store::{Backend, Store};
use crate::subscriptions::Service;

/// Installs the process's one rustls crypto provider (ring). Idempotent.
pub fn install_crypto_provider() {
    // An error means a provider is installed already, which is all we need.
    let _already = rustls::crypto::ring::default_provider().install_default();
}

/// Assembles herald; add sinks and sources in code before [`AppBuilder::build`].
#[derive(Debug)]
pub struct AppBuilder {
    config: Config,
    registry: Registry,
    sources: Vec<PollerEntry>,
    listener: Option<TcpListener>,
    clock: crate::clock::Clock,
}

/// herald, connected and ready to run.
#[derive(Debug)]
pub struct App {
    config: Config,
    store: Store,
    renderer: Arc<Renderer>,
    registry: Registry,
    sources: Vec<PollerEntry>,
    listener: Option<TcpListener>,
    wakers: Wakers,
    /// Broadcast sinks: the newest outbox id each one's history holds.
    served_up_to: BTreeMap<String, i64>,
    finished: Arc<Notify>,
    liveness: Liveness,
    /// On PostgreSQL: the relay to the other instances and its writer, started with the
    /// listener.
    relay: Option<(Arc<StoreRelay>, relay::Writer)>,
    /// The wall clock quiet hours are read against.
    clock: crate::clock::Clock,
}

impl App {
    /// Starts assembling herald from `config` (sources and sinks of the config are built by
    /// `build`).
    pub fn builder(config: Config) -> AppBuilder {
        AppBuilder {
            config,
            registry: Registry::default(),
            sources: Vec::new(),
            listener: None,
            clock: crate::clock::Clock::system(),
        }
    }
}

impl AppBuilder {
    /// Adds a sink built in code (a test fake, a custom platform).
    #[must_use]
    pub fn sink<S: Sink>(mut self, id: &str, sink: S, route: &RouteConfig) -> Self {
        let locale = self.config.render.default_locale.clone();
        self.registry.add(id, sink, route, &locale);
        self
    }

    /// Adds a source built in code.
    #[must_use]
    pub fn source<S: Source>(mut self, id: &str, source: S, cadence: Cadence) -> Self {
        self.sources.push(PollerEntry::new(id, source, cadence));
        self
    }

    /// Serves HTTP on this listener instead of binding `http.listen` (tests bind port 0).
    #[must_use]
    pub fn listener(mut self, listener: TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Reads quiet hours against `clock` instead of the system's (tests of a night when the
    /// clocks change).
    #[must_use]
    pub fn clock(mut self, clock: crate::clock::Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Loads templates, connects and migrates the store, builds sources and sinks, and binds
    /// the HTTP listener. Nothing is polled or delivered until [`App::run`].
    ///
    /// # Errors
    /// Bad templates, an unreachable store, a failed migration, a replay that cannot be read,
    /// or an address that cannot be bound; each with context.
    pub async fn build(self) -> anyhow::Result<App> {
        install_crypto_provider();
        let config = self.config;
        let renderer = Arc::new(
            Renderer::new(
                config.render.templates_dir.as_deref(),
                &config.render.default_locale,
            )
            .context("cannot load templates")?,
        );
        for (id, sink) in &config.sinks {
            if let Some(locale) = &sink.route.locale {
                anyhow::ensure!(
                    renderer.has_locale(locale),
                    "sinks.{id}.locale: no templates for locale `{locale}`"
                );
            }
        }
        if config.dispatch.claim_ttl.is_some() {
            tracing::warn!(
                "dispatch.claim_ttl is no longer used (one instance at a time delivers each sink); remove it from the config"
            );
        }
        let store = Store::connect(&config.store)
            .await
            .with_context(|| format!("cannot open the store at {}", config.store.redacted_url()))?
            .with_fusion(crate::fusion::Policy {
                links: config.links.clone(),
                confirm: config.detect.confirm.clone(),
                confirm_timeout: config.detect.confirm_timeout,
                stall_after: config.detect.stall_after,
            });
        let applied = store.migrate().await.context("cannot migrate the store")?;
        if applied > 0 {
            tracing::info!(applied, "store migrated");
        }
        let instance = format!("{}-{:08x}", std::process::id(), rand::random::<u32>());
        let (relay, relay_link): (Arc<dyn Relay>, _) = if store.backend() == Backend::Postgres {
            let (relay, writer) = StoreRelay::new(store.clone(), &instance);
            (relay.clone(), Some((relay, writer)))
        } else {
            (Arc::new(LocalRelay::new()), None)
        };
        let liveness = Liveness::start(
            store.clone(),
            instance,
            config.store.heartbeat,
            config.store.instance_timeout,
        )
        .await
        .context("cannot register this instance in the store")?;
        #[cfg(feature = "twilio")]
        let sms = crate::sms::Slot::default();
        let commands = |sink: &str, edits: bool| -> sink_api::Commands {
            let service = Service::new(store.clone(), sink, Arc::clone(&renderer))
                .with_ticker(edits)
                .with_time_zone(&config.render.time_zone);
            #[cfg(feature = "twilio")]
            let service = service.with_sms(sms.clone());
            Arc::new(service)
        };
        let host = Host {
            config: &config,
            store: &store,
            renderer: &renderer,
            commands: &commands,
            relay: &relay,
            #[cfg(feature = "twilio")]
            sms: &sms,
        };
        let mut registry = Registry::from_config(&config, &host)?;
        registry.extend(self.registry);
        let mut sources = Vec::new();
        for (id, source) in &config.sources {
            sources.push(
                source
                    .spec
                    .build(id, source.cadence, &store)
                    .with_context(|| format!("sources.{id}"))?,
            );
        }
        sources.extend(self.sources);
        let listener = match (self.listener, config.http.enabled) {
            (Some(l), _) => Some(l),
            (None, true) => Some(TcpListener::bind(config.http.listen).await.with_context(
                || format!("cannot listen on {} (http.listen)", config.http.listen),
            )?),
            (None, false) => None,
        };
        let wakers = Wakers::new(
            registry
                .entries
                .iter()
                .map(|e| e.id.clone())
                .chain([crate::signal::MESSAGES.to_owned()])
                .chain(sources.iter().map(|s| crate::signal::poll_waker(&s.id))),
        );
        let mut app = App {
            config,
            store,
            renderer,
            registry,
            sources,
            listener,
            wakers,
            served_up_to: BTreeMap::new(),
            finished: Arc::new(Notify::new()),
            liveness,
            relay: relay_link,
            clock: self.clock,
        };
        app.served_up_to = app
            .preload_streams()
            .await
            .context("cannot read the history of the broadcast sinks")?;
        Ok(app)
    }
}

impl App {
    /// The address the HTTP server listens on, if it serves HTTP.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The store (tests and the CLI inspect it).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A handle notified each time a source finishes (replays that end).
    pub fn finished_sources(&self) -> (Arc<Notify>, usize) {
        (Arc::clone(&self.finished), self.sources.len())
    }

    /// Seeds broadcast sinks' histories (the SSE stream's) with their last notifications, so
    /// clients resume with `Last-Event-ID` across restarts, and returns where each one's
    /// follower starts: after the newest of them.
    async fn preload_streams(&self) -> Result<BTreeMap<String, i64>, crate::store::StoreError> {
        let mut served_up_to = BTreeMap::new();
        for entry in &self.registry.entries {
            if entry.route.delivery != Delivery::Broadcast {
                continue;
            }
            let id = &entry.id;
            let legacy = self.store.settle_broadcast(id).await?;
            if legacy > 0 {
                tracing::info!(sink = %id, rows = legacy, "settled deliveries queued for this broadcast sink by an older version");
            }
            let history = self.registry.histories.iter().find(|(h, _)| h == id);
            let keep = history.map_or(1, |(_, h)| h.capacity().max(1));
            let rows = self.store.broadcast_recent(id, keep).await?;
            served_up_to.insert(id.clone(), rows.last().map_or(0, |q| q.id));
            if let Some((_, history)) = history {
                history.preload(
                    rows.into_iter()
                        .filter_map(|q| {
                            let rendered = self.renderer.render(&q.event, &q.locale).ok()?;
                            Some(crate::dispatch::notification(&q, rendered, None))
                        })
                        .collect(),
                );
            }
        }
        Ok(served_up_to)
    }

    /// Runs until `shutdown` resolves, then shuts down in order.
    ///
    /// # Errors
    /// When the HTTP server fails.
    pub async fn run(mut self, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        let routes = Arc::new(self.registry.routes());
        let outbox = Outbox::new(self.store.clone(), Arc::clone(&routes), self.wakers.clone());
        let specs = self
            .config
            .sinks
            .iter()
            .map(|(id, sink)| (id.clone(), Arc::clone(&sink.spec)))
            .collect();
        let messages = crate::messages::Messages::new(
            self.store.clone(),
            routes,
            &specs,
            Arc::clone(&self.renderer),
            self.wakers.clone(),
        );
        let health = crate::telemetry::Sources::default();
        let tracker = TaskTracker::new();
        let stop_polling = CancellationToken::new();
        let drain = CancellationToken::new();
        let stop_http = CancellationToken::new();

        let http = self.listener.map(|listener| {
            let state = AppState {
                store: self.store.clone(),
                outbox: outbox.clone(),
                messages: messages.clone(),
                ingest: crate::ingest::Ingest::new(
                    self.store.clone(),
                    self.wakers.clone(),
                    self.sources
                        .iter()
                        .map(|s| {
                            let push = self
                                .config
                                .sources
                                .get(&s.id)
                                .is_some_and(|c| c.spec.kind() == crate::sources::push::KIND);
                            (s.id.clone(), push)
                        })
                        .collect(),
                ),
                auth: http::auth::Auth::new(&self.config.http),
                ops: http::ops::Ops {
                    scraper: self.config.metrics.enabled.then(|| {
                        crate::telemetry::Scraper::new(
                            self.store.clone(),
                            self.registry.entries.iter().map(|e| e.id.clone()).collect(),
                            self.registry.histories.clone(),
                        )
                    }),
                    metrics_require_token: self.config.metrics.require_token,
                    sources: health.clone(),
                },
            };
            let router = http::router(state, self.registry.routers);
            let addr = listener.local_addr().ok();
            tracing::info!(address = ?addr, "serving http");
            let limits = http::serve::Limits {
                header_timeout: self.config.http.header_timeout,
                max_pending: self.config.http.max_pending_connections,
                write_timeout: self.config.http.write_timeout,
            };
            tokio::spawn(http::serve::serve(
                listener,
                router,
                limits,
                stop_http.clone(),
            ))
        });

        let stop_signals = CancellationToken::new();
        let signals = TaskTracker::new();
        if let Some((relay, writer)) = self.relay.take() {
            signals.spawn(writer.run(stop_signals.clone()));
            signals.spawn(crate::signal::listen(
                self.config.store.url.clone(),
                self.wakers.clone(),
                relay,
                stop_signals.clone(),
            ));
        }
        let followers = self
            .registry
            .entries
            .iter()
            .filter(|e| e.route.delivery == Delivery::Broadcast)
            .map(|e| e.id.clone())
            .collect();
        signals.spawn(crate::signal::sweep(
            self.store.clone(),
            self.wakers.clone(),
            followers,
            stop_signals.clone(),
        ));
        signals.spawn(crate::messages::scheduler::run(
            messages.clone(),
            self.wakers
                .get(crate::signal::MESSAGES)
                .unwrap_or_else(|| Arc::new(Notify::new())),
            stop_signals.clone(),
        ));
        signals.spawn(crate::retention::run(
            self.store.clone(),
            self.config.store.retention,
            stop_signals.clone(),
        ));
        signals.close();
        let lease = crate::exclusive::Lease {
            store: self.store.clone(),
            instance: self.liveness.instance().to_owned(),
            ttl: self.config.store.lease_ttl,
            freed: self.liveness.freed(),
        };
        let mut workers = Vec::new();
        for entry in self.registry.entries {
            // With instances sharing the store, one at a time delivers a point-to-point sink.
            let shared = self.store.backend() == Backend::Postgres
                && entry.route.delivery == Delivery::PointToPoint;
            let ctx = WorkerContext {
                sink_id: entry.id.clone(),
                store: self.store.clone(),
                renderer: Arc::clone(&self.renderer),
                config: self.config.dispatch.clone(),
                instance: self.liveness.instance().to_owned(),
                wake: self
                    .wakers
                    .get(&entry.id)
                    .unwrap_or_else(|| Arc::new(Notify::new())),
                drain: drain.clone(),
                served_up_to: self.served_up_to.get(&entry.id).copied().unwrap_or(0),
                lease: shared.then(|| lease.clone()),
                clock: self.clock.clone(),
            };
            workers.push(tracker.spawn(entry.start(ctx)));
        }
        let stop_liveness = CancellationToken::new();
        let liveness = tokio::spawn(
            self.liveness
                .clone()
                .run(self.wakers.clone(), stop_liveness.clone()),
        );
        let pollers = TaskTracker::new();
        for entry in self.sources {
            let ctx = PollerContext {
                source_id: entry.id.clone(),
                store: self.store.clone(),
                outbox: outbox.clone(),
                backlog: self.config.detect.backlog,
                lease_ttl: self.config.store.lease_ttl,
                instance: self.liveness.instance().to_owned(),
                freed: self.liveness.freed(),
                wake: self
                    .wakers
                    .get(&crate::signal::poll_waker(&entry.id))
                    .unwrap_or_else(|| Arc::new(Notify::new())),
                cancel: stop_polling.clone(),
                finished: Arc::clone(&self.finished),
                health: health.clone(),
            };
            pollers.spawn(entry.start(ctx));
        }
        for listener in self.registry.listeners {
            tracing::debug!(sink = %listener.id, task = listener.name, "starting a sink task");
            let name = format!("task:{}:{}", listener.id, listener.name);
            pollers.spawn(crate::exclusive::run(
                lease.clone(),
                name,
                listener.task(),
                stop_polling.clone(),
            ));
        }
        pollers.close();
        tracker.close();
        tracing::info!(
            sources = self.config.sources.len(),
            sinks = workers.len(),
            "herald is running"
        );

        shutdown.await;
        tracing::info!("shutting down: no new polls or connections; draining deliveries");
        stop_polling.cancel();
        stop_http.cancel();
        pollers.wait().await;
        drain.cancel();
        let grace = self.config.dispatch.shutdown_grace + std::time::Duration::from_secs(2);
        if tokio::time::timeout(grace, tracker.wait()).await.is_err() {
            tracing::warn!("some sink workers did not stop in time");
        }
        stop_signals.cancel();
        signals.wait().await;
        stop_liveness.cancel();
        if let Err(error) = liveness.await {
            tracing::error!(%error, "the liveness task failed");
        }
        self.liveness.stop().await;
        for (_, history) in &self.registry.histories {
            history.close();
        }
        if let Some(server) = http {
            match tokio::time::timeout(std::time::Duration::from_secs(5), server).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => return Err(e).context("http server failed"),
                Ok(Err(e)) => tracing::error!(error = %e, "http server task failed"),
                Err(_) => tracing::warn!("http connections did not close in time"),
            }
        }
        self.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}
