//! `herald messages send|list|show|cancel|purge`: a client of the running herald's messages
//! API (so a message sent from the command line is checked, scheduled and woken up exactly
//! like one sent over HTTP, whichever instance answers).

use anyhow::anyhow;
use serde_json::{Value, json};

use super::Remote;

/// What to do.
#[derive(Debug, Clone)]
pub enum MessagesAction {
    /// Send or schedule one message.
    Send(Box<SendArgs>),
    /// List messages.
    List {
        /// Only those of this status.
        status: Option<String>,
        /// How many.
        limit: usize,
        /// Where the previous page ended.
        cursor: Option<String>,
    },
    /// One message with its deliveries.
    Show {
        /// The message id.
        id: String,
    },
    /// Cancel what is not sent yet.
    Cancel {
        /// The message id.
        id: String,
    },
    /// Delete finished messages of one status.
    Purge {
        /// delivered, failed or cancelled.
        status: String,
    },
}

/// `herald messages send`.
#[derive(Debug, Clone, Default)]
pub struct SendArgs {
    /// The text.
    pub body: String,
    /// The headline.
    pub title: Option<String>,
    /// `sink:recipient` (or `sink` alone for a stream).
    pub to: Vec<String>,
    /// RFC 3339 time to send at.
    pub at: Option<String>,
    /// Routing: a topic.
    pub topic: Option<String>,
    /// Routing: teams.
    pub teams: Vec<String>,
    /// Routing: kinds or groups.
    pub kinds: Vec<String>,
    /// Locale of every delivery.
    pub locale: Option<String>,
    /// An idempotency key.
    pub key: Option<String>,
}

/// Runs `action` against `remote`; returns what to print.
///
/// # Errors
/// herald cannot be reached, or refused the request (its message and field).
pub async fn messages(remote: &Remote, action: MessagesAction) -> anyhow::Result<String> {
    let client = remote.client()?;
    let api = format!("{}/api/v1/messages", remote.url);
    let request = match &action {
        MessagesAction::Send(args) => {
            let mut request = client.post(&api).json(&send_body(args)?);
            if let Some(key) = &args.key {
                request = request.header("Idempotency-Key", key);
            }
            request
        }
        MessagesAction::List {
            status,
            limit,
            cursor,
        } => {
            let mut query = vec![("limit", limit.to_string())];
            query.extend(status.clone().map(|s| ("status", s)));
            query.extend(cursor.clone().map(|c| ("cursor", c)));
            client.get(&api).query(&query)
        }
        MessagesAction::Show { id } => client.get(format!("{api}/{}", path_segment(id)?)),
        MessagesAction::Cancel { id } => client.delete(format!("{api}/{}", path_segment(id)?)),
        MessagesAction::Purge { status } => client.delete(&api).query(&[("status", status)]),
    };
    let (status, body) = remote.call(request).await?;
    Ok(match action {
        MessagesAction::Send(_) => format!(
            "{} {}{} ({} deliveries)\n",
            body["id"].as_str().unwrap_or_default(),
            body["status"].as_str().unwrap_or_default(),
            if status.as_u16() == 200 {
                ", sent before under this key"
            } else {
                ""
            },
            body["deliveries"]
        ),
        MessagesAction::List { .. } => table(&body),
        MessagesAction::Show { .. } => format!("{}\n", serde_json::to_string_pretty(&body)?),
        MessagesAction::Cancel { id } => format!(
            "{id} cancelled ({} deliveries will not be sent)\n",
            body["cancelled"]
        ),
        MessagesAction::Purge { status } => {
            format!("{} {status} message(s) purged\n", body["purged"])
        }
    })
}

/// The request body of `send`.
fn send_body(args: &SendArgs) -> anyhow::Result<Value> {
    let mut body = json!({ "body": args.body });
    let set = |body: &mut Value, key: &str, value: &Option<String>| {
        if let Some(v) = value {
            body[key] = json!(v);
        }
    };
    set(&mut body, "title", &args.title);
    set(&mut body, "send_at", &args.at);
    set(&mut body, "topic", &args.topic);
    set(&mut body, "locale", &args.locale);
    if !args.teams.is_empty() {
        body["teams"] = json!(args.teams);
    }
    if !args.kinds.is_empty() {
        body["kinds"] = json!(args.kinds);
    }
    if !args.to.is_empty() {
        let recipients: Vec<Value> = args
            .to
            .iter()
            .map(|t| match t.split_once(':') {
                Some((sink, to)) if !sink.is_empty() => json!({"sink": sink, "to": to}),
                _ => json!({"sink": t}),
            })
            .collect();
        body["recipients"] = json!(recipients);
    }
    Ok(body)
}

/// A message id fit for a URL path.
fn path_segment(id: &str) -> anyhow::Result<&str> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(anyhow!("`{id}` is not a message id (msg_…)"));
    }
    Ok(id)
}

/// A page of messages as lines: id, status, when, deliveries, the start of the text.
fn table(page: &Value) -> String {
    let mut out = String::new();
    let empty = Vec::new();
    let messages = page["messages"].as_array().unwrap_or(&empty);
    if messages.is_empty() {
        out.push_str("no messages\n");
    }
    for m in messages {
        let text = m["title"]
            .as_str()
            .or(m["body"].as_str())
            .unwrap_or_default();
        out.push_str(&format!(
            "{}  {:<9}  {}  {:>5}  {}\n",
            m["id"].as_str().unwrap_or_default(),
            m["status"].as_str().unwrap_or_default(),
            m["send_at"].as_str().unwrap_or_default(),
            m["deliveries"],
            sink_api::text::truncate(text, 40).replace('\n', " ")
        ));
    }
    if let Some(cursor) = page["next_cursor"].as_str() {
        out.push_str(&format!("more: --cursor {cursor}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_sink_colon_address() {
        let body = send_body(&SendArgs {
            body: "hi".into(),
            to: vec![
                "sms:+14155552671".into(),
                "sse".into(),
                "slack:C0123456789".into(),
            ],
            ..SendArgs::default()
        })
        .unwrap();
        assert_eq!(
            body["recipients"],
            json!([
                {"sink": "sms", "to": "+14155552671"},
                {"sink": "sse"},
                {"sink": "slack", "to": "C0123456789"}
            ])
        );
        assert!(path_segment("msg_0a").is_ok());
        assert!(path_segment("../x").is_err());
    }
}
