//! Sets up the process's logs from `[log]`: text for people or JSON lines for collectors, at
//! the configured level (`RUST_LOG` overrides it), on standard error.

use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber. `quiet` (commands that print their own output) lowers the
/// default level to warnings. Does nothing when one is installed already (tests).
pub fn init(config: &LogConfig, quiet: bool) {
    let level = if quiet { "warn" } else { config.level.as_str() };
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match config.format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        // Span fields (request_id, source, sink) are flattened into each line's `span`.
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    // An error means a subscriber is installed already, which is all we need.
    drop(installed);
}
