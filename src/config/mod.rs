//! Configuration: a TOML file plus `HERALD_SECTION__KEY` environment overrides, with `${VAR}`
//! interpolated from the environment, typed and validated before any I/O. Every error is one
//! line naming the key. Secrets are `SecretString`s and never printed.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use secrecy::SecretString;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::model::EventKind;
use crate::render;
use crate::sources::{Cadence, api_football, fifa, football_data, livescore, replay};

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
    /// Where match data comes from, by id.
    pub sources: BTreeMap<String, SourceConfig>,
    /// Where notifications go, by id.
    pub sinks: BTreeMap<String, SinkConfig>,
}

/// `[http]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Serve HTTP at all (the `replay` command runs without it).
    pub enabled: bool,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Bearer token for `POST /api/v1/publish`; without one the endpoint is refused.
    #[serde(deserialize_with = "sink_api::secret::optional")]
    pub admin_token: Option<SecretString>,
    /// Reverse proxies (addresses or CIDRs) whose forwarding headers are believed; from any
    /// other peer `X-Forwarded-For` is ignored.
    #[serde(deserialize_with = "networks")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long a client may take to send a request's headers, and how long a kept-alive
    /// connection may sit idle before its next request.
    #[serde(with = "humantime_serde")]
    pub header_timeout: Duration,
    /// Connections that have not yet sent a complete request (streams and requests in
    /// progress do not count); more wait in the accept queue until one frees.
    pub max_pending_connections: usize,
    /// A client that accepts no bytes of a response for this long is disconnected (SSE
    /// clients that stopped reading).
    #[serde(with = "humantime_serde")]
    pub write_timeout: Duration,
}

/// Addresses (`10.0.0.5`) and networks (`10.0.0.0/8`, `fd00::/8`).
fn networks<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ipnet::IpNet>, D::Error> {
    let texts = Vec::<String>::deserialize(d)?;
    texts
        .iter()
        .map(|t| {
            let t = t.trim();
            t.parse::<ipnet::IpNet>()
                .or_else(|_| t.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    serde::de::Error::custom(format!(
                        "`{t}` is not an address or a network (e.g. 10.0.0.0/8)"
                    ))
                })
        })
        .collect()
}

/// Loopback by default: exposing herald is a decision, not an accident.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: DEFAULT_LISTEN
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080))),
            admin_token: None,
            trusted_proxies: Vec::new(),
            header_timeout: Duration::from_secs(10),
            max_pending_connections: 256,
            write_timeout: Duration::from_secs(30),
        }
    }
}

/// `[store]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `sqlite://path/to/file.db` (created on first run) or `postgres://user@host/db`.
    pub url: String,
    /// Connection pool size.
    pub max_connections: u32,
    /// How long an instance's claim on polling a source lasts without renewal (renewed every
    /// third of it): when instances share PostgreSQL, another one takes over this long after
    /// the poller dies.
    #[serde(with = "humantime_serde")]
    pub lease_ttl: Duration,
    /// How often this instance tells the store it is alive.
    #[serde(with = "humantime_serde")]
    pub heartbeat: Duration,
    /// How long an instance may stay silent before the others take its deliveries and source
    /// leases over (a crashed process is detected this fast, not after `claim_ttl`).
    #[serde(with = "humantime_serde")]
    pub instance_timeout: Duration,
}

/// A file next to where herald runs: nothing to install, survives restarts.
pub const DEFAULT_STORE_URL: &str = "sqlite://herald.db";
/// Enough for the poller, one worker per sink and the HTTP API at once.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 8;
/// Failover within half a minute, renewals cheap (one small write every 10 s).
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(30);
/// One small write every 2 s per instance.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(2);
/// Three missed heartbeats: a crash is taken over in under 10 s, a slow query is not a crash.
pub const DEFAULT_INSTANCE_TIMEOUT: Duration = Duration::from_secs(6);

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            url: DEFAULT_STORE_URL.to_owned(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            lease_ttl: DEFAULT_LEASE_TTL,
            heartbeat: DEFAULT_HEARTBEAT,
            instance_timeout: DEFAULT_INSTANCE_TIMEOUT,
        }
    }
}

impl StoreConfig {
    /// The URL with any password replaced, for logs.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }
}

/// A database URL fit to print: the password in the user info and every query parameter that
/// can carry a secret (`password`, `sslpassword`, anything with `secret`, `token` or `key` in
/// its name) become `***`. `postgres://u:pw@h/db?password=x` → `postgres://u:***@h/db?password=***`.
pub fn redact_url(url: &str) -> String {
    // The user info ends at the last `@`: a password may hold `/`, `?` or `@` of its own. When
    // in doubt, more is masked, never less.
    let (prefix, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), url),
    };
    let (user, rest) = match rest.rsplit_once('@') {
        Some((userinfo, after)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let masked = if userinfo.contains(':') {
                format!("{user}:***@")
            } else {
                format!("{user}@")
            };
            (masked, after)
        }
        None => (String::new(), rest),
    };
    let (head, query) = match rest.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (rest, None),
    };
    let mut out = format!("{prefix}{user}{head}");
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|pair| {
                let name = pair.split_once('=').map_or(pair, |(n, _)| n);
                let lower = name.to_ascii_lowercase();
                if ["password", "secret", "token", "key"]
                    .iter()
                    .any(|s| lower.contains(s))
                {
                    format!("{name}=***")
                } else {
                    pair.to_owned()
                }
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// `[detect]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectConfig {
    /// What to do on the very first poll of a source when matches are already in progress.
    pub backlog: Backlog,
}

/// Whether a new source's first poll notifies what already happened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backlog {
    /// Remember it silently; notify only what happens from now on.
    #[default]
    Skip,
    /// Notify everything the first poll shows.
    Notify,
}

/// `[render]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RenderConfig {
    /// Locale of sinks and subscribers that do not choose one.
    pub default_locale: String,
    /// A directory of `<locale>/<kind>.j2` files that replace or add to the built-in templates.
    pub templates_dir: Option<PathBuf>,
}

impl Default for RenderConfig {
    fn default() -> Self {
        Self {
            default_locale: "en".to_owned(),
            templates_dir: None,
        }
    }
}

/// `[dispatch]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DispatchConfig {
    /// Failed attempts before a delivery becomes a dead letter.
    pub max_attempts: u32,
    /// First retry delay; doubles each attempt, with jitter.
    #[serde(with = "humantime_serde")]
    pub backoff_base: Duration,
    /// Longest retry delay.
    #[serde(with = "humantime_serde")]
    pub backoff_max: Duration,
    /// How long one `send` may take before it counts as a transient failure.
    #[serde(with = "humantime_serde")]
    pub send_timeout: Duration,
    /// Deliveries in flight at once per sink (each to a different recipient).
    pub max_in_flight: usize,
    /// How long a claimed delivery stays reserved for this instance.
    #[serde(with = "humantime_serde")]
    pub claim_ttl: Duration,
    /// A recipient the platform refuses permanently this many times in a row has its
    /// subscriptions paused (0: never). Counted per process, reset by any success.
    pub pause_after_failures: u32,
    /// At shutdown, how long queued deliveries may take to drain.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
}

/// Eight attempts with doubling delays cover a platform outage of about ten minutes.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;

impl Default for DispatchConfig {
    fn default() -> Self {
        Self {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(300),
            send_timeout: Duration::from_secs(30),
            max_in_flight: 64,
            claim_ttl: Duration::from_secs(120),
            pause_after_failures: 5,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// `[sources.<id>]`
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// The provider and its settings.
    pub kind: SourceKind,
    /// Polling intervals (ignored by replays, which keep their own time).
    pub cadence: Cadence,
}

/// The provider of a source (`type = "…"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SourceKind {
    /// A recorded match.
    Replay(replay::Config),
    /// The FIFA API.
    Fifa(fifa::Config),
    /// LiveScore API.
    Livescore(livescore::Config),
    /// football-data.org v4.
    FootballData(football_data::Config),
    /// API-Football v3.
    ApiFootball(api_football::Config),
}

impl SourceKind {
    const TYPES: [&'static str; 5] = [
        "replay",
        "fifa",
        "livescore",
        "football_data",
        "api_football",
    ];

    /// The `type` name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Replay(_) => "replay",
            Self::Fifa(_) => "fifa",
            Self::Livescore(_) => "livescore",
            Self::FootballData(_) => "football_data",
            Self::ApiFootball(_) => "api_football",
        }
    }

    fn endpoint(&self) -> Option<&str> {
        match self {
            Self::Replay(_) => None,
            Self::Fifa(c) => Some(&c.endpoint),
            Self::Livescore(c) => Some(&c.endpoint),
            Self::FootballData(c) => Some(&c.endpoint),
            Self::ApiFootball(c) => Some(&c.endpoint),
        }
    }
}

/// `[sinks.<id>]`
#[derive(Debug, Clone)]
pub struct SinkConfig {
    /// The platform and its settings.
    pub kind: SinkKind,
    /// Which events go to this sink's configured recipients, in which locale.
    pub route: RouteConfig,
}

/// The platform of a sink (`type = "…"`). One variant per sink crate, each behind its feature.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SinkKind {
    /// Prints to standard output.
    #[cfg(feature = "console")]
    Console(sink_console::Config),
    /// Server-Sent Events at `GET /stream`.
    #[cfg(feature = "sse")]
    Sse(sink_sse::Config),
    /// Telegram chats, with bot commands.
    #[cfg(feature = "telegram")]
    Telegram(sink_telegram::Config),
    /// Slack channels, with mentions and a slash command.
    #[cfg(feature = "slack")]
    Slack(sink_slack::Config),
    /// Discord channels, with slash commands.
    #[cfg(feature = "discord")]
    Discord(sink_discord::Config),
    /// SMS through Twilio, with subscriber signup.
    #[cfg(feature = "twilio")]
    Twilio(Box<sink_twilio::Config>),
    /// Posts on X (Twitter).
    #[cfg(feature = "x")]
    X(sink_x::Config),
}

impl SinkKind {
    /// Sink types this build knows, with the feature that compiles each in.
    const TYPES: [(&'static str, bool); 7] = [
        ("console", cfg!(feature = "console")),
        ("sse", cfg!(feature = "sse")),
        ("telegram", cfg!(feature = "telegram")),
        ("slack", cfg!(feature = "slack")),
        ("discord", cfg!(feature = "discord")),
        ("twilio", cfg!(feature = "twilio")),
        ("x", cfg!(feature = "x")),
    ];

    /// The `type` name.
    pub fn name(&self) -> &'static str {
        match self {
            #[cfg(feature = "console")]
            Self::Console(_) => "console",
            #[cfg(feature = "sse")]
            Self::Sse(_) => "sse",
            #[cfg(feature = "telegram")]
            Self::Telegram(_) => "telegram",
            #[cfg(feature = "slack")]
            Self::Slack(_) => "slack",
            #[cfg(feature = "discord")]
            Self::Discord(_) => "discord",
            #[cfg(feature = "twilio")]
            Self::Twilio(_) => "twilio",
            #[cfg(feature = "x")]
            Self::X(_) => "x",
        }
    }

    /// Whether this is an SSE sink (it mounts `GET /stream`, so there can be one).
    pub fn is_sse(&self) -> bool {
        match self {
            #[cfg(feature = "sse")]
            Self::Sse(_) => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// Whether this is a Twilio sink that serves SMS signup (its routes are fixed paths, so
    /// there can be one).
    pub fn serves_sms_signup(&self) -> bool {
        match self {
            #[cfg(feature = "twilio")]
            Self::Twilio(c) => c.signup.enabled,
            #[allow(unreachable_patterns)]
            _ => false,
        }
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

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
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
    sources: Option<BTreeMap<String, Value>>,
    sinks: Option<BTreeMap<String, Value>>,
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
            sources: default_sources(),
            sinks: default_sinks(),
        }
    }
}

fn default_sources() -> BTreeMap<String, SourceConfig> {
    BTreeMap::from([(
        "demo".to_owned(),
        SourceConfig {
            kind: SourceKind::Replay(replay::Config {
                repeat: true,
                ..replay::Config::default()
            }),
            cadence: Cadence::default(),
        },
    )])
}

fn default_sinks() -> BTreeMap<String, SinkConfig> {
    #[allow(unused_mut)] // empty in builds without the console and sse sinks
    let mut sinks = BTreeMap::new();
    #[cfg(feature = "console")]
    sinks.insert(
        "console".to_owned(),
        SinkConfig {
            kind: SinkKind::Console(sink_console::Config::default()),
            route: RouteConfig::default(),
        },
    );
    #[cfg(feature = "sse")]
    sinks.insert(
        "sse".to_owned(),
        SinkConfig {
            kind: SinkKind::Sse(sink_sse::Config::default()),
            route: RouteConfig::default(),
        },
    );
    sinks
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
        let config = Self {
            http: raw.http,
            store: raw.store,
            detect: raw.detect,
            render: raw.render,
            dispatch: raw.dispatch,
            sources,
            sinks,
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks values that types cannot; pure (no files, no network).
    ///
    /// # Errors
    /// The first problem found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let url = &self.store.url;
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "store.url",
                "must start with sqlite:, postgres:// or postgresql://",
            ));
        }
        if self.store.max_connections == 0 {
            return Err(invalid("store.max_connections", "must be at least 1"));
        }
        if self.store.lease_ttl < Duration::from_secs(1) {
            return Err(invalid("store.lease_ttl", "must be at least 1s"));
        }
        if self.store.heartbeat < Duration::from_millis(100) {
            return Err(invalid("store.heartbeat", "must be at least 100ms"));
        }
        if self.store.instance_timeout < self.store.heartbeat * 3 {
            return Err(invalid(
                "store.instance_timeout",
                "must be at least three times store.heartbeat (one slow heartbeat is not a crash)",
            ));
        }
        if self
            .http
            .admin_token
            .as_ref()
            .is_some_and(|t| secrecy::ExposeSecret::expose_secret(t).len() < 16)
        {
            return Err(invalid(
                "http.admin_token",
                "must be at least 16 characters",
            ));
        }
        for (key, zero) in [
            ("http.header_timeout", self.http.header_timeout.is_zero()),
            ("http.write_timeout", self.http.write_timeout.is_zero()),
        ] {
            if zero {
                return Err(invalid(key, "must be greater than 0"));
            }
        }
        if self.http.max_pending_connections == 0 {
            return Err(invalid(
                "http.max_pending_connections",
                "must be at least 1",
            ));
        }
        let locales_open = self.render.templates_dir.is_some();
        check_locale(
            "render.default_locale",
            &self.render.default_locale,
            locales_open,
        )?;
        let d = &self.dispatch;
        for (key, zero) in [
            ("dispatch.max_attempts", d.max_attempts == 0),
            ("dispatch.backoff_base", d.backoff_base.is_zero()),
            ("dispatch.send_timeout", d.send_timeout.is_zero()),
            ("dispatch.max_in_flight", d.max_in_flight == 0),
            ("dispatch.claim_ttl", d.claim_ttl.is_zero()),
        ] {
            if zero {
                return Err(invalid(key, "must be greater than 0"));
            }
        }
        if d.backoff_max < d.backoff_base {
            return Err(invalid(
                "dispatch.backoff_max",
                "must not be shorter than dispatch.backoff_base",
            ));
        }
        if d.claim_ttl <= d.send_timeout {
            return Err(invalid(
                "dispatch.claim_ttl",
                "must be longer than dispatch.send_timeout",
            ));
        }
        for (id, source) in &self.sources {
            let key = |k: &str| format!("sources.{id}.{k}");
            source
                .cadence
                .validate()
                .map_err(|(k, m)| invalid(key(k), m))?;
            if let Some(endpoint) = source.kind.endpoint() {
                check_url(&key("endpoint"), endpoint)?;
            }
            match &source.kind {
                SourceKind::Replay(r) if !(r.speed.is_finite() && r.speed > 0.0) => {
                    return Err(invalid(key("speed"), "must be a number greater than 0"));
                }
                SourceKind::Fifa(f)
                    if f.competition.trim().is_empty() || f.season.trim().is_empty() =>
                {
                    return Err(invalid(
                        key("season"),
                        "competition and season must not be empty",
                    ));
                }
                SourceKind::FootballData(f) if f.requests_per_minute == 0 => {
                    return Err(invalid(key("requests_per_minute"), "must be at least 1"));
                }
                SourceKind::ApiFootball(f) if f.requests_per_minute == 0 => {
                    return Err(invalid(key("requests_per_minute"), "must be at least 1"));
                }
                _ => {}
            }
        }
        if self.sinks.is_empty() {
            return Err(invalid(
                "sinks",
                "no sink is configured: notifications would go nowhere",
            ));
        }
        for (id, sink) in &self.sinks {
            let key = |k: &str| format!("sinks.{id}.{k}");
            if let Some(locale) = &sink.route.locale {
                check_locale(&key("locale"), locale, locales_open)?;
            }
            for kind in &sink.route.kinds {
                if EventKind::parse(kind).is_none() && !EventKind::GROUPS.contains(&kind.as_str()) {
                    return Err(invalid(
                        key("kinds"),
                        format!(
                            "unknown kind `{kind}` (use a group: {}, or a kind such as goal, full_time)",
                            EventKind::GROUPS.join(", ")
                        ),
                    ));
                }
            }
            match &sink.kind {
                #[cfg(feature = "sse")]
                SinkKind::Sse(c) => {
                    c.validate()
                        .map_err(|m| invalid(format!("sinks.{id}"), m))?;
                }
                #[cfg(feature = "console")]
                SinkKind::Console(_) => {}
                #[cfg(feature = "telegram")]
                SinkKind::Telegram(c) => c.validate().map_err(|(k, m)| invalid(key(k), m))?,
                #[cfg(feature = "slack")]
                SinkKind::Slack(c) => c.validate().map_err(|(k, m)| invalid(key(k), m))?,
                #[cfg(feature = "discord")]
                SinkKind::Discord(c) => c.validate().map_err(|(k, m)| invalid(key(k), m))?,
                #[cfg(feature = "twilio")]
                SinkKind::Twilio(c) => c.validate().map_err(|(k, m)| invalid(key(k), m))?,
                #[cfg(feature = "x")]
                SinkKind::X(c) => c.validate().map_err(|(k, m)| invalid(key(k), m))?,
            }
        }
        #[cfg(feature = "twilio")]
        for (id, sink) in &self.sinks {
            if let SinkKind::Twilio(c) = &sink.kind
                && c.signup.client_ip_header.is_some()
                && self.http.trusted_proxies.is_empty()
            {
                return Err(invalid(
                    format!("sinks.{id}.signup.client_ip_header"),
                    "needs http.trusted_proxies: the header is believed only from your proxies",
                ));
            }
        }
        if self
            .sinks
            .values()
            .filter(|s| s.kind.serves_sms_signup())
            .count()
            > 1
        {
            return Err(invalid(
                "sinks",
                "only one twilio sink can have signup enabled (it serves /api/v1/sms/subscribe and /webhooks/twilio/sms)",
            ));
        }
        if self.sinks.values().filter(|s| s.kind.is_sse()).count() > 1 {
            return Err(invalid(
                "sinks",
                "only one sse sink can be configured (it serves GET /stream)",
            ));
        }
        Ok(())
    }
}

fn check_locale(key: &str, locale: &str, open: bool) -> Result<(), ConfigError> {
    if render::LOCALES.contains(&locale) {
        return Ok(());
    }
    let well_formed = !locale.is_empty()
        && locale
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if open && well_formed {
        // Validated against the template directory at startup.
        return Ok(());
    }
    Err(invalid(
        key,
        format!(
            "unknown locale `{locale}` (available: {})",
            render::LOCALES.join(", ")
        ),
    ))
}

fn check_url(key: &str, url: &str) -> Result<(), ConfigError> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        Ok(u) => Err(invalid(
            key,
            format!("scheme `{}` is not http or https", u.scheme()),
        )),
        Err(e) => Err(invalid(key, format!("not a URL: {e}"))),
    }
}

/// Deserializes `value` into `T`, naming the key of the first problem under `prefix`.
fn typed<T: DeserializeOwned>(prefix: &str, value: Value) -> Result<T, ConfigError> {
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
    let kind_name = type_name(&prefix, id, &mut provider)?;
    if !SourceKind::TYPES.contains(&kind_name.as_str()) {
        return Err(invalid(
            format!("{prefix}.type"),
            format!(
                "unknown source type `{kind_name}` (expected one of: {})",
                SourceKind::TYPES.join(", ")
            ),
        ));
    }
    Ok(SourceConfig {
        kind: typed(&prefix, Value::Object(provider))?,
        cadence: typed(&prefix, Value::Object(cadence))?,
    })
}

/// Splits a `[sinks.<id>]` table into the platform's keys and the routing keys.
fn sink(id: &str, table: Value) -> Result<SinkConfig, ConfigError> {
    let prefix = format!("sinks.{id}");
    let (mut platform, route) = split_table(&prefix, table, &RouteConfig::KEYS)?;
    let kind_name = type_name(&prefix, id, &mut platform)?;
    match SinkKind::TYPES.iter().find(|(name, _)| *name == kind_name) {
        Some((_, true)) => {}
        Some((name, false)) => {
            return Err(invalid(
                format!("{prefix}.type"),
                format!(
                    "sink type `{name}` is not compiled into this build (enable the `{name}` feature)"
                ),
            ));
        }
        None => {
            let known: Vec<&str> = SinkKind::TYPES
                .iter()
                .filter(|(_, on)| *on)
                .map(|(n, _)| *n)
                .collect();
            return Err(invalid(
                format!("{prefix}.type"),
                format!(
                    "unknown sink type `{kind_name}` (expected one of: {})",
                    known.join(", ")
                ),
            ));
        }
    }
    Ok(SinkConfig {
        kind: typed(&prefix, Value::Object(platform))?,
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

/// The `type` key; a table named after its type (`[sinks.sse]`) may leave it out.
fn type_name(
    prefix: &str,
    id: &str,
    table: &mut Map<String, Value>,
) -> Result<String, ConfigError> {
    match table.get("type") {
        Some(Value::String(name)) => {
            let name = if name == "twitter" {
                "x".to_owned()
            } else {
                name.clone()
            };
            table.insert("type".into(), Value::String(name.clone()));
            Ok(name)
        }
        Some(_) => Err(invalid(format!("{prefix}.type"), "must be a string")),
        None => {
            table.insert("type".into(), Value::String(id.to_owned()));
            Ok(id.to_owned())
        }
    }
}

/// Replaces `${NAME}` in every string with the variable's value.
fn interpolate(
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
fn env_value(text: &str) -> figment::value::Value {
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
fn without_values(message: &str) -> String {
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

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
