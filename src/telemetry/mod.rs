//! What operators watch: Prometheus metrics (the names, the recorder, what each part of herald
//! records), source health for `/readyz`, and the person's view of them (`herald status`).
//!
//! Counters and histograms are recorded where things happen (a poll, a delivery); gauges that
//! describe the store (queue depth, dead letters) and the streams (connected clients) are read
//! when `/metrics` is scraped, so they are never stale and cost nothing between scrapes.

pub mod health;
pub mod scrape;
pub mod status;

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub use health::{SourceHealth, Sources};
pub use scrape::Scraper;

/// Goal-to-phone: from the moment the event happened to the platform's acceptance.
pub const DELIVERY_LATENCY: &str = "herald_delivery_latency_seconds";
/// From the start of a poll to its events committed.
pub const DETECT_LATENCY: &str = "herald_detect_latency_seconds";
/// Deliveries by sink and outcome.
pub const DELIVERIES: &str = "herald_deliveries_total";
/// Polls by source and outcome.
pub const POLLS: &str = "herald_polls_total";
/// How long a poll's requests took.
pub const POLL_DURATION: &str = "herald_poll_duration_seconds";
/// Requests left in the provider's quota, as its last answer said.
pub const QUOTA_REMAINING: &str = "herald_provider_quota_remaining";
/// Deliveries waiting in the outbox.
pub const OUTBOX_PENDING: &str = "herald_outbox_pending";
/// Age of the oldest delivery waiting in the outbox.
pub const OUTBOX_OLDEST: &str = "herald_outbox_oldest_pending_seconds";
/// Deliveries given up on.
pub const DEAD_LETTERS: &str = "herald_dead_letters";
/// Clients connected to a stream (SSE, Socket.IO).
pub const STREAM_CLIENTS: &str = "herald_stream_clients";
/// Events a source reported first (of several sources for one match, the one notified).
pub const EVENTS_FIRST: &str = "herald_source_events_first_total";
/// How long after the fastest source a source reported an incident of a shared match.
pub const SOURCE_LAG: &str = "herald_source_lag_seconds";

/// Buckets of the goal-to-phone latency: a poll interval or two is the norm, minutes are an
/// incident.
const LATENCY_BUCKETS: [f64; 14] = [
    0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];
/// Buckets of a poll and of its detection: milliseconds to a request timeout.
const POLL_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A provider's event time counts for the latency only when it is at most this much older
/// than its detection: a replayed match's events happened years ago, and a clock far off is
/// no measure of herald.
const MAX_PROVIDER_LEAD_MS: i64 = 6 * 3600 * 1000;

/// The process's recorder, installed once; every `App` in the process shares it.
static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder (once per process) and returns its handle. When another
/// recorder was installed first (an embedding program's), herald's metrics go there and the
/// handle renders only what reaches it.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(DELIVERY_LATENCY.into()), &LATENCY_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(DETECT_LATENCY.into()), &POLL_BUCKETS)
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(POLL_DURATION.into()), &POLL_BUCKETS)
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(SOURCE_LAG.into()), &LATENCY_BUCKETS)
                })
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was installed before herald's; /metrics shows only herald's own view");
            }
            describe();
            handle
        })
        .clone()
}

fn describe() {
    describe_histogram!(
        DELIVERY_LATENCY,
        Unit::Seconds,
        "From the event (the provider's event time when it gives one, else its detection) to the platform's acceptance."
    );
    describe_histogram!(
        DETECT_LATENCY,
        Unit::Seconds,
        "From the start of a poll to its events committed."
    );
    describe_counter!(
        DELIVERIES,
        "Delivery attempts by outcome: delivered, retry, rate_limited, dead, gone, skipped, dropped."
    );
    describe_counter!(POLLS, "Polls by outcome: ok, failed, rate_limited.");
    describe_histogram!(
        POLL_DURATION,
        Unit::Seconds,
        "How long a poll's requests to the provider took."
    );
    describe_gauge!(
        QUOTA_REMAINING,
        "Requests left in the provider's quota (window: minute or day), as its last answer said."
    );
    describe_gauge!(OUTBOX_PENDING, "Deliveries waiting in the outbox.");
    describe_gauge!(
        OUTBOX_OLDEST,
        Unit::Seconds,
        "Age of the oldest delivery waiting in the outbox (0 when none waits)."
    );
    describe_gauge!(
        DEAD_LETTERS,
        "Deliveries given up on, kept as dead letters."
    );
    describe_gauge!(STREAM_CLIENTS, "Clients connected to a stream.");
    describe_counter!(
        EVENTS_FIRST,
        "Events a source reported first, and so was notified from (several sources for one match)."
    );
    describe_histogram!(
        SOURCE_LAG,
        Unit::Seconds,
        "How long after the first source a source reported an incident of a match both follow."
    );
}

/// How a delivery attempt ended, as counted in [`DELIVERIES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The platform accepted it.
    Delivered,
    /// A transient failure or a timeout: it will be tried again.
    Retry,
    /// The platform asked to slow down: it will be tried again.
    RateLimited,
    /// Given up on: a dead letter.
    Dead,
    /// The recipient is gone (blocked the bot, left): a dead letter, subscriptions paused.
    Gone,
    /// Not sent: the recipient's daily cap.
    Skipped,
    /// A broadcast the sink did not take (closed, too slow): not retried.
    Dropped,
}

impl Outcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Retry => "retry",
            Self::RateLimited => "rate_limited",
            Self::Dead => "dead",
            Self::Gone => "gone",
            Self::Skipped => "skipped",
            Self::Dropped => "dropped",
        }
    }
}

/// Counts a delivery attempt of `sink`.
pub fn delivery(sink: &str, outcome: Outcome) {
    counter!(DELIVERIES, "sink" => sink.to_owned(), "outcome" => outcome.as_str()).increment(1);
}

/// Records an accepted delivery of `sink`: counted, and its goal-to-phone latency observed.
/// `occurred_at_ms` is the provider's event time when it gave one, `detected_at_ms` when
/// herald committed the event.
pub fn delivered(sink: &str, occurred_at_ms: Option<i64>, detected_at_ms: i64) {
    delivery(sink, Outcome::Delivered);
    let latency = latency_ms(occurred_at_ms, detected_at_ms, crate::store::now_ms());
    histogram!(DELIVERY_LATENCY, "sink" => sink.to_owned()).record(latency as f64 / 1000.0);
}

/// Milliseconds from the event to `now`: from the provider's event time when it is plausible
/// (not after its detection, at most six hours before it), else from the
/// detection. Never negative.
pub fn latency_ms(occurred_at_ms: Option<i64>, detected_at_ms: i64, now_ms: i64) -> i64 {
    let from = occurred_at_ms
        .filter(|at| *at <= detected_at_ms && detected_at_ms - *at <= MAX_PROVIDER_LEAD_MS)
        .unwrap_or(detected_at_ms);
    (now_ms - from).max(0)
}

/// How a poll ended, as counted in [`POLLS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollOutcome {
    /// Read and committed.
    Ok,
    /// The provider failed or answered something unreadable, or the store failed.
    Failed,
    /// The provider asked to slow down.
    RateLimited,
}

impl PollOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed => "failed",
            Self::RateLimited => "rate_limited",
        }
    }
}

/// Records a poll of `source`: its outcome, how long the provider took, and, when it was
/// committed, how long from its start to the commit.
pub fn poll(
    source: &str,
    outcome: PollOutcome,
    fetched_in: Duration,
    committed_in: Option<Duration>,
) {
    counter!(POLLS, "source" => source.to_owned(), "outcome" => outcome.as_str()).increment(1);
    histogram!(POLL_DURATION, "source" => source.to_owned()).record(fetched_in.as_secs_f64());
    if let Some(committed_in) = committed_in {
        histogram!(DETECT_LATENCY, "source" => source.to_owned())
            .record(committed_in.as_secs_f64());
    }
}

/// Records who was first: `first` events `source` reported before any other source, and how
/// far behind it was (ms) on incidents another source had first.
pub fn fusion(source: &str, first: usize, lags_ms: &[i64]) {
    if first > 0 {
        counter!(EVENTS_FIRST, "source" => source.to_owned()).increment(first as u64);
    }
    for lag in lags_ms {
        histogram!(SOURCE_LAG, "source" => source.to_owned()).record(*lag as f64 / 1000.0);
    }
}

/// Records what the provider said is left of its quota for `window` (`minute`, `day`).
pub fn quota_remaining(source: &str, window: &'static str, remaining: u64) {
    metrics::gauge!(QUOTA_REMAINING, "source" => source.to_owned(), "window" => window)
        .set(remaining as f64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_counts_from_the_provider_time_only_when_plausible() {
        // The provider saw it 4 s before herald committed it; accepted 1 s after that.
        assert_eq!(latency_ms(Some(96_000), 100_000, 101_000), 5_000);
        // No provider time: from the detection.
        assert_eq!(latency_ms(None, 100_000, 101_000), 1_000);
        // A replayed match from years ago: from the detection.
        assert_eq!(
            latency_ms(Some(1_000), 100_000_000_000, 100_000_001_000),
            1_000
        );
        // A provider clock ahead of ours: from the detection.
        assert_eq!(latency_ms(Some(100_500), 100_000, 101_000), 1_000);
        // Never negative.
        assert_eq!(latency_ms(None, 100_000, 99_000), 0);
    }
}
