//! Turns a notification into the one line the console sink prints.

use sink_api::Notification;

use crate::config::Format;

/// The line printed for `msg`, without the trailing newline.
pub(crate) fn line(format: Format, msg: &Notification) -> String {
    match format {
        Format::Text => text(msg),
        Format::Json => serde_json::json!({
            "id": msg.id,
            "event_id": msg.event_id,
            "kind": msg.kind,
            "match_id": msg.match_id,
            "topic": msg.topic,
            "title": msg.title,
            "body": msg.body,
            "locale": msg.locale,
            "data": msg.data,
        })
        .to_string(),
    }
}

fn text(msg: &Notification) -> String {
    // Bodies may span lines; the console keeps one notification per line.
    let body = msg.body.split_whitespace().collect::<Vec<_>>().join(" ");
    if body.is_empty() || body == msg.title {
        msg.title.clone()
    } else {
        format!("{} — {}", msg.title, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(title: &str, body: &str) -> Notification {
        Notification {
            id: 7,
            event_id: "m:1:goal".into(),
            kind: "goal".into(),
            match_id: Some("m:1".into()),
            topic: None,
            teams: vec!["France".into(), "Croatia".into()],
            title: title.into(),
            body: body.into(),
            locale: "en".into(),
            data: serde_json::json!({"score": {"home": 1, "away": 0}}),
            replaces: None,
            spoiler_free: None,
            created_at_ms: 0,
        }
    }

    #[test]
    fn text_joins_title_and_body_on_one_line() {
        let m = msg(
            "GOAL! France 1-0 Croatia",
            "Mandžukić (own goal) 18'\nFrance lead.",
        );
        assert_eq!(
            line(Format::Text, &m),
            "GOAL! France 1-0 Croatia — Mandžukić (own goal) 18' France lead."
        );
    }

    #[test]
    fn text_without_body_is_the_title() {
        assert_eq!(line(Format::Text, &msg("Kick-off", "")), "Kick-off");
    }

    #[test]
    fn json_is_one_parseable_object() {
        let out = line(Format::Json, &msg("t", "b\nc"));
        assert!(!out.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["id"], 7);
        assert_eq!(v["data"]["score"]["home"], 1);
    }
}
