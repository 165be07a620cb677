//! Messages as the API shows them: a summary per message in lists, every delivery in detail;
//! times in RFC 3339, errors with anything secret-looking masked.

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{MessageRequest, Status};
use crate::store::{Counts, DeliveryRow, MessageRow};

/// The longest error shown for a delivery.
const MAX_ERROR: usize = 300;

/// How many deliveries stand where.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub(super) struct CountsView {
    queued: i64,
    sending: i64,
    delivered: i64,
    failed: i64,
    cancelled: i64,
}

impl From<Counts> for CountsView {
    fn from(c: Counts) -> Self {
        Self {
            queued: c.queued,
            sending: c.sending,
            delivered: c.delivered,
            failed: c.failed,
            cancelled: c.cancelled,
        }
    }
}

/// A message in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Summary {
    /// The message id.
    pub id: String,
    /// Where it stands.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    body: String,
    send_at: String,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    cancelled_at: Option<String>,
    deliveries: i64,
    counts: CountsView,
}

impl Summary {
    pub(super) fn new(row: &MessageRow, status: Status, counts: Counts) -> Self {
        let request = serde_json::from_str::<MessageRequest>(&row.request).ok();
        let total =
            counts.queued + counts.sending + counts.delivered + counts.failed + counts.cancelled;
        Self {
            id: row.id.clone(),
            status: status.as_str(),
            title: request.as_ref().and_then(|r| r.title.clone()),
            body: request.map(|r| r.body).unwrap_or_default(),
            send_at: rfc3339(row.send_at),
            created_at: rfc3339(row.created_at),
            cancelled_at: row.cancelled_at.map(rfc3339),
            deliveries: if row.event_seq.is_some() {
                total
            } else {
                row.deliveries
            },
            counts: counts.into(),
        }
    }
}

/// One delivery of a message.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(super) struct DeliveryView {
    sink: String,
    to: String,
    status: &'static str,
    attempts: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    receipt: Option<String>,
    created_at: String,
    updated_at: String,
}

/// A message with each of its deliveries.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Detail {
    #[serde(flatten)]
    summary: Summary,
    /// The request as it was accepted.
    /// The request as stored (the body of `POST /api/v1/messages`).
    #[schema(value_type = crate::messages::MessageRequest)]
    request: serde_json::Value,
    recipients: Vec<DeliveryView>,
}

impl Detail {
    pub(super) fn new(
        row: &MessageRow,
        status: Status,
        counts: Counts,
        deliveries: Vec<DeliveryRow>,
    ) -> Self {
        Self {
            summary: Summary::new(row, status, counts),
            request: serde_json::from_str(&row.request).unwrap_or_default(),
            recipients: deliveries
                .into_iter()
                .map(|d| DeliveryView {
                    status: d.status().as_str(),
                    sink: d.sink,
                    to: d.recipient,
                    attempts: d.attempts,
                    last_error: d.last_error.as_deref().map(redact),
                    receipt: d.receipt,
                    created_at: rfc3339(d.created_at),
                    updated_at: rfc3339(d.updated_at),
                })
                .collect(),
        }
    }

    /// Where it stands.
    pub fn status(&self) -> &'static str {
        self.summary.status
    }
}

/// A page of a list, with where the next one starts.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page {
    /// The messages, newest first.
    pub messages: Vec<Summary>,
    /// Pass as `cursor` for the next page; absent on the last one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl Page {
    pub(super) fn new(messages: Vec<Summary>, next: Option<i64>) -> Self {
        Self {
            messages,
            next_cursor: next.map(|seq| seq.to_string()),
        }
    }
}

/// Unix ms as RFC 3339 (UTC, milliseconds).
pub(crate) fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// An error fit to show: URLs without their credentials and query secrets, and any long
/// token-like word (a bot token, a key) masked; cut to a few hundred characters.
pub(crate) fn redact(error: &str) -> String {
    let words: Vec<String> = error
        .split(' ')
        .map(|word| {
            if word.contains("://") {
                crate::config::redact_url(word)
                    .split('/')
                    .map(|part| if looks_secret(part) { "***" } else { part })
                    .collect::<Vec<_>>()
                    .join("/")
            } else if looks_secret(word) {
                "***".to_owned()
            } else {
                word.to_owned()
            }
        })
        .collect();
    sink_api::text::truncate(&words.join(" "), MAX_ERROR)
}

/// A word of 24 or more letters, digits and token punctuation, with both letters and digits.
fn looks_secret(word: &str) -> bool {
    let word = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    word.len() >= 24
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-:.+/=".contains(c))
        && word.chars().any(|c| c.is_ascii_digit())
        && word.chars().any(|c| c.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_lose_their_secrets() {
        let shown = redact(
            "transient failure: error sending request for url \
             (https://api.telegram.org/bot123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage?token=abc)",
        );
        assert!(
            !shown.contains("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
            "{shown}"
        );
        assert!(!shown.contains("abc)"), "{shown}");
        assert!(
            shown.starts_with("transient failure: error sending request"),
            "{shown}"
        );
        let shown = redact("permanent failure: HTTP 400: chat not found");
        assert_eq!(shown, "permanent failure: HTTP 400: chat not found");
        let shown = redact("key sk_live_51H8aBcDeFgHiJkLmNoPqRsTuV used");
        assert_eq!(shown, "key *** used");
    }

    #[test]
    fn times_are_rfc_3339() {
        assert_eq!(rfc3339(1_781_193_600_000), "2026-06-11T16:00:00Z");
    }
}
