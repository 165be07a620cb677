//! Console sink: prints each notification as one line on standard output.
#![doc = include_str!("../README.md")]

mod config;
mod plugin;
mod render;

use std::fmt;
use std::io::Write;
use std::sync::Arc;

use sink_api::{Notification, Receipt, Recipient, Sink, SinkError};

pub use config::{Config, Format};
pub use plugin::Plugin;

type Output = Arc<dyn Fn(&str) + Send + Sync>;

/// Prints notifications; see the crate docs.
#[derive(Clone)]
pub struct ConsoleSink {
    config: Config,
    output: Output,
}

impl fmt::Debug for ConsoleSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleSink")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl ConsoleSink {
    /// A console sink writing to standard output.
    pub fn new(config: Config) -> Self {
        Self::with_output(config, |line| {
            let mut out = std::io::stdout().lock();
            // A closed stdout (`herald run | head`) must not take the dispatcher down.
            let _ignored = writeln!(out, "{line}").and_then(|()| out.flush());
        })
    }

    /// A console sink handing each line to `output` instead, e.g. to print above a progress bar.
    pub fn with_output(config: Config, output: impl Fn(&str) + Send + Sync + 'static) -> Self {
        Self {
            config,
            output: Arc::new(output),
        }
    }
}

impl Sink for ConsoleSink {
    const KIND: &'static str = "console";

    async fn send(&self, _to: &Recipient, msg: &Notification) -> Result<Receipt, SinkError> {
        (self.output)(&render::line(self.config.format, msg));
        Ok(Receipt::default())
    }

    fn recipients(&self) -> Vec<Recipient> {
        vec![Recipient::broadcast()]
    }
}
