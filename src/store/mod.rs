//! The only module that speaks SQL. SQLite by default (a file created on first run),
//! PostgreSQL at scale, through sqlx's `Any` driver so both run the same queries.
//!
//! Guarantees the rest of herald relies on:
//! - a poll's match states, its new events and their outbox rows commit in one transaction,
//!   before anything is delivered: a crash before the commit re-detects, after it re-sends;
//! - an event id is recorded once (unique index), so nothing is queued twice;
//! - many rows go in one statement as one JSON value (`bulk`), not a statement or a parameter
//!   per row;
//! - a broadcast sink's rows (served by every instance) get ids in commit order, so every
//!   instance follows them in the same order under the same ids (see `matches::record_events`).
//!
//! One file per concern: this one holds the connection, transactions and shared types;
//! `matches` (sources, match states, commits), `outbox` (deliveries), `leases`, `instances`
//! (liveness), `subscriptions`, `signups` and `rate_limits` each add their part of [`Store`].
//!
//! Conventions: rows are read by column name into `#[derive(sqlx::FromRow)]` types (single
//! values with `query_scalar`), never by position; stored codes (`status`, `active`) are named
//! constants, spliced into statements with `sql!`.

/// A statement with store constants spliced in by name: `sql!("… WHERE status = {PENDING}")`.
/// The constant is part of the statement, as a literal would be (the planner sees it); values
/// still go through `$n` binds.
///
/// The text is formatted once per call site into a `static`, so every call sends the same
/// `&'static str`, prepared and cached like a literal. A `static` cannot capture locals: only
/// constants and other items can be named, so no runtime value can reach SQL text this way.
macro_rules! sql {
    ($text:literal) => {{
        static TEXT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| format!($text));
        TEXT.as_str()
    }};
}

mod bulk;
mod data;
mod fusion;
mod instances;
mod leases;
mod matches;
mod messages;
mod migrate;
mod outbox;
mod preferences;
mod pushed;
mod queue;
mod rate_limits;
mod recent;
mod signups;
mod stats;
mod subscriptions;
mod whatsapp;
mod writer;

pub use data::{MatchCursor, MatchFilter, StoredEvent};
pub use instances::Reaped;
pub use matches::{Committed, MatchRow};
pub use messages::{
    Cancelled, Counts, DeliveryRow, DeliveryStatus, MessageRow, MessageState, NewMessage, Purged,
    Recorded,
};
pub use outbox::{DeadLetter, Queued};
pub use preferences::{Ticker, TickerState};
pub use pushed::Pushed;
pub use queue::{Batch, Next};
pub use signups::PendingSignup;
pub use stats::OutboxStats;
pub use subscriptions::SubscriberRow;
pub use whatsapp::WhatsAppSession;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};

use crate::config::StoreConfig;

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A local file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or could not be reached.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// The database server did not accept a connection.
    #[error("cannot connect to {target}")]
    Connect {
        /// `host:port`.
        target: String,
        /// Why.
        #[source]
        source: sqlx::Error,
    },
    /// A migration failed.
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A row that another one refers to is not there (deleted by hand?).
    #[error("the {what} is missing")]
    Missing {
        /// What was being read.
        what: &'static str,
    },
    /// Stored JSON does not parse (written by an incompatible version?).
    #[error("stored {what} is not valid")]
    Corrupt {
        /// What was being read.
        what: &'static str,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
}

/// Delivery states in `outbox.status`.
mod status {
    pub(super) const PENDING: i64 = 0;
    pub(super) const DELIVERED: i64 = 1;
    pub(super) const DEAD: i64 = 2;
    /// Not sent on purpose (over a recipient's daily cap); kept for the record.
    pub(super) const SKIPPED: i64 = 3;
    /// Cancelled through the messages API before it was sent.
    pub(super) const CANCELLED: i64 = 4;
}

/// Values of `subscriptions.active`: a flag, stored as BIGINT 0/1 (SQLite has no boolean).
mod active {
    /// Delivers.
    pub(super) const ACTIVE: i64 = 1;
    /// Paused: by STOP, or because the platform says the recipient is gone.
    pub(super) const PAUSED: i64 = 0;
}

/// A handle on the database; cheap to clone.
///
/// Reads go through `pool`, writes through `writer` (see the `writer` module): the same pool on
/// PostgreSQL, one connection of its own on SQLite, beside which reads run (WAL). SQLite's
/// reading connections are `query_only`, so a write sent to the wrong one fails instead of
/// contending.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    writer: writer::Writer,
    backend: Backend,
    recent: recent::RecentEvents,
    /// How several sources for one match are fused.
    fusion: std::sync::Arc<crate::fusion::Policy>,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `host:port` of a PostgreSQL URL, for errors (never the user or password: they end at the
/// last `@`, whatever they contain).
fn postgres_target(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let host = rest.split(['/', '?']).next().unwrap_or(rest);
    let host = if host.is_empty() { "localhost" } else { host };
    if host.ends_with(']') || !host.contains(':') {
        format!("{host}:5432")
    } else {
        host.to_owned()
    }
}

/// A pool of up to `max` connections, waiting up to `timeout` for one. A connection is not
/// pinged each time it is taken from the pool (sqlx's default): that would double the round
/// trips of every statement. A broken connection fails its statement, which reports the
/// error, and the pool replaces it.
fn pool_options(max: u32, timeout: Duration) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(timeout)
        .test_before_acquire(false)
}

/// How herald sets SQLite connections up: WAL, so that readers work while one connection
/// writes; a busy timeout, so that a writer from another process waits instead of failing;
/// foreign keys enforced.
const SQLITE_SETUP: &str = "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";

/// SQLite's reading connections: set up, and unable to write.
fn sqlite_pool(options: AnyPoolOptions) -> AnyPoolOptions {
    options.after_connect(|conn, _| {
        Box::pin(async move {
            conn.execute(sqlx::raw_sql(SQLITE_SETUP)).await?;
            conn.execute(sqlx::raw_sql("PRAGMA query_only = ON;"))
                .await?;
            Ok(())
        })
    })
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    /// Connects (creating a SQLite file if needed). Does not migrate.
    ///
    /// # Errors
    /// When the database cannot be reached or opened.
    pub async fn connect(config: &StoreConfig) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if config.url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let mut url = config.url.clone();
        let options = pool_options(config.max_connections, Duration::from_secs(10));
        if backend == Backend::Sqlite {
            if !url.contains("mode=") {
                url.push_str(if url.contains('?') {
                    "&mode=rwc"
                } else {
                    "?mode=rwc"
                });
            }
            // The writer first: it creates the file and switches it to WAL before any reader
            // opens it.
            let mut writer = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await?;
            writer.execute(sqlx::raw_sql(SQLITE_SETUP)).await?;
            let writer = writer::Writer::One(std::sync::Arc::new(tokio::sync::Mutex::new(writer)));
            let pool = sqlite_pool(options).connect(&url).await?;
            return Ok(Self {
                pool,
                writer,
                backend,
                recent: recent::RecentEvents::default(),
                fusion: std::sync::Arc::default(),
            });
        }
        // One direct connection first: a server that is down or refuses us is reported at
        // once, with its address and the reason, not as a pool timeout 10 s later.
        let target = postgres_target(&url);
        let attempt = tokio::time::timeout(
            Duration::from_secs(10),
            <sqlx::AnyConnection as sqlx::Connection>::connect(&url),
        )
        .await
        .unwrap_or_else(|_| {
            Err(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no answer within 10 s",
            )))
        });
        match attempt {
            Ok(conn) => {
                let _closed = sqlx::Connection::close(conn).await;
            }
            Err(source) => return Err(StoreError::Connect { target, source }),
        }
        // A pool of a fixed size, kept open: a new connection costs a TLS handshake (measured:
        // 90 ms against 2 ms without TLS), which a burst of deliveries would otherwise wait for.
        let pool = options
            .min_connections(config.max_connections)
            .connect(&url)
            .await?;
        Ok(Self {
            writer: writer::Writer::Pool(pool.clone()),
            pool,
            backend,
            recent: recent::RecentEvents::default(),
            fusion: std::sync::Arc::default(),
        })
    }

    /// Fuses several sources' matches by `policy` (the linked matches, confirmations).
    #[must_use]
    pub fn with_fusion(mut self, policy: crate::fusion::Policy) -> Self {
        self.fusion = std::sync::Arc::new(policy);
        self
    }

    /// A connection to write with (see [`writer`]).
    async fn writer(&self) -> Result<writer::WriteConn, StoreError> {
        self.writer.acquire().await
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Wakes the named wake-ups (sinks, the scheduler, pollers) of the other instances sharing
    /// this PostgreSQL database (see [`crate::signal`]); nothing on SQLite, which one process
    /// owns.
    ///
    /// # Errors
    /// Database errors.
    pub async fn notify(&self, ids: &[&str]) -> Result<(), StoreError> {
        self.notify_channel(
            crate::signal::CHANNEL,
            &crate::signal::payload(ids.iter().copied()),
        )
        .await
    }

    /// Sends `payload` on PostgreSQL notification channel `channel` to every instance
    /// listening (see [`crate::relay`]); nothing on SQLite.
    ///
    /// # Errors
    /// Database errors.
    pub async fn notify_channel(&self, channel: &str, payload: &str) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(channel)
                .bind(payload)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Applies pending migrations; returns how many ran.
    ///
    /// # Errors
    /// When a migration fails or the applied ones differ from this version's.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let mut conn = self.writer().await?;
        Ok(migrate::run(&mut conn, self.backend).await?)
    }

    /// Closes the pools, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

/// A write transaction on `conn`. On SQLite it takes the write lock up front (`BEGIN
/// IMMEDIATE`): a transaction that reads first and writes later would fail at once instead
/// of waiting when another process writes in between.
async fn begin(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
) -> Result<sqlx::Transaction<'_, sqlx::Any>, StoreError> {
    Ok(match backend {
        Backend::Sqlite => sqlx::Connection::begin_with(conn, "BEGIN IMMEDIATE").await?,
        Backend::Postgres => sqlx::Connection::begin(conn).await?,
    })
}
