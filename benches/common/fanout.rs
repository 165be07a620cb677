//! What the fan-out benches (SSE, Socket.IO) share: the publish stamp, percentiles, and the
//! report they print.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Now, in nanoseconds since the Unix epoch: the stamp published in each body.
pub(crate) fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// The `p` percentile of `sorted`.
pub(crate) fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// What a fan-out run measured.
pub(crate) struct Report {
    pub(crate) clients: usize,
    pub(crate) connect_time: Duration,
    pub(crate) expected: usize,
    /// Publish → receipt, µs, one per delivery.
    pub(crate) latencies: Vec<u64>,
    /// From the first publish until every client was done.
    pub(crate) total_time: Duration,
    pub(crate) rss_idle: u64,
    pub(crate) rss_connected: u64,
    pub(crate) rss_peak: u64,
}

impl Report {
    /// Prints deliveries, loss, throughput, latency percentiles and memory per connection.
    pub(crate) fn print(mut self) {
        self.latencies.sort_unstable();
        let latencies = &self.latencies;
        let received = latencies.len();
        let per_conn =
            self.rss_connected.saturating_sub(self.rss_idle) as f64 / self.clients as f64;
        println!(
            "connected {} clients in {:.1} s",
            self.clients,
            self.connect_time.as_secs_f64()
        );
        println!(
            "deliveries: {received} of {} (loss {})",
            self.expected,
            self.expected - received.min(self.expected)
        );
        println!(
            "throughput: {:.0} deliveries/s over {:.1} s",
            received as f64 / self.total_time.as_secs_f64(),
            self.total_time.as_secs_f64()
        );
        println!(
            "latency publish→client: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            percentile(latencies, 0.50) as f64 / 1000.0,
            percentile(latencies, 0.99) as f64 / 1000.0,
            latencies.last().copied().unwrap_or(0) as f64 / 1000.0
        );
        println!(
            "server RSS: {:.1} MiB idle, {:.1} MiB with clients, {:.1} MiB peak; {:.1} KiB per connection",
            self.rss_idle as f64 / 1024.0,
            self.rss_connected as f64 / 1024.0,
            self.rss_peak as f64 / 1024.0,
            per_conn
        );
    }
}
