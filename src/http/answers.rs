//! The JSON bodies herald's own routes answer with (and the small request bodies they take),
//! as types: the handlers serialize them and the OpenAPI document describes them from the
//! same definitions.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every error: what is wrong, and the field or parameter it is about.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What is wrong, for people (at most a few hundred characters).
    pub error: String,
    /// The JSON path, form field, query parameter or header it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// `GET /healthz`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
}

/// `GET /readyz`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    pub status: &'static str,
    /// Each check's result.
    pub checks: Checks,
}

/// The checks of `/readyz`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Checks {
    /// The store answers.
    pub store: Check,
    /// Every migration is applied.
    pub migrations: Check,
    /// Each source, by id.
    pub sources: std::collections::BTreeMap<String, SourceCheck>,
}

/// One check's result.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Check {
    /// Whether it passes.
    pub ok: bool,
    /// Why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Check {
    /// A passing check.
    pub fn ok() -> Self {
        Self {
            ok: true,
            error: None,
        }
    }

    /// A failing check, and why.
    pub fn failed(error: String) -> Self {
        Self {
            ok: false,
            error: Some(error),
        }
    }
}

/// A source's check: polled successfully within three of its intervals (or polled by
/// another instance, or finished).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SourceCheck {
    /// Whether it passes.
    pub ok: bool,
    /// `polling` (this instance polls it), `standby` (another instance does) or `finished`.
    pub state: &'static str,
    /// Seconds since its last successful poll on this instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_ok_seconds_ago: Option<f64>,
    /// The interval planned after that poll, in seconds.
    pub interval_seconds: f64,
    /// The last poll's error, until one succeeds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `POST /api/v1/publish`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// What it is about: subscribers of this team, competition or topic get it (100
    /// characters at most).
    pub topic: String,
    /// The headline (200 characters at most).
    pub title: String,
    /// The text (4,000 characters at most).
    pub body: String,
}

/// A published announcement.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Published {
    /// The event id.
    pub id: String,
    /// Deliveries queued.
    pub deliveries: usize,
}

/// A message taken in (`POST /api/v1/messages`, `POST /updates`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Submitted {
    /// The message id (`msg_…`).
    pub id: String,
    /// `scheduled` or `queued`.
    pub status: &'static str,
    /// Deliveries queued (0 until a scheduled message is sent).
    pub deliveries: i64,
}

/// `POST /updates`: the World Cup SMS bot tutorial's update.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Update {
    /// The text for every SMS subscriber.
    pub message: String,
}

/// A cancelled message.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Cancelled {
    /// The message id.
    pub id: String,
    /// `cancelled`.
    pub status: &'static str,
    /// Deliveries that will not be sent.
    pub cancelled: u64,
}

/// Purged messages.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Purged {
    /// How many messages were deleted.
    pub purged: u64,
    /// Of which status.
    pub status: &'static str,
}

/// A pushed snapshot taken in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Ingested {
    /// `accepted`.
    pub status: &'static str,
    /// The push source.
    pub source: String,
    /// The match id as herald knows it: `<source>:<producer's id>`.
    pub match_id: String,
    /// Its place in the source's inbox.
    pub seq: i64,
}

/// A poll asked for.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PollRequested {
    /// `polling`.
    pub status: &'static str,
    /// The source.
    pub source: String,
}

/// `GET /api/v1/sms`: what the signup form needs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SmsSettings {
    /// `true`: an SMS sink is configured.
    pub enabled: bool,
    /// Countries numbers may be from (ISO codes); empty for any.
    pub countries: Vec<String>,
    /// Languages of the texts.
    pub locales: Vec<String>,
    /// How long a code is valid.
    pub code_ttl_seconds: u64,
}

/// `POST /api/v1/sms/subscribe` (and `POST /subscribe`): the signup form or JSON. List
/// fields take arrays, repeated form keys or comma-separated text.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SmsSignup {
    /// The number, E.164 (`+14155552671`), or national with `signup.default_country`
    /// (`POST /subscribe` calls it `number`).
    pub phone: String,
    /// Teams to follow (none: everything).
    #[serde(default)]
    pub teams: Vec<String>,
    /// Competitions to follow.
    #[serde(default)]
    pub competitions: Vec<String>,
    /// Kinds or groups (`goals`, `cards`, …); none: all.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// The language of the texts.
    #[serde(default)]
    pub locale: Option<String>,
    /// Quiet hours: alerts inside the window come as one text when it ends
    /// (`23:00-07:00 Europe/Lisbon`, optionally `drop cards`; the zone defaults to
    /// `render.time_zone`).
    #[serde(default)]
    pub quiet: Option<String>,
}

/// `POST /subscribe`: the World Cup SMS bot tutorial's signup.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SmsNumberSignup {
    /// The number, E.164 or national with `signup.default_country`.
    pub number: String,
}

/// `POST /api/v1/sms/confirm`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SmsConfirm {
    /// The number the code was texted to.
    pub phone: String,
    /// The code.
    pub code: String,
}

/// A signup waiting for its code.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SmsPending {
    /// `pending`.
    pub status: &'static str,
    /// The number, E.164.
    pub phone: String,
    /// How long the code is valid.
    pub expires_in_seconds: u64,
    /// What to do next, for people.
    pub message: &'static str,
}

/// A confirmed signup.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SmsActive {
    /// `active`.
    pub status: &'static str,
    /// The number, E.164.
    pub phone: String,
    /// What it follows, in words.
    pub following: String,
}
