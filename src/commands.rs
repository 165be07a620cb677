//! What the CLI subcommands do, apart from parsing arguments (`main.rs`) and running the
//! service (`app.rs`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use secrecy::ExposeSecret;

use crate::app::App;
use crate::config::{Backlog, Config, RouteConfig, SinkKind, SourceKind, StoreConfig};
use crate::sources::Cadence;
use crate::sources::replay::{self, ReplaySource};
use crate::store::Store;

/// `herald check-config`: a summary of what would run, secrets redacted.
pub fn describe(config: &Config) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "configuration is valid");
    if config.http.enabled {
        let publish = if config
            .http
            .admin_token
            .as_ref()
            .is_some_and(|t| !t.expose_secret().is_empty())
        {
            "enabled (token set)"
        } else {
            "disabled (no http.admin_token)"
        };
        let _ = writeln!(
            out,
            "http:    {} (publish API {publish})",
            config.http.listen
        );
    } else {
        let _ = writeln!(out, "http:    disabled");
    }
    let _ = writeln!(out, "store:   {}", config.store.redacted_url());
    for (id, source) in &config.sources {
        let detail = match &source.kind {
            SourceKind::Replay(r) => format!("{} at {}x", r.path.display(), r.speed),
            SourceKind::Fifa(f) => format!(
                "{} competition {} season {}",
                f.endpoint, f.competition, f.season
            ),
            SourceKind::Livescore(l) => l.endpoint.clone(),
            SourceKind::FootballData(f) => {
                format!("{} ({} req/min)", f.endpoint, f.requests_per_minute)
            }
            SourceKind::ApiFootball(a) => {
                format!("{} ({} req/min)", a.endpoint, a.requests_per_minute)
            }
        };
        let _ = writeln!(out, "source:  {id} ({}) {detail}", source.kind.name());
    }
    for (id, sink) in &config.sinks {
        let kind = match &sink.kind {
            #[cfg(feature = "console")]
            SinkKind::Console(_) => "console",
            #[cfg(feature = "sse")]
            SinkKind::Sse(_) => "sse",
        };
        let locale = sink
            .route
            .locale
            .as_deref()
            .unwrap_or(&config.render.default_locale);
        let _ = writeln!(out, "sink:    {id} ({kind}, {locale})");
    }
    out
}

/// `herald migrate`: applies pending migrations.
///
/// # Errors
/// When the store cannot be reached or a migration fails.
pub async fn migrate(config: &Config) -> anyhow::Result<usize> {
    let store = Store::connect(&config.store)
        .await
        .with_context(|| format!("cannot open the store at {}", config.store.redacted_url()))?;
    let applied = store.migrate().await.context("migration failed")?;
    store.close().await;
    Ok(applied)
}

/// What `herald dead-letters` should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadLetterAction {
    /// List the newest `limit`.
    List {
        /// How many.
        limit: i64,
    },
    /// Queue one again.
    Retry(i64),
    /// Queue all again.
    RetryAll,
}

/// `herald dead-letters`: lists or re-queues deliveries that were given up on.
///
/// # Errors
/// When the store cannot be reached.
pub async fn dead_letters(config: &Config, action: DeadLetterAction) -> anyhow::Result<String> {
    let store = Store::connect(&config.store)
        .await
        .with_context(|| format!("cannot open the store at {}", config.store.redacted_url()))?;
    store.migrate().await.context("migration failed")?;
    let mut out = String::new();
    match action {
        DeadLetterAction::List { limit } => {
            let dead = store.dead_letters(limit).await?;
            if dead.is_empty() {
                out.push_str("no dead letters\n");
            }
            for d in dead {
                let at = time::OffsetDateTime::from_unix_timestamp(d.updated_at_ms / 1000)
                    .ok()
                    .and_then(|t| {
                        t.format(&time::format_description::well_known::Rfc3339)
                            .ok()
                    })
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "#{:<6} {at}  {} → {}  {} ({})  after {} attempt(s): {}",
                    d.id,
                    d.sink,
                    d.recipient,
                    d.kind,
                    d.event_id,
                    d.attempts,
                    d.last_error.unwrap_or_default()
                );
            }
        }
        DeadLetterAction::Retry(id) => {
            let n = store.requeue_dead(Some(id)).await?;
            anyhow::ensure!(n == 1, "no dead letter #{id}");
            let _ = writeln!(out, "dead letter #{id} queued again");
        }
        DeadLetterAction::RetryAll => {
            let n = store.requeue_dead(None).await?;
            let _ = writeln!(out, "{n} dead letter(s) queued again");
        }
    }
    store.close().await;
    Ok(out)
}

#[cfg(feature = "console")]
/// `herald replay DIR`: plays a fixture through the whole pipeline (a throw-away SQLite store,
/// detection, templates, the console sink) and prints each notification above a progress bar.
///
/// # Errors
/// When the fixture cannot be read or the pipeline cannot start.
pub async fn replay(
    dir: &Path,
    speed: f64,
    max_gap: Duration,
    locale: Option<String>,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        speed.is_finite() && speed > 0.0,
        "--speed must be greater than 0"
    );
    let scratch = tempfile::tempdir().context("cannot create a scratch directory")?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:40}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let progress = bar.clone();
    let source = ReplaySource::open(replay::Config {
        path: PathBuf::from(dir),
        speed,
        max_gap,
        repeat: false,
    })
    .with_context(|| format!("cannot open the fixture {}", dir.display()))?
    .with_progress(move |p| {
        progress.set_length(u64::try_from(p.steps).unwrap_or(0));
        progress.set_position(u64::try_from(p.step + 1).unwrap_or(0));
        progress.set_message(p.label.clone());
    });
    let mut config = Config {
        sources: Default::default(),
        sinks: Default::default(),
        ..Config::default()
    };
    config.http.enabled = false;
    config.detect.backlog = Backlog::Notify;
    config.store = StoreConfig {
        url: format!("sqlite://{}", scratch.path().join("replay.db").display()),
        max_connections: 2,
        ..StoreConfig::default()
    };
    let printer = bar.clone();
    let console =
        sink_console::ConsoleSink::with_output(sink_console::Config::default(), move |line| {
            printer.println(line);
        });
    let route = RouteConfig {
        locale,
        ..RouteConfig::default()
    };
    let app = App::builder(config)
        .source("replay", source, Cadence::default())
        .sink("console", console, &route)
        .build()
        .await?;
    let (finished, _) = app.finished_sources();
    app.run(async move {
        tokio::select! {
            () = finished.notified() => {}
            () = crate::shutdown_signal() => {}
        }
    })
    .await?;
    bar.finish_with_message("done");
    Ok(())
}
