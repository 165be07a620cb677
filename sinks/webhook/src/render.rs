//! The JSON body of a webhook, pure: a notification becomes the Standard Webhooks payload
//! shape, `type`, `timestamp` and `data`, plus the message `id`.

use serde::Serialize;
use serde_json::Value;
use sink_api::Notification;

use crate::sign::message_id;

/// The body POSTed for one notification; field order is the order on the wire.
#[derive(Debug, Serialize)]
pub(crate) struct Payload<'a> {
    /// The event kind (`goal`, `full_time`, `announcement`, …).
    #[serde(rename = "type")]
    kind: &'a str,
    /// The `webhook-id` header again, for receivers that only keep the body.
    id: &'a str,
    /// When herald detected the event (not when this attempt was made), RFC 3339 in UTC.
    timestamp: String,
    data: Data<'a>,
}

#[derive(Debug, Serialize)]
struct Data<'a> {
    event_id: &'a str,
    match_id: Option<&'a str>,
    topic: Option<&'a str>,
    teams: &'a [String],
    locale: &'a str,
    title: &'a str,
    body: &'a str,
    /// The structured event (score, minute, player, …), as the core produced it.
    event: &'a Value,
    replaces: Option<Replaces<'a>>,
}

/// The event a correction takes back, with the `webhook-id` it was sent under.
#[derive(Debug, Serialize)]
struct Replaces<'a> {
    event_id: &'a str,
    id: String,
    original_title: Option<&'a str>,
}

/// The payload of `msg` sent under the message id `id` by the sink instance `instance`.
pub(crate) fn payload<'a>(instance: &str, id: &'a str, msg: &'a Notification) -> Payload<'a> {
    Payload {
        kind: &msg.kind,
        id,
        timestamp: rfc3339(msg.created_at_ms),
        data: Data {
            event_id: &msg.event_id,
            match_id: msg.match_id.as_deref(),
            topic: msg.topic.as_deref(),
            teams: &msg.teams,
            locale: &msg.locale,
            title: &msg.title,
            body: &msg.body,
            event: &msg.data,
            replaces: msg.replaces.as_ref().map(|r| Replaces {
                event_id: &r.event_id,
                id: message_id(instance, &r.event_id),
                original_title: r.original_title.as_deref(),
            }),
        },
    }
}

/// Milliseconds since the epoch in RFC 3339, UTC, with fractional seconds when there are any
/// (`2018-07-15T15:18:00Z`, `2018-07-15T15:18:00.25Z`); the epoch when out of range.
fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sink_api::Replaces as Corrected;

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_531_667_880_000), "2018-07-15T15:18:00Z");
        assert_eq!(rfc3339(1_531_667_880_250), "2018-07-15T15:18:00.25Z");
        assert_eq!(rfc3339(i64::MAX), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn a_correction_names_what_it_takes_back() {
        let mut msg = sink_api::testing::goal("❌ Goal disallowed", "VAR");
        msg.kind = "goal_disallowed".into();
        msg.event_id = "m1:goal_disallowed:1".into();
        msg.match_id = Some("m1".into());
        msg.teams = vec!["France".into(), "Croatia".into()];
        msg.data = json!({"minute": 18});
        msg.created_at_ms = 1_531_667_880_000;
        msg.replaces = Some(Corrected {
            event_id: "m1:goal:1".into(),
            receipt: None,
            original_title: Some("⚽ GOAL! France 1-0 Croatia".into()),
        });
        let id = message_id("hook", &msg.event_id);
        let got = serde_json::to_value(payload("hook", &id, &msg)).unwrap();
        assert_eq!(
            got,
            json!({
                "type": "goal_disallowed",
                "id": id,
                "timestamp": "2018-07-15T15:18:00Z",
                "data": {
                    "event_id": "m1:goal_disallowed:1",
                    "match_id": "m1",
                    "topic": null,
                    "teams": ["France", "Croatia"],
                    "locale": "en",
                    "title": "❌ Goal disallowed",
                    "body": "VAR",
                    "event": {"minute": 18},
                    "replaces": {
                        "event_id": "m1:goal:1",
                        "id": message_id("hook", "m1:goal:1"),
                        "original_title": "⚽ GOAL! France 1-0 Croatia",
                    },
                },
            })
        );
    }
}
