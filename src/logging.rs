//! Sets up the process's logs from `[log]`: text for people or JSON lines for collectors, at
//! the configured level (`RUST_LOG` overrides it), on standard error, and what log lines never
//! show. Slack's Socket Mode URLs carry a one-time `ticket` that lets whoever holds it take the
//! connection, and slack-morphism logs those URLs when it connects or fails to: every
//! `ticket=` value is masked before a line is written, in either format.

use std::borrow::Cow;
use std::io::{self, Write};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::{LogConfig, LogFormat};

/// What a masked value reads as.
const MASK: &str = "<redacted>";
/// The query parameter whose value is masked.
const TICKET: &str = "ticket=";

/// Installs the global subscriber. `quiet` (commands that print their own output) lowers the
/// default level to warnings. Does nothing when one is installed already (tests).
pub fn init(config: &LogConfig, quiet: bool) {
    let level = if quiet { "warn" } else { config.level.as_str() };
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Masked(io::stderr));
    let installed = match config.format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        // Span fields (request_id, source, sink) are in each line's `span`.
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    // An error means a subscriber is installed already, which is all we need.
    drop(installed);
}

/// A writer of log lines that masks every `ticket=` value of what goes through it (the
/// formatter writes each line at once).
#[derive(Debug, Clone, Copy)]
pub struct Masked<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Masked<M> {
    type Writer = MaskedWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        MaskedWriter(self.0.make_writer())
    }
}

/// One line's writer, from [`Masked`].
#[derive(Debug)]
pub struct MaskedWriter<W>(W);

impl<W: Write> Write for MaskedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match String::from_utf8_lossy(buf) {
            Cow::Borrowed(text) if !text.contains(TICKET) => self.0.write_all(buf)?,
            text => self.0.write_all(mask_tickets(&text).as_bytes())?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// `wss://…/link/?ticket=5e6f…&app_id=A1` → `wss://…/link/?ticket=<redacted>&app_id=A1`.
pub fn mask_tickets(text: &str) -> Cow<'_, str> {
    if !text.contains(TICKET) {
        return Cow::Borrowed(text);
    }
    let mut masked = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(TICKET) {
        let (before, from) = rest.split_at(at + TICKET.len());
        masked.push_str(before);
        let end = from
            .find(|c: char| matches!(c, '&' | '"' | '\'' | '>' | '\\') || c.is_whitespace())
            .unwrap_or(from.len());
        if end > 0 {
            masked.push_str(MASK);
        }
        rest = from.split_at(end).1;
    }
    masked.push_str(rest);
    Cow::Owned(masked)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn ticket_values_are_masked_and_the_rest_is_kept() {
        assert_eq!(
            mask_tickets("Connected to wss://wss-primary.slack.com/link/?ticket=0b1c-77&app_id=A1"),
            "Connected to wss://wss-primary.slack.com/link/?ticket=<redacted>&app_id=A1"
        );
        assert_eq!(
            mask_tickets("url=\"ws://h/link?ticket=abc\" and ticket=def"),
            "url=\"ws://h/link?ticket=<redacted>\" and ticket=<redacted>"
        );
        // In JSON, a quote inside a string is escaped.
        assert_eq!(
            mask_tickets(r#"{"message":"at \"ws://h/?ticket=abc\""}"#),
            r#"{"message":"at \"ws://h/?ticket=<redacted>\""}"#
        );
        assert_eq!(mask_tickets("ticket= none"), "ticket= none");
        assert!(matches!(mask_tickets("nothing here"), Cow::Borrowed(_)));
    }

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Logs Socket Mode URLs in messages, fields and spans through a subscriber of `format`
    /// and returns what was written.
    fn logged(format: LogFormat) -> String {
        let lines = Lines::default();
        let writer = lines.clone();
        let builder = tracing_subscriber::fmt()
            .with_writer(Masked(move || writer.clone()))
            .with_ansi(false);
        let log = || {
            let span = tracing::info_span!("connect", url = "wss://x/link/?ticket=in-a-span");
            let _entered = span.enter();
            tracing::error!(
                "Unable to connect wss://x/link/?ticket=1f2e3d&app_id=A1: {}",
                "refused"
            );
            tracing::warn!(url = %"ws://x/link/?ticket=as-a-field", "retrying");
        };
        match format {
            LogFormat::Text => tracing::subscriber::with_default(builder.finish(), log),
            LogFormat::Json => tracing::subscriber::with_default(
                builder.json().with_current_span(true).finish(),
                log,
            ),
        }
        String::from_utf8(lines.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn a_logged_socket_mode_url_shows_no_ticket_in_either_format() {
        for format in [LogFormat::Text, LogFormat::Json] {
            let text = logged(format);
            assert!(
                text.contains("wss://x/link/?ticket=<redacted>&app_id=A1"),
                "{text}"
            );
            for ticket in ["1f2e3d", "as-a-field", "in-a-span"] {
                assert!(!text.contains(ticket), "{format:?}: {text}");
            }
        }
    }
}
