//! What a sink is given to deliver (`Notification`), to whom (`Recipient`), and what it hands back
//! (`Receipt`).

use serde::{Deserialize, Serialize};

/// A rendered notification, ready for one recipient of one sink.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// The delivery's sequence number: unique per (sink instance, recipient) and increasing in
    /// the order deliveries were queued. SSE uses it as the `id:` of the event.
    pub id: i64,
    /// The stable id of the event this notification is about; identical across sinks,
    /// recipients, retries and restarts.
    pub event_id: String,
    /// The event kind (`goal`, `yellow_card`, `full_time`, `announcement`, …).
    pub kind: String,
    /// The match the event belongs to, if any.
    pub match_id: Option<String>,
    /// Free-form topic of published announcements; `None` for match events.
    pub topic: Option<String>,
    /// Team names involved (home and away for match events), for platform-side filtering.
    pub teams: Vec<String>,
    /// One-line headline, already localized.
    pub title: String,
    /// Full text, already localized. Plain text: each sink escapes it for its platform.
    pub body: String,
    /// The locale the text was rendered in (`en`, `pt-BR`).
    pub locale: String,
    /// The structured event (score, minute, player, …) for consumers that are programs.
    pub data: serde_json::Value,
    /// Set when this notification corrects an earlier one (a disallowed goal).
    pub replaces: Option<Replaces>,
    /// The same notification without the score, for broadcast sinks whose clients choose
    /// (`/stream?spoilers=off`, the page's hidden scores); `None` elsewhere and for
    /// announcements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spoiler_free: Option<SpoilerFree>,
    /// When the event was detected, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
}

/// A notification's text and data with nothing that gives the score away.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpoilerFree {
    /// The headline without the score (`Goal in France v Croatia (62')`).
    pub title: String,
    /// The text without the score.
    pub body: String,
    /// The structured event without the score, the scorer or the winner.
    pub data: serde_json::Value,
}

/// The earlier notification that a correction refers to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replaces {
    /// The stable id of the corrected event.
    pub event_id: String,
    /// The platform's id of the message this recipient received for it, when the sink returned
    /// one, so the sink can edit that message instead of posting a new one.
    pub receipt: Option<String>,
    /// The title of the corrected notification as this recipient saw it, to show it struck
    /// through in an edit.
    pub original_title: Option<String>,
}

/// Where a notification goes, in the platform's own addressing (a chat id, a channel, a phone
/// number), or [`Recipient::BROADCAST`] for sinks that fan out themselves (SSE, console).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Recipient(String);

impl Recipient {
    /// The address of a sink's single broadcast recipient.
    pub const BROADCAST: &'static str = "*";

    /// A recipient with the given platform address.
    pub fn new(address: impl Into<String>) -> Self {
        Self(address.into())
    }

    /// The broadcast recipient.
    pub fn broadcast() -> Self {
        Self(Self::BROADCAST.to_owned())
    }

    /// The platform address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the broadcast recipient.
    pub fn is_broadcast(&self) -> bool {
        self.0 == Self::BROADCAST
    }
}

impl std::fmt::Display for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Proof of delivery handed back by the platform.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The platform's id of the delivered message (for later edits), when it gives one.
    pub platform_id: Option<String>,
}

impl Receipt {
    /// A receipt carrying the platform's message id.
    pub fn with_id(id: impl Into<String>) -> Self {
        Self {
            platform_id: Some(id.into()),
        }
    }
}
