//! `herald replay DIR`: a recorded match through the whole pipeline, printed as it unfolds.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};

use crate::app::App;
use crate::config::{Backlog, Config, RouteConfig, StoreConfig};
use crate::sources::Cadence;
use crate::sources::replay::{self, ReplaySource};

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
            // Messages go to stdout (pipes included); the bar lives on stderr and is hidden
            // while a line is printed.
            printer.suspend(|| println!("{line}"));
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
