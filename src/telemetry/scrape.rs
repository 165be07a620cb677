//! A `/metrics` scrape: the gauges read at scrape time (the outbox per sink, stream clients,
//! the process), then everything rendered in Prometheus' text format.

use std::sync::Arc;

use metrics::gauge;
use metrics_exporter_prometheus::PrometheusHandle;
use sink_api::History;

use super::{DEAD_LETTERS, OUTBOX_OLDEST, OUTBOX_PENDING, STREAM_CLIENTS};
use crate::store::{Store, StoreError};

/// Renders `/metrics`.
#[derive(Clone)]
pub struct Scraper {
    handle: PrometheusHandle,
    store: Store,
    /// Every sink id, so a sink with nothing waiting reports 0, not its last value.
    sinks: Arc<[String]>,
    /// Sinks that count their clients.
    streams: Arc<[(String, Arc<dyn History>)]>,
    process: Arc<metrics_process::Collector>,
}

impl std::fmt::Debug for Scraper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scraper")
            .field("sinks", &self.sinks)
            .finish_non_exhaustive()
    }
}

impl Scraper {
    /// A scraper of `sinks` (ids) and `streams` over the process's recorder.
    pub fn new(store: Store, sinks: Vec<String>, streams: Vec<(String, Arc<dyn History>)>) -> Self {
        let handle = super::install();
        let process = metrics_process::Collector::default();
        process.describe();
        Self {
            handle,
            store,
            sinks: sinks.into(),
            streams: streams.into(),
            process: Arc::new(process),
        }
    }

    /// Reads the gauges and renders every metric.
    ///
    /// # Errors
    /// The store does not answer (the gauges it feeds would be wrong).
    pub async fn render(&self) -> Result<String, StoreError> {
        let stats = self.store.outbox_stats().await?;
        for sink in self.sinks.iter() {
            let s = stats.get(sink).cloned().unwrap_or_default();
            gauge!(OUTBOX_PENDING, "sink" => sink.clone()).set(s.pending as f64);
            gauge!(OUTBOX_OLDEST, "sink" => sink.clone()).set(s.oldest_pending_ms as f64 / 1000.0);
            gauge!(DEAD_LETTERS, "sink" => sink.clone()).set(s.dead as f64);
        }
        for (sink, history) in self.streams.iter() {
            if let Some(n) = history.clients() {
                gauge!(STREAM_CLIENTS, "sink" => sink.clone()).set(n as f64);
            }
        }
        self.process.collect();
        self.handle.run_upkeep();
        Ok(self.handle.render())
    }
}
