//! Configuration of the SSE sink.

use std::time::Duration;

use serde::Deserialize;

/// Notifications kept for `Last-Event-ID` resume: a whole match is ~30 notifications, so this
/// covers a busy match day.
pub(crate) const DEFAULT_HISTORY: usize = 1024;
/// Browsers' and proxies' idle timeouts are typically 30–60 s; a comment every 15 s keeps the
/// connection open through them.
pub(crate) const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(15);
/// Reconnection delay suggested to clients: quick enough to miss little, slow enough not to
/// hammer a restarting server.
pub(crate) const DEFAULT_RETRY: Duration = Duration::from_secs(3);
/// A ceiling that protects the process's file descriptors and memory (~20 KiB per client).
pub(crate) const DEFAULT_MAX_CLIENTS: usize = 20_000;

/// `[sinks.<id>]` with `type = "sse"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// How many recent notifications are kept in memory to serve `Last-Event-ID` resumes.
    pub history: usize,
    /// How often a comment line is sent to idle clients.
    #[serde(with = "humantime_serde")]
    pub heartbeat: Duration,
    /// The `retry:` value sent to clients at connection time.
    #[serde(with = "humantime_serde")]
    pub retry: Duration,
    /// Connections beyond this number are refused with 503.
    pub max_clients: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            history: DEFAULT_HISTORY,
            heartbeat: DEFAULT_HEARTBEAT,
            retry: DEFAULT_RETRY,
            max_clients: DEFAULT_MAX_CLIENTS,
        }
    }
}

impl Config {
    /// Checks the values; pure, no I/O.
    ///
    /// # Errors
    /// A message naming the key whose value is out of range.
    pub fn validate(&self) -> Result<(), String> {
        if self.history == 0 {
            return Err("history must be at least 1".into());
        }
        if self.heartbeat < Duration::from_secs(1) {
            return Err("heartbeat must be at least 1s".into());
        }
        if self.max_clients == 0 {
            return Err("max_clients must be at least 1".into());
        }
        Ok(())
    }
}
