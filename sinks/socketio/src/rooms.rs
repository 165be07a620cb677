//! Room names: which rooms a client may join, and which rooms a notification goes to.

use sink_api::Notification;

/// The room of every notification.
pub(crate) const ALL: &str = "all";
/// The longest room name.
const MAX_ROOM: usize = 120;

/// The room a client asked for, normalized (`team:` rooms are case-insensitive), or why not.
pub(crate) fn parse(room: &str) -> Result<String, &'static str> {
    let room = room.trim();
    if room.chars().count() > MAX_ROOM {
        return Err("a room name is at most 120 characters");
    }
    if room.chars().any(char::is_control) {
        return Err("a room name cannot hold control characters");
    }
    if room == ALL {
        return Ok(room.to_owned());
    }
    let Some((kind, name)) = room.split_once(':') else {
        return Err("rooms are all, match:<id>, team:<name> and topic:<topic>");
    };
    let name = name.trim();
    if name.is_empty() {
        return Err("rooms are all, match:<id>, team:<name> and topic:<topic>");
    }
    match kind {
        "match" | "topic" => Ok(format!("{kind}:{name}")),
        "team" => Ok(team(name)),
        _ => Err("rooms are all, match:<id>, team:<name> and topic:<topic>"),
    }
}

/// The room of team `name`, whatever its case.
fn team(name: &str) -> String {
    format!("team:{}", name.trim().to_lowercase())
}

/// Every room `msg` concerns: `all`, its match, its teams and its topic.
pub(crate) fn of(msg: &Notification) -> Vec<String> {
    let mut rooms = vec![ALL.to_owned()];
    rooms.extend(msg.match_id.iter().map(|id| format!("match:{id}")));
    rooms.extend(msg.teams.iter().map(|t| team(t)));
    rooms.extend(msg.topic.iter().map(|t| format!("topic:{t}")));
    rooms.dedup();
    rooms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_are_checked_and_team_rooms_ignore_case() {
        assert_eq!(parse(" all ").unwrap(), "all");
        assert_eq!(
            parse("match:fifa:300331552").unwrap(),
            "match:fifa:300331552"
        );
        assert_eq!(parse("team:France").unwrap(), "team:france");
        assert_eq!(parse("topic:draw").unwrap(), "topic:draw");
        for bad in [
            "",
            "lobby",
            "match:",
            "player:Messi",
            "match:a\u{7}b",
            &"a".repeat(121),
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_notification_goes_to_all_its_match_its_teams_and_its_topic() {
        let msg = Notification {
            id: 1,
            event_id: "e".into(),
            kind: "goal".into(),
            match_id: Some("fifa:1".into()),
            topic: None,
            teams: vec!["France".into(), "Croatia".into()],
            title: String::new(),
            body: String::new(),
            locale: "en".into(),
            data: serde_json::Value::Null,
            replaces: None,
            spoiler_free: None,
            created_at_ms: 0,
        };
        assert_eq!(
            of(&msg),
            ["all", "match:fifa:1", "team:france", "team:croatia"]
        );
    }
}
