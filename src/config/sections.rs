//! The fixed sections of the config: `[http]`, `[store]`, `[detect]`, `[render]`,
//! `[dispatch]`, with their defaults.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

/// `[http]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Serve HTTP at all (the `replay` command runs without it).
    pub enabled: bool,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// A token with every scope (named `admin` for HTTP Basic); without it and without
    /// `tokens` the API's protected routes are refused.
    #[serde(deserialize_with = "sink_api::secret::optional")]
    pub admin_token: Option<SecretString>,
    /// API tokens, each with a name and the scopes it grants (`[[http.tokens]]`).
    pub tokens: Vec<TokenConfig>,
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

/// `[[http.tokens]]`: one API token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Who holds it: logs name it, and it is the user name of HTTP Basic.
    pub name: String,
    /// The token itself (16 characters or more; `${VAR}` reads it from the environment).
    #[serde(deserialize_with = "sink_api::secret::required")]
    pub token: SecretString,
    /// What it may do.
    pub scopes: Vec<ApiScope>,
}

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiScope {
    /// Publish announcements and send, schedule and cancel messages.
    Publish,
    /// Read messages and their deliveries.
    Read,
    /// Everything, purges included.
    Admin,
    /// Push match data (producers).
    Ingest,
}

impl ApiScope {
    /// The name used in config and errors.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Publish => "publish",
            Self::Read => "read",
            Self::Admin => "admin",
            Self::Ingest => "ingest",
        }
    }
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
            tokens: Vec::new(),
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
    /// Settled deliveries, the events left without any, and finished messages older than
    /// this are deleted (hourly, in batches); pending deliveries never are.
    #[serde(with = "humantime_serde")]
    pub retention: Duration,
}

/// A file next to where herald runs: nothing to install, survives restarts.
pub const DEFAULT_STORE_URL: &str = "sqlite://herald.db";
/// Enough for the poller, one worker per sink and the HTTP API at once.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 8;
/// Failover within half a minute, renewals cheap (one small write every 10 s).
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(30);
/// One small write every 2 s per instance.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(2);
/// A month of history: delivery receipts for corrections and the SSE history outlive any
/// match by far.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 24 * 3_600);
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
            retention: DEFAULT_RETENTION,
        }
    }
}

impl StoreConfig {
    /// The URL with any password replaced, for logs.
    pub fn redacted_url(&self) -> String {
        super::redact_url(&self.url)
    }
}

/// `[detect]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectConfig {
    /// What to do on the very first poll of a source when matches are already in progress.
    pub backlog: Backlog,
    /// Of several sources for one match, how many must report an incident of each group
    /// (`goals`, `cards`, `penalties`) before it is notified; 1 (the first one wins) when
    /// absent.
    pub confirm: BTreeMap<String, u8>,
    /// How long an incident waits for confirmation before it is notified anyway.
    #[serde(with = "humantime_serde")]
    pub confirm_timeout: Duration,
    /// Of several sources for one match, one whose report has not moved for this long while
    /// the match is played is stalled: quota-limited sources go back to their live pace, and
    /// its word no longer holds a retraction back.
    #[serde(with = "humantime_serde")]
    pub stall_after: Duration,
}

impl Default for DetectConfig {
    fn default() -> Self {
        Self {
            backlog: Backlog::default(),
            confirm: BTreeMap::new(),
            confirm_timeout: Duration::from_secs(90),
            stall_after: Duration::from_secs(90),
        }
    }
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
    /// The IANA time zone of quiet hours set without one (`quiet 23:00-07:00`).
    pub time_zone: String,
}

impl Default for RenderConfig {
    fn default() -> Self {
        Self {
            default_locale: "en".to_owned(),
            templates_dir: None,
            time_zone: "UTC".to_owned(),
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
    /// Deliveries in flight at once per sink (each to a different recipient); also how many
    /// recipients' deliveries are read from the outbox at a time.
    pub max_in_flight: usize,
    /// No longer used: deliveries are not claimed one by one any more (one instance at a time
    /// delivers each sink). Accepted so that older configs still load; herald warns.
    #[serde(default, with = "humantime_serde::option")]
    pub claim_ttl: Option<Duration>,
    /// A recipient the platform refuses permanently this many times in a row has its
    /// subscriptions paused (0: never). Counted per process, reset by any success.
    pub pause_after_failures: u32,
    /// At shutdown, how long queued deliveries may take to drain.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
    /// A live ticker message is edited at most once per this interval; events that come
    /// meanwhile go in the next edit.
    #[serde(with = "humantime_serde")]
    pub ticker_interval: Duration,
}

/// Enough that a fan-out to thousands is read and recorded in batches of this size (measured
/// on PostgreSQL: 14,000 deliveries/s with 64, 23,000–27,000/s with 256), few enough that the
/// deliveries waiting on a platform's rate limit cost little.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 256;

/// Eight attempts with doubling delays cover a platform outage of about ten minutes.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;

impl Default for DispatchConfig {
    fn default() -> Self {
        Self {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(300),
            send_timeout: Duration::from_secs(30),
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            claim_ttl: None,
            pause_after_failures: 5,
            shutdown_grace: Duration::from_secs(30),
            ticker_interval: Duration::from_secs(5),
        }
    }
}

/// `[log]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` for people, `json` (one object per line) for log collectors.
    pub format: LogFormat,
    /// The level or filter (`info`, `debug`, `herald=debug,sqlx=warn`); `RUST_LOG`, when set,
    /// overrides it.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".to_owned(),
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// One readable line per event.
    Text,
    /// One JSON object per line, with the span fields (`request_id`, `source`, `sink`).
    Json,
}

/// `[metrics]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Serve Prometheus metrics at `GET /metrics`.
    pub enabled: bool,
    /// Ask for a token with the `read` scope (Prometheus' `authorization` or `basic_auth`).
    pub require_token: bool,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            require_token: false,
        }
    }
}
