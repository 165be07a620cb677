//! Configuration of the console sink.

use serde::Deserialize;

/// `[sinks.<id>]` with `type = "console"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// How each notification is printed.
    #[serde(default)]
    pub format: Format,
}

/// Output format of the console sink.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// `[kind] title — body`, for people.
    #[default]
    Text,
    /// One JSON object per line, for programs (`jq`, log shippers).
    Json,
}
