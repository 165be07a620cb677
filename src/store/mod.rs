//! The only module that speaks SQL. SQLite by default (a file created on first run),
//! PostgreSQL at scale, through sqlx's `Any` driver so both run the same queries.
//!
//! Guarantees the rest of herald relies on:
//! - a poll's match states, its new events and their outbox rows commit in one transaction,
//!   before anything is delivered: a crash before the commit re-detects, after it re-sends;
//! - an event id is recorded once (unique index), so nothing is queued twice;
//! - a delivery is claimed (compare-and-set with a lease) before it is sent, so several
//!   instances sharing PostgreSQL never send the same row twice.

mod instances;
mod migrate;
mod rate_limits;

pub use instances::Reaped;

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sink_api::Recipient;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};

use crate::config::StoreConfig;
use crate::detect::Tracked;
use crate::model::{Event, Phase};
use crate::routing::{self, Route, Scope, Subscription};

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
}

/// A handle on the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// What a commit queued.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Committed {
    /// Events recorded for the first time.
    pub new_events: Vec<Event>,
    /// Sink instances that got new deliveries (to wake their workers).
    pub sinks: BTreeSet<String>,
    /// Deliveries queued.
    pub deliveries: usize,
}

/// A delivery waiting to be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    /// Outbox row id: the delivery's sequence number.
    pub id: i64,
    /// Who receives it.
    pub recipient: Recipient,
    /// Locale to render in.
    pub locale: String,
    /// Failed attempts so far.
    pub attempts: u32,
    /// The event.
    pub event: Event,
    /// When the event was recorded (ms).
    pub created_at_ms: i64,
}

/// A delivery that was given up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Outbox row id.
    pub id: i64,
    /// Sink instance.
    pub sink: String,
    /// Recipient.
    pub recipient: String,
    /// The event id.
    pub event_id: String,
    /// The event kind.
    pub kind: String,
    /// Failed attempts.
    pub attempts: i64,
    /// The last error.
    pub last_error: Option<String>,
    /// When it died (ms).
    pub updated_at_ms: i64,
}

/// A match as the web page lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MatchRow {
    /// Source-qualified id.
    pub id: String,
    /// Competition.
    pub competition: Option<String>,
    /// Home team.
    pub home: String,
    /// Away team.
    pub away: String,
    /// Phase code.
    pub phase: String,
    /// Clock label.
    pub clock: Option<String>,
    /// Home goals.
    pub home_score: i64,
    /// Away goals.
    pub away_score: i64,
    /// Kick-off (Unix seconds).
    pub kickoff: Option<i64>,
    /// Last change (ms).
    pub updated_at_ms: i64,
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
        let mut options = AnyPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(Duration::from_secs(10));
        if backend == Backend::Sqlite {
            if !url.contains("mode=") {
                url.push_str(if url.contains('?') {
                    "&mode=rwc"
                } else {
                    "?mode=rwc"
                });
            }
            options = options.after_connect(|conn, _| {
                Box::pin(async move {
                    // WAL lets readers work while the poller writes; busy_timeout makes writers
                    // wait for each other instead of failing.
                    conn.execute(sqlx::raw_sql(
                        "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                         PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                    ))
                    .await?;
                    Ok(())
                })
            });
        }
        if backend == Backend::Postgres {
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
        }
        let pool = options.connect(&url).await?;
        Ok(Self { pool, backend })
    }

    /// A write transaction. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`):
    /// a transaction that reads first and writes later would fail at once instead of waiting
    /// when another connection writes in between.
    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations; returns how many ran.
    ///
    /// # Errors
    /// When a migration fails or the applied ones differ from this version's.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        Ok(migrate::run(&self.pool, self.backend).await?)
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ---- sources and matches ------------------------------------------------------------

    /// The stored cursor of a source: `None` if it never polled, `Some(None)` if it polled but
    /// keeps no cursor.
    ///
    /// # Errors
    /// Database errors.
    pub async fn source_cursor(&self, name: &str) -> Result<Option<Option<String>>, StoreError> {
        let row = sqlx::query("SELECT cursor FROM sources WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get::<Option<String>, _>(0)))
    }

    /// The stored state of every match of a source.
    ///
    /// # Errors
    /// Database errors, or state written by an incompatible version.
    pub async fn tracked(&self, source: &str) -> Result<Vec<Tracked>, StoreError> {
        let rows = sqlx::query("SELECT state FROM matches WHERE source = $1")
            .bind(source)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                serde_json::from_str(&r.get::<String, _>(0)).map_err(|source| StoreError::Corrupt {
                    what: "match state",
                    source,
                })
            })
            .collect()
    }

    /// Records one poll: the source's cursor, the changed match states, and the new events
    /// with their deliveries, in one transaction. With `deliver` false (a first poll whose
    /// backlog is skipped) events are recorded without deliveries.
    ///
    /// # Errors
    /// Database errors; nothing is recorded then.
    pub async fn commit_poll(
        &self,
        source: &str,
        cursor: Option<&str>,
        states: &[Tracked],
        events: &[Event],
        deliver: bool,
        routes: &[Route],
    ) -> Result<Committed, StoreError> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO sources (name, cursor, first_polled_at, updated_at) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (name) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
        )
        .bind(source)
        .bind(cursor)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for tracked in states {
            let s = &tracked.state;
            let json = serde_json::to_string(tracked).map_err(|source| StoreError::Corrupt {
                what: "match state",
                source,
            })?;
            sqlx::query(
                "INSERT INTO matches (id, source, competition, home, away, phase, clock, home_score, away_score, kickoff, state, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                 ON CONFLICT (id) DO UPDATE SET competition = excluded.competition, home = excluded.home, \
                 away = excluded.away, phase = excluded.phase, clock = excluded.clock, \
                 home_score = excluded.home_score, away_score = excluded.away_score, \
                 kickoff = excluded.kickoff, state = excluded.state, updated_at = excluded.updated_at",
            )
            .bind(&s.id)
            .bind(source)
            .bind(&s.competition)
            .bind(&s.home.name)
            .bind(&s.away.name)
            .bind(s.phase.code())
            .bind(s.clock.map(|c| c.to_string()))
            .bind(i64::from(s.score.home))
            .bind(i64::from(s.score.away))
            .bind(s.kickoff)
            .bind(json)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let committed = record_events(&mut tx, events, deliver, routes, now).await?;
        tx.commit().await?;
        Ok(committed)
    }

    /// Records a published event and queues its deliveries.
    ///
    /// # Errors
    /// Database errors.
    pub async fn publish(&self, event: &Event, routes: &[Route]) -> Result<Committed, StoreError> {
        let mut tx = self.begin().await?;
        let committed =
            record_events(&mut tx, std::slice::from_ref(event), true, routes, now_ms()).await?;
        tx.commit().await?;
        Ok(committed)
    }

    /// Matches for the web page, live first, then by most recent change.
    ///
    /// # Errors
    /// Database errors.
    pub async fn matches(&self, limit: i64) -> Result<Vec<MatchRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, competition, home, away, phase, clock, home_score, away_score, kickoff, updated_at \
             FROM matches ORDER BY updated_at DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<MatchRow> = rows
            .iter()
            .map(|r| MatchRow {
                id: r.get(0),
                competition: r.get(1),
                home: r.get(2),
                away: r.get(3),
                phase: r.get(4),
                clock: r.get(5),
                home_score: r.get(6),
                away_score: r.get(7),
                kickoff: r.get(8),
                updated_at_ms: r.get(9),
            })
            .collect();
        let live = |p: &str| {
            Phase::LINE
                .iter()
                .find(|x| x.code() == p)
                .is_some_and(|x| x.is_playing() || x.is_break())
        };
        out.sort_by_key(|m| (!live(&m.phase), -m.updated_at_ms));
        Ok(out)
    }

    // ---- leases -------------------------------------------------------------------------

    /// Takes or renews the lease `name` for `holder` for `ttl`. Returns whether `holder` holds
    /// it now. Works the same on both backends (an upsert that only wins when the lease is
    /// free, expired or already ours).
    ///
    /// # Errors
    /// Database errors.
    pub async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let result = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at < $4",
        )
        .bind(name)
        .bind(holder)
        .bind(now + ms(ttl))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Gives a lease up (at shutdown), so another instance can take over at once.
    ///
    /// # Errors
    /// Database errors.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ---- the outbox -------------------------------------------------------------------------

    /// The next delivery of every recipient of `sink` that is due and not claimed, oldest
    /// first. Only the head of each recipient's queue is returned: per-recipient order.
    ///
    /// # Errors
    /// Database errors, or an event payload that does not parse.
    pub async fn due(&self, sink: &str, limit: usize) -> Result<Vec<Queued>, StoreError> {
        let now = now_ms();
        let rows = sqlx::query(
            "SELECT o.id, o.recipient, o.locale, o.attempts, e.payload, e.created_at \
             FROM outbox o JOIN events e ON e.seq = o.event_seq \
             WHERE o.id IN (SELECT MIN(id) FROM outbox WHERE sink = $1 AND status = 0 GROUP BY recipient) \
             AND o.next_attempt_at <= $2 AND (o.claimed_until IS NULL OR o.claimed_until < $2) \
             ORDER BY o.id LIMIT $3",
        )
        .bind(sink)
        .bind(now)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(queued).collect()
    }

    /// When the earliest pending delivery of `sink` is due (ms), if any.
    ///
    /// # Errors
    /// Database errors.
    pub async fn next_due_at(&self, sink: &str) -> Result<Option<i64>, StoreError> {
        let row =
            sqlx::query("SELECT MIN(next_attempt_at) FROM outbox WHERE sink = $1 AND status = 0")
                .bind(sink)
                .fetch_one(&self.pool)
                .await?;
        Ok(row.get::<Option<i64>, _>(0))
    }

    /// How many deliveries of `sink` are pending.
    ///
    /// # Errors
    /// Database errors.
    pub async fn pending(&self, sink: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) FROM outbox WHERE sink = $1 AND status = 0")
            .bind(sink)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get::<i64, _>(0))
    }

    /// Reserves delivery `id` for `holder` for `ttl`; `false` if someone else has it.
    ///
    /// # Errors
    /// Database errors.
    pub async fn claim(&self, id: i64, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        let now = now_ms();
        let result = sqlx::query(
            "UPDATE outbox SET claimed_by = $1, claimed_until = $2, updated_at = $3 \
             WHERE id = $4 AND status = 0 AND (claimed_until IS NULL OR claimed_until < $3)",
        )
        .bind(holder)
        .bind(now + ms(ttl))
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// After `holder` claimed the head of a recipient's queue, claims up to `limit` deliveries
    /// queued behind it for the same recipient and returns them in order: a run that can be
    /// sent without going back to the database between deliveries.
    ///
    /// # Errors
    /// Database errors, or an event payload that does not parse.
    pub async fn claim_following(
        &self,
        sink: &str,
        head: &Queued,
        holder: &str,
        ttl: Duration,
        limit: usize,
    ) -> Result<Vec<Queued>, StoreError> {
        let now = now_ms();
        let recipient = head.recipient.as_str();
        sqlx::query(
            "UPDATE outbox SET claimed_by = $1, claimed_until = $2, updated_at = $3 WHERE id IN \
             (SELECT id FROM outbox WHERE sink = $4 AND recipient = $5 AND status = 0 AND id > $6 \
             AND (claimed_until IS NULL OR claimed_until < $3) ORDER BY id LIMIT $7)",
        )
        .bind(holder)
        .bind(now + ms(ttl))
        .bind(now)
        .bind(sink)
        .bind(recipient)
        .bind(head.id)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .execute(&self.pool)
        .await?;
        let rows = sqlx::query(
            "SELECT o.id, o.recipient, o.locale, o.attempts, e.payload, e.created_at \
             FROM outbox o JOIN events e ON e.seq = o.event_seq \
             WHERE o.sink = $1 AND o.recipient = $2 AND o.status = 0 AND o.id > $3 AND o.claimed_by = $4 \
             ORDER BY o.id",
        )
        .bind(sink)
        .bind(recipient)
        .bind(head.id)
        .bind(holder)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(queued).collect()
    }

    /// Marks deliveries done that have no platform message id.
    ///
    /// # Errors
    /// Database errors.
    pub async fn delivered_many(&self, ids: &[i64]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "UPDATE outbox SET status = $1, receipt = NULL, claimed_by = NULL, claimed_until = NULL, \
             last_error = NULL, updated_at = $2 WHERE id IN ({})",
            placeholders(3, ids.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(status::DELIVERED)
            .bind(now_ms());
        for id in ids {
            query = query.bind(*id);
        }
        query.execute(&self.pool).await?;
        Ok(())
    }

    /// Gives claimed deliveries back without attempting them (the run stopped early).
    ///
    /// # Errors
    /// Database errors.
    pub async fn release(&self, ids: &[i64]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE status = 0 AND id IN ({})",
            placeholders(1, ids.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(*id);
        }
        query.execute(&self.pool).await?;
        Ok(())
    }

    /// Marks delivery `id` done, with the platform's message id.
    ///
    /// # Errors
    /// Database errors.
    pub async fn delivered(&self, id: i64, receipt: Option<&str>) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET status = $1, receipt = $2, claimed_by = NULL, claimed_until = NULL, \
             last_error = NULL, updated_at = $3 WHERE id = $4",
        )
        .bind(status::DELIVERED)
        .bind(receipt)
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Schedules delivery `id` again after `delay`, recording `attempts` and the error.
    ///
    /// # Errors
    /// Database errors.
    pub async fn retry_later(
        &self,
        id: i64,
        attempts: u32,
        delay: Duration,
        error: &str,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        sqlx::query(
            "UPDATE outbox SET attempts = $1, next_attempt_at = $2, last_error = $3, \
             claimed_by = NULL, claimed_until = NULL, updated_at = $4 WHERE id = $5",
        )
        .bind(i64::from(attempts))
        .bind(now + ms(delay))
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Gives up on delivery `id`: it becomes a dead letter.
    ///
    /// # Errors
    /// Database errors.
    pub async fn dead(&self, id: i64, attempts: u32, error: &str) -> Result<(), StoreError> {
        self.settle(id, status::DEAD, Some(attempts), error).await
    }

    /// Marks a delivery as deliberately not sent, with the reason.
    ///
    /// # Errors
    /// Database errors.
    pub async fn skip(&self, id: i64, reason: &str) -> Result<(), StoreError> {
        self.settle(id, status::SKIPPED, None, reason).await
    }

    /// Ends delivery `id` unsent with `status` and why, recording `attempts` when given.
    async fn settle(
        &self,
        id: i64,
        status: i64,
        attempts: Option<u32>,
        error: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET status = $1, attempts = COALESCE($2, attempts), last_error = $3, \
             claimed_by = NULL, claimed_until = NULL, updated_at = $4 WHERE id = $5",
        )
        .bind(status)
        .bind(attempts.map(i64::from))
        .bind(error)
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// How many deliveries `sink` made to `recipient` since `since_ms`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn delivered_since(
        &self,
        sink: &str,
        recipient: &str,
        since_ms: i64,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM outbox WHERE sink = $1 AND status = $2 AND recipient = $3 AND updated_at >= $4",
        )
        .bind(sink)
        .bind(status::DELIVERED)
        .bind(recipient)
        .bind(since_ms)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.get(0))
    }

    /// Releases the claims `holder` still has (deliveries cut short at shutdown), so they are
    /// due again at once for the next start or another instance.
    ///
    /// # Errors
    /// Database errors.
    pub async fn release_claims(&self, holder: &str) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = $1 AND status = 0",
        )
        .bind(holder)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected())
    }

    /// Pauses every subscription routing `sink` to `recipient` (the platform says it is gone).
    ///
    /// # Errors
    /// Database errors.
    pub async fn pause_recipient(&self, sink: &str, recipient: &str) -> Result<u64, StoreError> {
        self.set_active(sink, recipient, false).await
    }

    /// Pauses or resumes every subscription routing `sink` to `recipient`; returns how many
    /// changed.
    async fn set_active(
        &self,
        sink: &str,
        recipient: &str,
        active: bool,
    ) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "UPDATE subscriptions SET active = $1, updated_at = $2 WHERE sink = $3 AND recipient = $4 AND active <> $1",
        )
        .bind(i64::from(active))
        .bind(now_ms())
        .bind(sink)
        .bind(recipient)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected())
    }

    /// The platform message id this recipient got for `event_id`, for edits.
    ///
    /// # Errors
    /// Database errors.
    pub async fn receipt(
        &self,
        sink: &str,
        recipient: &str,
        event_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT o.receipt FROM outbox o JOIN events e ON e.seq = o.event_seq \
             WHERE e.event_id = $1 AND o.sink = $2 AND o.recipient = $3 AND o.status = 1",
        )
        .bind(event_id)
        .bind(sink)
        .bind(recipient)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(|r| r.get::<Option<String>, _>(0)))
    }

    /// A recorded event by its id.
    ///
    /// # Errors
    /// Database errors, or a payload that does not parse.
    pub async fn event(&self, event_id: &str) -> Result<Option<Event>, StoreError> {
        let row = sqlx::query("SELECT payload FROM events WHERE event_id = $1")
            .bind(event_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            serde_json::from_str(&r.get::<String, _>(0)).map_err(|source| StoreError::Corrupt {
                what: "event payload",
                source,
            })
        })
        .transpose()
    }

    /// The last `limit` deliveries made by `sink`, oldest first (to seed the SSE history).
    ///
    /// # Errors
    /// Database errors, or an event payload that does not parse.
    pub async fn recent_delivered(
        &self,
        sink: &str,
        limit: usize,
    ) -> Result<Vec<Queued>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.id, o.recipient, o.locale, o.attempts, e.payload, e.created_at \
             FROM outbox o JOIN events e ON e.seq = o.event_seq \
             WHERE o.sink = $1 AND o.status = 1 ORDER BY o.updated_at DESC, o.id DESC LIMIT $2",
        )
        .bind(sink)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        let mut out = rows.iter().map(queued).collect::<Result<Vec<_>, _>>()?;
        out.reverse();
        Ok(out)
    }

    /// Dead letters, newest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn dead_letters(&self, limit: i64) -> Result<Vec<DeadLetter>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.id, o.sink, o.recipient, e.event_id, e.kind, o.attempts, o.last_error, o.updated_at \
             FROM outbox o JOIN events e ON e.seq = o.event_seq \
             WHERE o.status = 2 ORDER BY o.updated_at DESC, o.id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| DeadLetter {
                id: r.get(0),
                sink: r.get(1),
                recipient: r.get(2),
                event_id: r.get(3),
                kind: r.get(4),
                attempts: r.get(5),
                last_error: r.get(6),
                updated_at_ms: r.get(7),
            })
            .collect())
    }

    /// Queues dead letters again (one, or all with `None`); returns how many.
    ///
    /// # Errors
    /// Database errors.
    pub async fn requeue_dead(&self, id: Option<i64>) -> Result<u64, StoreError> {
        let now = now_ms();
        let query = match id {
            Some(id) => sqlx::query(
                "UPDATE outbox SET status = 0, attempts = 0, next_attempt_at = $1, updated_at = $1 WHERE status = 2 AND id = $2",
            )
            .bind(now)
            .bind(id),
            None => sqlx::query(
                "UPDATE outbox SET status = 0, attempts = 0, next_attempt_at = $1, updated_at = $1 WHERE status = 2",
            )
            .bind(now),
        };
        Ok(query.execute(&self.pool).await?.rows_affected())
    }

    /// Adds or updates a subscription (bot commands and signups use this).
    ///
    /// # Errors
    /// Database errors.
    pub async fn subscribe(&self, sub: &Subscription) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        upsert_subscription(&mut conn, sub, now_ms()).await
    }

    /// Removes what `recipient` follows on `sink`: one scope, or everything with `None`.
    /// Returns how many subscriptions were removed.
    ///
    /// # Errors
    /// Database errors.
    pub async fn unsubscribe(
        &self,
        sink: &str,
        recipient: &str,
        scope: Option<&Scope>,
    ) -> Result<u64, StoreError> {
        let result = match scope {
            Some(scope) => {
                let (kind, value) = scope.parts();
                sqlx::query("DELETE FROM subscriptions WHERE sink = $1 AND recipient = $2 AND scope = $3 AND value = $4")
                    .bind(sink)
                    .bind(recipient)
                    .bind(kind)
                    .bind(value)
                    .execute(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("DELETE FROM subscriptions WHERE sink = $1 AND recipient = $2")
                    .bind(sink)
                    .bind(recipient)
                    .execute(&self.pool)
                    .await?
            }
        };
        Ok(result.rows_affected())
    }

    /// What `recipient` follows on `sink` (active subscriptions).
    ///
    /// # Errors
    /// Database errors.
    pub async fn subscriptions_of(
        &self,
        sink: &str,
        recipient: &str,
    ) -> Result<Vec<Subscription>, StoreError> {
        let rows = sqlx::query(
            "SELECT sink, recipient, scope, value, kinds, locale FROM subscriptions \
             WHERE sink = $1 AND recipient = $2 AND active = 1 ORDER BY id",
        )
        .bind(sink)
        .bind(recipient)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().filter_map(subscription).collect())
    }

    /// The locale `recipient`'s subscriptions on `sink` use, paused ones included, if any.
    ///
    /// # Errors
    /// Database errors.
    pub async fn subscriber_locale(
        &self,
        sink: &str,
        recipient: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT locale FROM subscriptions WHERE sink = $1 AND recipient = $2 \
             AND locale IS NOT NULL ORDER BY id LIMIT 1",
        )
        .bind(sink)
        .bind(recipient)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }

    /// The locale a chat chose with `lang`, if it did.
    ///
    /// # Errors
    /// Database errors.
    pub async fn chat_locale(
        &self,
        sink: &str,
        recipient: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT locale FROM chats WHERE sink = $1 AND recipient = $2")
            .bind(sink)
            .bind(recipient)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.and_then(|r| r.get::<Option<String>, _>(0)))
    }

    /// Records a chat's locale and applies it to everything the chat follows.
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_chat_locale(
        &self,
        sink: &str,
        recipient: &str,
        locale: &str,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO chats (sink, recipient, locale, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (sink, recipient) DO UPDATE SET locale = excluded.locale, updated_at = excluded.updated_at",
        )
        .bind(sink)
        .bind(recipient)
        .bind(locale)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE subscriptions SET locale = $1, updated_at = $2 WHERE sink = $3 AND recipient = $4")
            .bind(locale)
            .bind(now)
            .bind(sink)
            .bind(recipient)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every team and competition name herald has seen, for matching what users type.
    ///
    /// # Errors
    /// Database errors.
    pub async fn known_names(&self) -> Result<(Vec<String>, Vec<String>), StoreError> {
        let teams = sqlx::query("SELECT home FROM matches UNION SELECT away FROM matches")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect();
        let competitions =
            sqlx::query("SELECT DISTINCT competition FROM matches WHERE competition IS NOT NULL")
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| r.get::<String, _>(0))
                .collect();
        Ok((teams, competitions))
    }

    /// Active subscriptions of `sink`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn subscriptions(&self, sink: &str) -> Result<Vec<Subscription>, StoreError> {
        let rows = sqlx::query(
            "SELECT sink, recipient, scope, value, kinds, locale FROM subscriptions WHERE sink = $1 AND active = 1 ORDER BY id",
        )
        .bind(sink)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().filter_map(subscription).collect())
    }
}

/// An SMS signup waiting for its confirmation code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSignup {
    /// The Twilio sink instance.
    pub sink: String,
    /// The number, E.164.
    pub phone: String,
    /// The code texted to it.
    pub code: String,
    /// What it will follow once confirmed (empty: everything).
    pub scopes: Vec<Scope>,
    /// Kinds or groups; empty for all.
    pub kinds: Vec<String>,
    /// Its locale.
    pub locale: String,
    /// Wrong codes tried so far.
    pub attempts: u32,
    /// When the code stops working (ms).
    pub expires_at_ms: i64,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct SignupRequest {
    scopes: Vec<(String, String)>,
    kinds: Vec<String>,
    locale: String,
}

/// A subscription as operators list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberRow {
    /// The subscription.
    pub subscription: Subscription,
    /// Whether it delivers (paused by STOP or a gone recipient otherwise).
    pub active: bool,
    /// When it was created (ms).
    pub created_at_ms: i64,
}

impl Store {
    /// Records a signup waiting for confirmation, replacing an earlier one of the same number.
    ///
    /// # Errors
    /// Database errors.
    pub async fn put_signup(&self, signup: &PendingSignup) -> Result<(), StoreError> {
        let request = serde_json::to_string(&SignupRequest {
            scopes: signup
                .scopes
                .iter()
                .map(|s| {
                    let (k, v) = s.parts();
                    (k.to_owned(), v.to_owned())
                })
                .collect(),
            kinds: signup.kinds.clone(),
            locale: signup.locale.clone(),
        })
        .map_err(|source| StoreError::Corrupt {
            what: "signup",
            source,
        })?;
        sqlx::query(
            "INSERT INTO sms_signups (sink, phone, code, request, attempts, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, 0, $5, $6) ON CONFLICT (sink, phone) DO UPDATE SET \
             code = excluded.code, request = excluded.request, attempts = 0, \
             created_at = excluded.created_at, expires_at = excluded.expires_at",
        )
        .bind(&signup.sink)
        .bind(&signup.phone)
        .bind(&signup.code)
        .bind(request)
        .bind(now_ms())
        .bind(signup.expires_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The signup of `phone` waiting for confirmation, if any.
    ///
    /// # Errors
    /// Database errors, or a stored request that does not parse.
    pub async fn signup(
        &self,
        sink: &str,
        phone: &str,
    ) -> Result<Option<PendingSignup>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT code, request, attempts, expires_at FROM sms_signups WHERE sink = $1 AND phone = $2",
        )
        .bind(sink)
        .bind(phone)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let request: SignupRequest =
            serde_json::from_str(&row.get::<String, _>(1)).map_err(|source| {
                StoreError::Corrupt {
                    what: "signup",
                    source,
                }
            })?;
        Ok(Some(PendingSignup {
            sink: sink.to_owned(),
            phone: phone.to_owned(),
            code: row.get(0),
            scopes: request
                .scopes
                .into_iter()
                .filter_map(|(k, v)| Scope::from_parts(&k, v))
                .collect(),
            kinds: request.kinds,
            locale: request.locale,
            attempts: u32::try_from(row.get::<i64, _>(2)).unwrap_or(u32::MAX),
            expires_at_ms: row.get(3),
        }))
    }

    /// Forgets signups whose code expired before `now_ms`: numbers that never confirmed are
    /// not kept. Returns how many.
    ///
    /// # Errors
    /// Database errors.
    pub async fn sweep_signups(&self, now_ms: i64) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM sms_signups WHERE expires_at < $1")
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }

    /// Counts one code attempt against the pending signup of `phone`, if it is unexpired and
    /// has attempts left; returns whether it did. Check-and-count is one statement, so any
    /// number of concurrent guesses compare at most `max_attempts` codes in all.
    ///
    /// # Errors
    /// Database errors.
    pub async fn take_signup_attempt(
        &self,
        sink: &str,
        phone: &str,
        max_attempts: u32,
    ) -> Result<bool, StoreError> {
        let counted = sqlx::query(
            "UPDATE sms_signups SET attempts = attempts + 1 \
             WHERE sink = $1 AND phone = $2 AND attempts < $3 AND expires_at >= $4",
        )
        .bind(sink)
        .bind(phone)
        .bind(i64::from(max_attempts))
        .bind(now_ms())
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(counted == 1)
    }

    /// Forgets a pending signup.
    ///
    /// # Errors
    /// Database errors.
    pub async fn drop_signup(&self, sink: &str, phone: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sms_signups WHERE sink = $1 AND phone = $2")
            .bind(sink)
            .bind(phone)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Turns a pending signup into active subscriptions, in one transaction.
    ///
    /// # Errors
    /// Database errors; nothing changes then.
    pub async fn confirm_signup(&self, signup: &PendingSignup) -> Result<(), StoreError> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let scopes = if signup.scopes.is_empty() {
            vec![Scope::All]
        } else {
            signup.scopes.clone()
        };
        for scope in scopes {
            let sub = Subscription {
                sink: signup.sink.clone(),
                recipient: Recipient::new(&signup.phone),
                scope,
                kinds: signup.kinds.clone(),
                locale: Some(signup.locale.clone()),
            };
            upsert_subscription(&mut tx, &sub, now).await?;
        }
        sqlx::query("DELETE FROM sms_signups WHERE sink = $1 AND phone = $2")
            .bind(&signup.sink)
            .bind(&signup.phone)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Reactivates every subscription routing `sink` to `recipient` (START after STOP).
    /// Returns how many.
    ///
    /// # Errors
    /// Database errors.
    pub async fn resume_recipient(&self, sink: &str, recipient: &str) -> Result<u64, StoreError> {
        self.set_active(sink, recipient, true).await
    }

    /// Every subscription, active or paused, of one sink or of all, for operators.
    ///
    /// # Errors
    /// Database errors.
    pub async fn subscriber_rows(
        &self,
        sink: Option<&str>,
    ) -> Result<Vec<SubscriberRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT sink, recipient, scope, value, kinds, locale, active, created_at FROM subscriptions \
             WHERE $1 = '' OR sink = $1 ORDER BY sink, recipient, id",
        )
        .bind(sink.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                Some(SubscriberRow {
                    subscription: subscription(r)?,
                    active: r.get::<i64, _>(6) == 1,
                    created_at_ms: r.get(7),
                })
            })
            .collect())
    }
}

/// Adds or reactivates a subscription, updating its kinds and locale.
async fn upsert_subscription(
    conn: &mut sqlx::AnyConnection,
    sub: &Subscription,
    now: i64,
) -> Result<(), StoreError> {
    let (scope, value) = sub.scope.parts();
    sqlx::query(
        "INSERT INTO subscriptions (sink, recipient, scope, value, kinds, locale, active, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) \
         ON CONFLICT (sink, recipient, scope, value) DO UPDATE SET kinds = excluded.kinds, \
         locale = excluded.locale, active = 1, updated_at = excluded.updated_at",
    )
    .bind(&sub.sink)
    .bind(sub.recipient.as_str())
    .bind(scope)
    .bind(value)
    .bind(sub.kinds.join(","))
    .bind(&sub.locale)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// `$first, $first+1, …` for `count` bound values (only numbers are ever spliced into SQL).
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn subscription(r: &AnyRow) -> Option<Subscription> {
    let scope = Scope::from_parts(&r.get::<String, _>(2), r.get(3))?;
    let kinds: String = r.get(4);
    Some(Subscription {
        sink: r.get(0),
        recipient: Recipient::new(r.get::<String, _>(1)),
        scope,
        kinds: kinds
            .split(',')
            .filter(|k| !k.is_empty())
            .map(str::to_owned)
            .collect(),
        locale: r.get(5),
    })
}

fn queued(r: &AnyRow) -> Result<Queued, StoreError> {
    let payload: String = r.get(4);
    Ok(Queued {
        id: r.get(0),
        recipient: Recipient::new(r.get::<String, _>(1)),
        locale: r.get(2),
        attempts: u32::try_from(r.get::<i64, _>(3)).unwrap_or(u32::MAX),
        event: serde_json::from_str(&payload).map_err(|source| StoreError::Corrupt {
            what: "event payload",
            source,
        })?,
        created_at_ms: r.get(5),
    })
}

/// Inserts events (once each) and, when `deliver`, their outbox rows.
async fn record_events(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    events: &[Event],
    deliver: bool,
    routes: &[Route],
    now: i64,
) -> Result<Committed, StoreError> {
    let mut committed = Committed::default();
    if events.is_empty() {
        return Ok(committed);
    }
    let mut subscriptions = Vec::new();
    if deliver {
        let rows = sqlx::query(
            "SELECT sink, recipient, scope, value, kinds, locale FROM subscriptions WHERE active = 1 ORDER BY id",
        )
        .fetch_all(&mut **tx)
        .await?;
        subscriptions = rows.iter().filter_map(subscription).collect();
    }
    for event in events {
        let payload = serde_json::to_string(event).map_err(|source| StoreError::Corrupt {
            what: "event payload",
            source,
        })?;
        let seq: Option<i64> = sqlx::query(
            "INSERT INTO events (event_id, match_id, kind, payload, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (event_id) DO NOTHING RETURNING seq",
        )
        .bind(&event.id)
        .bind(&event.match_id)
        .bind(event.kind.as_str())
        .bind(payload)
        .bind(now)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| r.get(0));
        let Some(seq) = seq else {
            tracing::debug!(event_id = %event.id, "event already recorded; not queued again");
            continue;
        };
        committed.new_events.push(event.clone());
        if !deliver {
            continue;
        }
        for target in routing::targets(event, routes, &subscriptions) {
            sqlx::query(
                "INSERT INTO outbox (event_seq, sink, recipient, locale, status, attempts, next_attempt_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 0, $6, $6, $6) ON CONFLICT (event_seq, sink, recipient) DO NOTHING",
            )
            .bind(seq)
            .bind(&target.sink)
            .bind(target.recipient.as_str())
            .bind(&target.locale)
            .bind(status::PENDING)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            committed.deliveries += 1;
            committed.sinks.insert(target.sink);
        }
    }
    Ok(committed)
}
