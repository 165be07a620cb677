//! Encodes a notification as one SSE frame, once for all clients.

use bytes::Bytes;
use sink_api::Notification;

/// A notification encoded for the wire, plus what the per-client filters look at.
#[derive(Debug)]
pub(crate) struct Frame {
    /// Position in the hub's publish order; strictly increasing.
    pub(crate) pos: u64,
    /// The SSE `id:` (the notification's delivery id).
    pub(crate) id: i64,
    pub(crate) kind: String,
    pub(crate) match_id: Option<String>,
    pub(crate) topic: Option<String>,
    /// Lower-cased team names.
    pub(crate) teams: Vec<String>,
    /// `id: …\ndata: …\n\n`
    pub(crate) bytes: Bytes,
    /// The frame without the score (`?spoilers=off`), when the notification has one.
    pub(crate) spoiler_free: Option<Bytes>,
}

impl Frame {
    pub(crate) fn new(pos: u64, msg: &Notification) -> Self {
        Self {
            pos,
            id: msg.id,
            kind: msg.kind.clone(),
            match_id: msg.match_id.clone(),
            topic: msg.topic.clone(),
            teams: msg.teams.iter().map(|t| t.to_lowercase()).collect(),
            bytes: encode(msg),
            spoiler_free: msg.spoiler_free.as_ref().map(|hidden| {
                encode(&Notification {
                    title: hidden.title.clone(),
                    body: hidden.body.clone(),
                    data: hidden.data.clone(),
                    spoiler_free: None,
                    ..msg.clone()
                })
            }),
        }
    }

    /// What a client is sent: the frame, or without the score when it asked so.
    pub(crate) fn bytes_for(&self, spoilers: bool) -> &Bytes {
        match &self.spoiler_free {
            Some(hidden) if !spoilers => hidden,
            _ => &self.bytes,
        }
    }
}

/// `id:` and a single `data:` line. serde_json's compact output escapes newlines, so the JSON
/// always fits on one line and no frame can be split by a body containing "\n\n".
pub(crate) fn encode(msg: &Notification) -> Bytes {
    let json = serde_json::to_string(msg).unwrap_or_else(|_| "{}".to_owned());
    Bytes::from(format!("id: {}\ndata: {json}\n\n", msg.id))
}

/// The frame sent first on every connection: the reconnection delay.
pub(crate) fn retry(millis: u128) -> Bytes {
    Bytes::from(format!("retry: {millis}\n\n"))
}

/// A comment line; clients ignore it, proxies see traffic.
pub(crate) const HEARTBEAT: &[u8] = b": keep-alive\n\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_has_id_and_one_data_line_even_with_newlines_in_body() {
        let msg = Notification {
            id: 42,
            event_id: "e".into(),
            kind: "goal".into(),
            match_id: None,
            topic: None,
            teams: vec![],
            title: "GOAL".into(),
            body: "line one\n\nline two".into(),
            locale: "en".into(),
            data: serde_json::Value::Null,
            replaces: None,
            spoiler_free: None,
            created_at_ms: 1,
        };
        let bytes = encode(&msg);
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.starts_with("id: 42\ndata: {"));
        assert!(text.ends_with("}\n\n"));
        assert_eq!(
            text.matches("\n\n").count(),
            1,
            "exactly one frame terminator"
        );
        let data = text.strip_prefix("id: 42\ndata: ").unwrap().trim_end();
        let back: Notification = serde_json::from_str(data).unwrap();
        assert_eq!(back, msg);
    }
}
