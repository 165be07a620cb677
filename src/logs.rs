//! What herald's log lines never show. Slack's Socket Mode URLs carry a one-time `ticket`
//! that lets whoever holds it take the connection, and slack-morphism logs those URLs when it
//! connects or fails to; every `ticket=` value is masked before a line is written.

use std::borrow::Cow;
use std::fmt;

use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::{DefaultFields, Writer};

/// What a masked value reads as.
const MASK: &str = "<redacted>";
/// The query parameter whose value is masked.
const TICKET: &str = "ticket=";

/// The default field formatting, with `ticket=` values masked: give it to
/// `tracing_subscriber::fmt().fmt_fields(…)`. (Field names lose their terminal styling.)
#[derive(Debug, Default)]
pub struct Redacted(DefaultFields);

impl<'writer> FormatFields<'writer> for Redacted {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        let mut line = String::new();
        self.0.format_fields(Writer::new(&mut line), fields)?;
        writer.write_str(&mask_tickets(&line))
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
            .find(|c: char| c == '&' || c == '"' || c == '\'' || c == '>' || c.is_whitespace())
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
    use std::io::Write;
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
        assert_eq!(mask_tickets("ticket= none"), "ticket= none");
        assert!(matches!(mask_tickets("nothing here"), Cow::Borrowed(_)));
    }

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_logged_socket_mode_url_shows_no_ticket() {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(Redacted::default())
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("connect", url = "wss://x/link/?ticket=in-a-span");
            let _entered = span.enter();
            tracing::error!(
                "Unable to connect wss://x/link/?ticket=1f2e3d&app_id=A1: {}",
                "refused"
            );
            tracing::warn!(url = %"ws://x/link/?ticket=as-a-field", "retrying");
        });
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        assert!(
            text.contains("Unable to connect wss://x/link/?ticket=<redacted>&app_id=A1: refused"),
            "{text}"
        );
        for ticket in ["1f2e3d", "as-a-field", "in-a-span"] {
            assert!(!text.contains(ticket), "{text}");
        }
    }
}
