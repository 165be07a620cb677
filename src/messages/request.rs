//! The body of `POST /api/v1/messages` (and of `herald messages send`): parsed, checked
//! field by field, and kept in one canonical form (what is stored, and what an idempotent
//! repeat is compared with).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::model::EventKind;

/// The longest body, in bytes.
pub const MAX_BODY: usize = 4 * 1024;
/// The longest title, in characters.
const MAX_TITLE: usize = 200;
/// The longest topic or team name, in characters.
const MAX_NAME: usize = 100;
/// Most recipients of one message.
pub const MAX_RECIPIENTS: usize = 1_000;
/// How far ahead a message may be scheduled.
const MAX_AHEAD: time::Duration = time::Duration::days(366);

/// A message as asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    /// The headline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The text.
    pub body: String,
    /// When to send it (RFC 3339); now when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_at: Option<String>,
    /// The locale of every delivery; each recipient's own (or its sink's) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Exactly who gets it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<Addressed>,
    /// Or who follows this topic (a team, a competition), like `POST /api/v1/publish`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Or who follows any of these teams.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<String>,
    /// Limits the routed audience to whoever follows one of these kinds or groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<String>,
    /// Or every active subscriber of these sinks, whatever they follow.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscribers_of: Vec<String>,
}

/// One explicit recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Addressed {
    /// The sink instance id (`[sinks.<id>]`).
    pub sink: String,
    /// The platform address; omitted for a sink with one recipient of its own (a stream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// A field that is wrong: the message, and the field's path (`recipients[2].to`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// What is wrong.
    pub message: String,
    /// The field.
    pub field: Option<String>,
}

impl Invalid {
    /// `message` about `field`.
    pub fn new(message: impl Into<String>, field: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            field: Some(field.into()),
        }
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Invalid {}

impl MessageRequest {
    /// Parses one JSON object; errors name the field.
    ///
    /// # Errors
    /// Not one JSON object, a field of the wrong type, an unknown field.
    pub fn parse(body: &[u8]) -> Result<Self, Invalid> {
        if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(Invalid {
                message: "the body must be a JSON object".to_owned(),
                field: None,
            });
        }
        let de = &mut serde_json::Deserializer::from_slice(body);
        let request: Self = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
            let path = e.path().to_string();
            let message = e.inner().to_string();
            let field = match path.as_str() {
                "." => message.split('`').nth(1).map(str::to_owned),
                "?" => None,
                _ => Some(path),
            };
            Invalid {
                message: format!("invalid JSON body: {message}"),
                field,
            }
        })?;
        de.end().map_err(|_| Invalid {
            message: "invalid JSON body: trailing characters after the object".to_owned(),
            field: None,
        })?;
        Ok(request.trimmed())
    }

    /// Every text trimmed, empty optional ones dropped: the canonical form.
    fn trimmed(mut self) -> Self {
        let trim = |s: &mut String| *s = s.trim().to_owned();
        let keep = |o: Option<String>| o.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        self.title = keep(self.title);
        trim(&mut self.body);
        self.send_at = keep(self.send_at);
        self.locale = keep(self.locale);
        self.topic = keep(self.topic);
        for r in &mut self.recipients {
            trim(&mut r.sink);
            r.to = keep(r.to.take());
        }
        self.teams.iter_mut().for_each(trim);
        self.kinds.iter_mut().for_each(trim);
        self.subscribers_of.iter_mut().for_each(trim);
        self
    }

    /// The canonical JSON (stored; compared on an idempotent repeat).
    pub fn canonical(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Checks what does not depend on the sinks: texts, time, routing keys. Returns when it
    /// is due (`None`: now).
    ///
    /// # Errors
    /// The first problem, naming its field.
    pub fn check(&self, now: OffsetDateTime) -> Result<Option<OffsetDateTime>, Invalid> {
        if self.body.is_empty() {
            return Err(Invalid::new("must not be empty", "body"));
        }
        if self.body.len() > MAX_BODY {
            return Err(Invalid::new(
                format!("is longer than {} KiB", MAX_BODY / 1024),
                "body",
            ));
        }
        if self
            .title
            .as_ref()
            .is_some_and(|t| t.chars().count() > MAX_TITLE)
        {
            return Err(Invalid::new(
                format!("is longer than {MAX_TITLE} characters"),
                "title",
            ));
        }
        let routed = self.topic.is_some() || !self.teams.is_empty() || !self.kinds.is_empty();
        let audiences = [
            !self.recipients.is_empty(),
            routed,
            !self.subscribers_of.is_empty(),
        ];
        match audiences.iter().filter(|given| **given).count() {
            0 => {
                return Err(Invalid::new(
                    "give recipients, routing keys (topic, teams, kinds) or subscribers_of",
                    "recipients",
                ));
            }
            1 => {}
            _ => {
                return Err(Invalid::new(
                    "give recipients, routing keys (topic, teams, kinds) or subscribers_of, not several",
                    "recipients",
                ));
            }
        }
        if self.recipients.len() > MAX_RECIPIENTS {
            return Err(Invalid::new(
                format!(
                    "more than {MAX_RECIPIENTS} recipients; use routing keys or several messages"
                ),
                "recipients",
            ));
        }
        if self
            .topic
            .as_ref()
            .is_some_and(|t| t.chars().count() > MAX_NAME)
        {
            return Err(Invalid::new(
                format!("is longer than {MAX_NAME} characters"),
                "topic",
            ));
        }
        for (i, team) in self.teams.iter().enumerate() {
            if team.is_empty() || team.chars().count() > MAX_NAME {
                return Err(Invalid::new(
                    format!("must be 1 to {MAX_NAME} characters"),
                    format!("teams[{i}]"),
                ));
            }
        }
        for (i, kind) in self.kinds.iter().enumerate() {
            if probe_kind(kind).is_none() {
                return Err(Invalid::new(
                    format!(
                        "unknown kind `{}` (a kind such as goal, or a group: {})",
                        sink_api::text::truncate(kind, MAX_NAME),
                        EventKind::GROUPS.join(", ")
                    ),
                    format!("kinds[{i}]"),
                ));
            }
        }
        let Some(send_at) = &self.send_at else {
            return Ok(None);
        };
        let at = OffsetDateTime::parse(send_at, &Rfc3339).map_err(|_| {
            Invalid::new(
                "must be an RFC 3339 time with its offset (2026-06-11T18:00:00Z)",
                "send_at",
            )
        })?;
        if at <= now {
            return Err(Invalid::new("must be in the future", "send_at"));
        }
        if at > now + MAX_AHEAD {
            return Err(Invalid::new("must be less than a year ahead", "send_at"));
        }
        Ok(Some(at))
    }
}

/// The kind a routing probe takes for a kind or group name: the kind itself, or the first
/// kind of the group.
pub fn probe_kind(name: &str) -> Option<EventKind> {
    EventKind::parse(name).or_else(|| EventKind::ALL.into_iter().find(|k| k.group() == name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::parse("2026-06-11T12:00:00Z", &Rfc3339).unwrap()
    }

    fn check(json: &str) -> Result<Option<OffsetDateTime>, Invalid> {
        MessageRequest::parse(json.as_bytes())?.check(now())
    }

    fn field(json: &str) -> Option<String> {
        check(json).unwrap_err().field
    }

    #[test]
    fn each_bad_field_is_named() {
        let to = r#""recipients": [{"sink": "sms", "to": "+14155552671"}]"#;
        assert_eq!(
            field(&format!(r#"{{"body": " ", {to}}}"#)).as_deref(),
            Some("body")
        );
        assert_eq!(
            field(&format!(r#"{{"body": "{}", {to}}}"#, "é".repeat(2049))).as_deref(),
            Some("body")
        );
        assert_eq!(field(r#"{"body": "x"}"#).as_deref(), Some("recipients"));
        assert_eq!(
            field(&format!(r#"{{"body": "x", "topic": "France", {to}}}"#)).as_deref(),
            Some("recipients")
        );
        assert_eq!(
            field(r#"{"body": "x", "topic": "France", "subscribers_of": ["sms"]}"#).as_deref(),
            Some("recipients")
        );
        assert_eq!(
            field(&format!(
                r#"{{"body": "x", "send_at": "2026-06-11T11:59:59Z", {to}}}"#
            ))
            .as_deref(),
            Some("send_at")
        );
        assert_eq!(
            field(&format!(
                r#"{{"body": "x", "send_at": "2027-06-13T12:00:00Z", {to}}}"#
            ))
            .as_deref(),
            Some("send_at")
        );
        assert_eq!(
            field(&format!(r#"{{"body": "x", "send_at": "tomorrow", {to}}}"#)).as_deref(),
            Some("send_at")
        );
        assert_eq!(
            field(r#"{"body": "x", "topic": "France", "kinds": ["goals", "naps"]}"#).as_deref(),
            Some("kinds[1]")
        );
        assert_eq!(
            field(r#"{"body": "x", "recipients": [{"sink": "sms", "number": "1"}]}"#).as_deref(),
            Some("recipients[0].number")
        );
        assert_eq!(
            field(r#"{"body": 3, "topic": "a"}"#).as_deref(),
            Some("body")
        );
    }

    #[test]
    fn a_good_request_is_due_when_it_says() {
        let at = check(
            r#"{"body": "Gates open at 6", "send_at": "2026-06-11T15:00:00+02:00",
                "recipients": [{"sink": "sse"}]}"#,
        )
        .unwrap();
        assert_eq!(at, Some(now() + time::Duration::hours(1)));
        assert_eq!(
            check(r#"{"body": "x", "teams": ["France"]}"#).unwrap(),
            None
        );
    }

    #[test]
    fn the_canonical_form_ignores_spacing() {
        let a =
            MessageRequest::parse(br#"{"body": " hi ", "topic": "France", "title": ""}"#).unwrap();
        let b = MessageRequest::parse(br#"{"topic":"France","body":"hi"}"#).unwrap();
        assert_eq!(a.canonical(), b.canonical());
    }

    #[test]
    fn groups_probe_with_one_of_their_kinds() {
        assert_eq!(probe_kind("goals"), Some(EventKind::Goal));
        assert_eq!(probe_kind("red_card"), Some(EventKind::RedCard));
        assert_eq!(probe_kind("naps"), None);
    }
}
