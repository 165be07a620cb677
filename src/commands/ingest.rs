//! `herald ingest FILE`: pushes match snapshots from a file (or `-` for stdin) to the running
//! herald's ingest API, in order, as a producer would. The file holds pushes
//! (`{"source", "match"}`), bare snapshots (the `match` object), arrays of either, or one per
//! line; `--source` names the push source of bare snapshots.

use std::fmt::Write as _;

use anyhow::{Context as _, anyhow};
use serde_json::{Value, json};

use super::Remote;

/// Pushes every snapshot of `text` to `remote`; returns what to print. Stops at the first
/// one herald refuses, saying which it was.
///
/// # Errors
/// The text is not JSON, herald cannot be reached or refused a snapshot.
pub async fn ingest(remote: &Remote, text: &str, source: Option<&str>) -> anyhow::Result<String> {
    let pushes = pushes(text, source)?;
    if pushes.is_empty() {
        return Err(anyhow!("nothing to push: the file holds no snapshot"));
    }
    let client = remote.client()?;
    let api = format!("{}/api/v1/ingest", remote.url);
    let mut out = String::new();
    for (i, push) in pushes.iter().enumerate() {
        let (_, answer) = remote
            .call(client.post(&api).json(push))
            .await
            .with_context(|| format!("snapshot {} of {}", i + 1, pushes.len()))?;
        writeln!(
            out,
            "{} accepted (#{})",
            answer["match_id"].as_str().unwrap_or_default(),
            answer["seq"]
        )?;
    }
    Ok(out)
}

/// The pushes in `text`, bare snapshots wrapped with `source`.
fn pushes(text: &str, source: Option<&str>) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    for value in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
        let value = value.context("the file is not JSON")?;
        let items = match value {
            Value::Array(items) => items,
            other => vec![other],
        };
        for item in items {
            let Value::Object(map) = &item else {
                return Err(anyhow!("expected JSON objects (snapshots), found {item}"));
            };
            let mut push = if map.contains_key("match") {
                item
            } else {
                json!({ "match": item })
            };
            if let Some(source) = source
                && push.get("source").is_none()
            {
                push["source"] = json!(source);
            }
            out.push(push);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_snapshots_and_arrays_and_lines() {
        let text = r#"{"source": "a", "match": {"id": "1"}}
            [{"id": "2"}, {"id": "3"}]
            {"id": "4"}"#;
        let got = pushes(text, Some("b")).unwrap();
        let ids: Vec<(&str, &str)> = got
            .iter()
            .map(|p| {
                (
                    p["source"].as_str().unwrap(),
                    p["match"]["id"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(ids, [("a", "1"), ("b", "2"), ("b", "3"), ("b", "4")]);
        assert!(pushes("{", None).is_err());
        assert!(pushes("[1]", None).is_err());
    }
}
