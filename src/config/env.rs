//! The environment's part in config: `${NAME}` interpolation, `HERALD_*` values typed as
//! figment reads them, and serde errors stripped of the values they quote.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{ConfigError, invalid};

/// Replaces `${NAME}` in every string with the variable's value.
pub(super) fn interpolate(
    value: &mut Value,
    key: &str,
    env: &BTreeMap<String, String>,
) -> Result<(), ConfigError> {
    match value {
        Value::String(text) if text.contains("${") => {
            let mut out = String::with_capacity(text.len());
            let mut rest = text.as_str();
            while let Some(start) = rest.find("${") {
                out.push_str(rest.get(..start).unwrap_or(""));
                let after = rest.get(start + 2..).unwrap_or("");
                let Some(end) = after.find('}') else {
                    return Err(invalid(key, "unterminated `${` in value"));
                };
                let name = after.get(..end).unwrap_or("");
                match env.get(name) {
                    Some(v) => out.push_str(v),
                    None => {
                        return Err(invalid(
                            key,
                            format!("environment variable `{name}` is not set"),
                        ));
                    }
                }
                rest = after.get(end + 1..).unwrap_or("");
            }
            out.push_str(rest);
            *text = out;
        }
        Value::Object(map) => {
            for (k, v) in map {
                let child = if key.is_empty() {
                    k.clone()
                } else {
                    format!("{key}.{k}")
                };
                interpolate(v, &child, env)?;
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                interpolate(v, &format!("{key}[{i}]"), env)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// An environment variable's value as config: an integer only when it prints back as the same
/// text (`8`; `0123` or a token of 25 digits stay strings), a plain decimal (`1.0`, `0.25`) as
/// a number, `true`/`false`, `[a, b]` and `{k = v}` as figment reads them; anything else is
/// the string as written.
pub(super) fn env_value(text: &str) -> figment::value::Value {
    let t = text.trim();
    if let Ok(n) = t.parse::<i64>()
        && n.to_string() == t
    {
        return n.into();
    }
    if let Ok(n) = t.parse::<u64>()
        && n.to_string() == t
    {
        return n.into();
    }
    // A plain decimal (`1.0`, `0.25`) is a number, as figment reads it; a secret that looks
    // like one is refused by `sink_api::secret` rather than taken with its text changed.
    let decimal = t.split_once('.').is_some_and(|(int, frac)| {
        let int = int.strip_prefix('-').unwrap_or(int);
        !int.is_empty()
            && !frac.is_empty()
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.bytes().all(|b| b.is_ascii_digit())
    });
    if decimal && let Ok(f) = t.parse::<f64>() {
        return f.into();
    }
    match t {
        "true" => return true.into(),
        "false" => return false.into(),
        _ => {}
    }
    if t.starts_with('[') || t.starts_with('{') {
        let Ok(v) = t.parse::<figment::value::Value>();
        return v;
    }
    text.into()
}

/// A serde error without the value it was about: `invalid type: integer `123`, expected a
/// string` → `invalid type: integer, expected a string`. Config values can be secrets.
pub(super) fn without_values(message: &str) -> String {
    let mut out = message.to_owned();
    for marker in ["invalid type: ", "invalid value: "] {
        let Some(start) = out.find(marker) else {
            continue;
        };
        let from = start + marker.len();
        let Some(rest) = out.get(from..) else {
            continue;
        };
        // The unexpected value is the kind word(s) then ` `…` ` or ` "…"`; keep the kind.
        let Some(expected) = rest.rfind(", expected ") else {
            continue;
        };
        let unexpected = rest.get(..expected).unwrap_or("");
        let kind_end = unexpected.find(['`', '"']).unwrap_or(unexpected.len());
        let kind = unexpected
            .get(..kind_end)
            .unwrap_or("")
            .trim_end()
            .to_owned();
        let tail = rest.get(expected..).unwrap_or("").to_owned();
        out = format!("{}{kind}{tail}", out.get(..from).unwrap_or(""));
    }
    out
}

pub(super) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
