//! Configuration: a TOML file plus `HERALD_SECTION__KEY` environment overrides, with `${VAR}`
//! interpolated from the environment, typed and validated before any I/O. Every error is one
//! line naming the key. Secrets are `SecretString`s and never printed.

mod env;
mod redact;
mod sections;
mod validate;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::plugins::{self, SinkSpec, SourceSpec};
use crate::sources::{Cadence, replay};

use env::{env_value, interpolate, one_line, without_values};
pub use redact::redact_url;
pub use sections::*;

/// Environment variables with this prefix and a `__` in their name override config keys:
/// `HERALD_HTTP__LISTEN=0.0.0.0:8080` sets `http.listen`.
pub const ENV_PREFIX: &str = "HERALD_";

/// herald's whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The HTTP server: web page, SSE stream, APIs.
    pub http: HttpConfig,
    /// Where state, events and the outbox live.
    pub store: StoreConfig,
    /// Detection policy.
    pub detect: DetectConfig,
    /// Templates and locales.
    pub render: RenderConfig,
    /// Delivery policy shared by every sink.
    pub dispatch: DispatchConfig,
    /// Log format and level.
    pub log: LogConfig,
    /// The Prometheus endpoint.
    pub metrics: MetricsConfig,
    /// Where match data comes from, by id.
    pub sources: BTreeMap<String, SourceConfig>,
    /// Where notifications go, by id.
    pub sinks: BTreeMap<String, SinkConfig>,
    /// Matches of different sources that are one match (`[[links]]`), for what recognition
    /// misses.
    pub links: crate::fusion::Links,
}

/// `[[links]]`: `matches = ["fifa:300331552", "football_data:200199"]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkConfig {
    matches: Vec<String>,
}

/// `[sources.<id>]`
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// The provider and its settings.
    pub spec: Arc<dyn SourceSpec>,
    /// Polling intervals (ignored by replays, which keep their own time).
    pub cadence: Cadence,
}

impl SourceConfig {
    /// The `type` name.
    pub fn kind(&self) -> &'static str {
        self.spec.kind()
    }

    /// The provider's settings, when they are a `T` (`sources::replay::Config`).
    pub fn settings<T: 'static>(&self) -> Option<&T> {
        self.spec.settings().downcast_ref()
    }
}

/// `[sinks.<id>]`
#[derive(Debug, Clone)]
pub struct SinkConfig {
    /// The platform and its settings.
    pub spec: Arc<dyn SinkSpec>,
    /// Which events go to this sink's configured recipients, in which locale.
    pub route: RouteConfig,
}

impl SinkConfig {
    /// The `type` name.
    pub fn kind(&self) -> &'static str {
        self.spec.kind()
    }

    /// The platform's settings, when they are a `T` (`sink_twilio::Config`).
    pub fn settings<T: 'static>(&self) -> Option<&T> {
        self.spec.settings().downcast_ref()
    }
}

/// Routing keys shared by every sink table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RouteConfig {
    /// Locale of the rendered text; `render.default_locale` when unset.
    pub locale: Option<String>,
    /// Event kinds or groups (`goals`, `cards`, `penalties`, `periods`, `announcements`);
    /// empty means all.
    pub kinds: Vec<String>,
    /// Team names (case-insensitive); empty means all.
    pub teams: Vec<String>,
    /// Competition names (case-insensitive); empty means all.
    pub competitions: Vec<String>,
    /// Match ids (`<source>:<provider id>`); empty means all.
    pub matches: Vec<String>,
}

impl RouteConfig {
    const KEYS: [&'static str; 5] = ["locale", "kinds", "teams", "competitions", "matches"];
}

/// A configuration problem, in one line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read or is not valid TOML.
    #[error("{0}")]
    File(String),
    /// A key is unknown, missing or has a bad value.
    #[error("{key}: {message}")]
    Invalid {
        /// The dotted key, e.g. `sinks.console.format`.
        key: String,
        /// What is wrong.
        message: String,
    },
}

pub(crate) fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    http: HttpConfig,
    #[serde(default)]
    store: StoreConfig,
    #[serde(default)]
    detect: DetectConfig,
    #[serde(default)]
    render: RenderConfig,
    #[serde(default)]
    dispatch: DispatchConfig,
    #[serde(default)]
    log: LogConfig,
    #[serde(default)]
    metrics: MetricsConfig,
    sources: Option<BTreeMap<String, Value>>,
    sinks: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    links: Vec<LinkConfig>,
}

impl Default for Config {
    /// The demo: the bundled match replayed on a loop to the console and the web page.
    fn default() -> Self {
        Self {
            http: HttpConfig::default(),
            store: StoreConfig::default(),
            detect: DetectConfig::default(),
            render: RenderConfig::default(),
            dispatch: DispatchConfig::default(),
            log: LogConfig::default(),
            metrics: MetricsConfig::default(),
            sources: default_sources(),
            sinks: default_sinks(),
            links: crate::fusion::Links::default(),
        }
    }
}

fn default_sources() -> BTreeMap<String, SourceConfig> {
    let replay = replay::Config {
        repeat: true,
        ..replay::Config::default()
    };
    BTreeMap::from([(
        "demo".to_owned(),
        SourceConfig {
            spec: plugins::source_spec::<replay::Plugin>(replay),
            cadence: Cadence::default(),
        },
    )])
}

/// The demo's sinks: the console, the live page's stream and its rooms, those compiled in.
fn default_sinks() -> BTreeMap<String, SinkConfig> {
    ["console", "sse", "socketio"]
        .into_iter()
        .filter_map(|kind| {
            let plugin = plugins::sink_type(kind)?;
            let spec = plugin.parse(kind, Value::Object(Map::new())).ok()?;
            let route = RouteConfig::default();
            Some((kind.to_owned(), SinkConfig { spec, route }))
        })
        .collect()
}

impl Config {
    /// Loads `file` (if any) and the `HERALD_…__…` variables of `env`, interpolates `${VAR}`
    /// from `env`, and validates. Absent `[sources]` / `[sinks]` tables mean the demo ones.
    ///
    /// # Errors
    /// One line naming the file or the key that is wrong.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let env: BTreeMap<String, String> = env.into_iter().collect();
        let mut figment = Figment::new();
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::File(format!(
                    "{}: no such config file",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        for (name, value) in &env {
            let Some(key) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if !key.contains("__") {
                continue;
            }
            let path = key.to_ascii_lowercase().replace("__", ".");
            let value = env_value(value);
            figment = figment.merge(Serialized::globals(figment::util::nest(&path, value)));
        }
        let mut tree: Value = figment.extract().map_err(|e| {
            let origin = file.map_or_else(|| "environment".to_owned(), |p| p.display().to_string());
            ConfigError::File(format!(
                "{origin}: {}",
                one_line(&without_values(&e.to_string()))
            ))
        })?;
        interpolate(&mut tree, "", &env)?;
        Self::from_value(tree)
    }

    /// Builds a config from an already-merged tree (used by `load` and by tests).
    ///
    /// # Errors
    /// One line naming the key that is wrong.
    pub fn from_value(tree: Value) -> Result<Self, ConfigError> {
        let raw: RawConfig = typed("", tree)?;
        let sources = match raw.sources {
            None => default_sources(),
            Some(tables) => tables
                .into_iter()
                .map(|(id, table)| Ok((id.clone(), source(&id, table)?)))
                .collect::<Result<_, ConfigError>>()?,
        };
        let sinks = match raw.sinks {
            None => default_sinks(),
            Some(tables) => tables
                .into_iter()
                .map(|(id, table)| Ok((id.clone(), sink(&id, table)?)))
                .collect::<Result<_, ConfigError>>()?,
        };
        let links = crate::fusion::Links::new(raw.links.into_iter().map(|l| l.matches).collect())
            .map_err(|e| invalid(format!("links[{}].matches", e.index()), e.to_string()))?;
        let config = Self {
            links,
            http: raw.http,
            store: raw.store,
            detect: raw.detect,
            render: raw.render,
            dispatch: raw.dispatch,
            log: raw.log,
            metrics: raw.metrics,
            sources,
            sinks,
        };
        config.validate()?;
        Ok(config)
    }
}

/// Deserializes `value` into `T`, naming the key of the first problem under `prefix`.
pub(crate) fn typed<T: DeserializeOwned>(prefix: &str, value: Value) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let key = match (prefix.is_empty(), path.as_str()) {
            (true, ".") => "config".to_owned(),
            (true, p) => p.to_owned(),
            (false, ".") => prefix.to_owned(),
            (false, p) => format!("{prefix}.{p}"),
        };
        invalid(key, one_line(&without_values(&e.into_inner().to_string())))
    })
}

/// Splits a `[sources.<id>]` table into the provider's keys and the cadence keys.
fn source(id: &str, table: Value) -> Result<SourceConfig, ConfigError> {
    let prefix = format!("sources.{id}");
    let (mut provider, cadence) = split_table(&prefix, table, &Cadence::KEYS)?;
    let kind = type_name(&prefix, id, &mut provider)?;
    let Some(source_type) = plugins::source_type(&kind) else {
        let known: Vec<&str> = plugins::SOURCES.iter().map(|s| s.kind()).collect();
        return Err(invalid(
            format!("{prefix}.type"),
            format!(
                "unknown source type `{kind}` (expected one of: {})",
                known.join(", ")
            ),
        ));
    };
    Ok(SourceConfig {
        spec: source_type.parse(&prefix, Value::Object(provider))?,
        cadence: typed(&prefix, Value::Object(cadence))?,
    })
}

/// Splits a `[sinks.<id>]` table into the platform's keys and the routing keys.
fn sink(id: &str, table: Value) -> Result<SinkConfig, ConfigError> {
    let prefix = format!("sinks.{id}");
    let (mut platform, route) = split_table(&prefix, table, &RouteConfig::KEYS)?;
    let kind = type_name(&prefix, id, &mut platform)?;
    let Some(sink_type) = plugins::sink_type(&kind) else {
        let message = if plugins::SINKS.iter().any(|e| e.feature == kind) {
            format!(
                "sink type `{kind}` is not compiled into this build (enable the `{kind}` feature)"
            )
        } else {
            let known: Vec<&str> = plugins::SINKS
                .iter()
                .filter_map(|e| e.plugin.map(|p| p.kind()))
                .collect();
            format!(
                "unknown sink type `{kind}` (expected one of: {})",
                known.join(", ")
            )
        };
        return Err(invalid(format!("{prefix}.type"), message));
    };
    Ok(SinkConfig {
        spec: sink_type.parse(&prefix, Value::Object(platform))?,
        route: typed(&prefix, Value::Object(route))?,
    })
}

/// A TOML table as JSON.
type Table = Map<String, Value>;

fn split_table(prefix: &str, table: Value, shared: &[&str]) -> Result<(Table, Table), ConfigError> {
    let Value::Object(map) = table else {
        return Err(invalid(prefix, "must be a table"));
    };
    let (picked, rest): (Table, Table) = map
        .into_iter()
        .partition(|(k, _)| shared.contains(&k.as_str()));
    Ok((rest, picked))
}

/// Takes the `type` key out of the table; a table named after its type (`[sinks.sse]`) may
/// leave it out.
fn type_name(prefix: &str, id: &str, table: &mut Table) -> Result<String, ConfigError> {
    match table.remove("type") {
        Some(Value::String(name)) => Ok(name),
        Some(_) => Err(invalid(format!("{prefix}.type"), "must be a string")),
        None => Ok(id.to_owned()),
    }
}

#[cfg(test)]
mod tests;
