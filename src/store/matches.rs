//! Sources and matches: cursors, tracked match states, a poll's commit (states, new events
//! and their deliveries in one transaction), published messages, and the lists the page and
//! the name matching read.

use std::collections::{BTreeSet, HashMap, HashSet};

use sink_api::Delivery;
use sqlx::AnyConnection;

use super::active::ACTIVE;
use super::bulk::{self, Column, per_backend};
use super::status::{DELIVERED, PENDING};
use super::subscriptions::SubscriptionRow;
use super::{Backend, Store, StoreError, now_ms};
use crate::detect::Tracked;
use crate::model::{Event, Phase};
use crate::routing::{self, Audience, Route};

/// What a commit queued.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Committed {
    /// Events recorded for the first time.
    pub new_events: Vec<Event>,
    /// Sink instances that got new deliveries (to wake their workers).
    pub sinks: BTreeSet<String>,
    /// Deliveries queued.
    pub deliveries: usize,
    /// For incidents another source of the same match reported first: how much later this
    /// source had them (ms).
    pub lags_ms: Vec<i64>,
}

impl Committed {
    /// Both commits' events, sinks and deliveries together.
    #[must_use]
    pub fn merge(mut self, other: Self) -> Self {
        self.new_events.extend(other.new_events);
        self.sinks.extend(other.sinks);
        self.deliveries += other.deliveries;
        self.lags_ms.extend(other.lags_ms);
        self
    }
}

/// A match as the web page lists it (read as selected: `updated_at AS updated_at_ms`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct MatchRow {
    /// Source-qualified id.
    pub id: String,
    /// The source (`[sources.<id>]`).
    pub source: String,
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

impl MatchRow {
    /// Whether the match is running: in play or in a break.
    pub fn is_live(&self) -> bool {
        Phase::LINE
            .iter()
            .any(|p| p.code() == self.phase && (p.is_playing() || p.is_break()))
    }
}

impl Store {
    /// The stored cursor of a source: `None` if it never polled, `Some(None)` if it polled but
    /// keeps no cursor.
    ///
    /// # Errors
    /// Database errors.
    pub async fn source_cursor(&self, name: &str) -> Result<Option<Option<String>>, StoreError> {
        Ok(
            sqlx::query_scalar::<_, Option<String>>("SELECT cursor FROM sources WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// The stored state of every match of a source.
    ///
    /// # Errors
    /// Database errors, or state written by an incompatible version.
    pub async fn tracked(&self, source: &str) -> Result<Vec<Tracked>, StoreError> {
        let states: Vec<String> = sqlx::query_scalar("SELECT state FROM matches WHERE source = $1")
            .bind(source)
            .fetch_all(&self.pool)
            .await?;
        states
            .iter()
            .map(|state| {
                serde_json::from_str(state).map_err(|source| StoreError::Corrupt {
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
        let mut conn = self.writer().await?;
        let mut tx = super::begin(&mut conn, self.backend).await?;
        sqlx::query(
            "INSERT INTO sources (name, cursor, first_polled_at, updated_at) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (name) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
        )
        .bind(source)
        .bind(cursor)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let fused_of = super::fusion::fused_ids(
            &mut tx,
            self.backend,
            source,
            states,
            &self.fusion.links,
            now,
        )
        .await?;
        for tracked in states {
            let s = &tracked.state;
            let json = serde_json::to_string(tracked).map_err(|source| StoreError::Corrupt {
                what: "match state",
                source,
            })?;
            let fused = fused_of
                .get(&s.id)
                .map(|m| &m.fused)
                .filter(|f| **f != s.id);
            sqlx::query(
                "INSERT INTO matches (id, source, competition, home, away, phase, clock, home_score, away_score, kickoff, state, updated_at, fused_into) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
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
            .bind(fused)
            .execute(&mut *tx)
            .await?;
        }
        let mut fused = super::fusion::fuse_events(
            &mut tx,
            self.backend,
            &self.fusion,
            source,
            &fused_of,
            events,
            now,
        )
        .await?;
        fused
            .events
            .extend(super::fusion::unconfirmed_due(&mut tx, now - self.fusion.timeout_ms()).await?);
        // A match several sources report shows the one furthest into it.
        let shown: BTreeSet<&str> = fused_of
            .values()
            .filter(|m| m.shared)
            .map(|m| m.fused.as_str())
            .collect();
        for fused in shown {
            super::fusion::show_most_advanced(&mut tx, fused).await?;
        }
        let committed = record_events(
            &mut tx,
            self.backend,
            &fused.events,
            deliver,
            routes,
            None,
            now,
        )
        .await?;
        tx.commit().await?;
        let mut committed = committed
            .into_iter()
            .fold(Committed::default(), Committed::merge);
        committed.lags_ms = fused.lags_ms;
        Ok(committed)
    }

    /// Records published events and queues their deliveries, all in one transaction (a group
    /// commit: publishes that arrive together share it); returns what each one queued.
    ///
    /// # Errors
    /// Database errors; nothing is recorded then.
    pub async fn publish(
        &self,
        events: &[Event],
        routes: &[Route],
    ) -> Result<Vec<Committed>, StoreError> {
        let mut conn = self.writer().await?;
        if self.backend == Backend::Postgres {
            // One statement, atomic as it is: no transaction round trips.
            return record_events(
                &mut conn,
                self.backend,
                events,
                true,
                routes,
                None,
                now_ms(),
            )
            .await;
        }
        let mut tx = super::begin(&mut conn, self.backend).await?;
        let committed =
            record_events(&mut tx, self.backend, events, true, routes, None, now_ms()).await?;
        tx.commit().await?;
        Ok(committed)
    }

    /// Matches for the web page, live first, then by most recent change.
    ///
    /// # Errors
    /// Database errors.
    pub async fn matches(&self, limit: i64) -> Result<Vec<MatchRow>, StoreError> {
        let mut out: Vec<MatchRow> = sqlx::query_as(
            "SELECT id, source, competition, home, away, phase, clock, home_score, away_score, \
             kickoff, updated_at AS updated_at_ms FROM matches WHERE fused_into IS NULL \
             ORDER BY updated_at DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        out.sort_by_key(|m| (!m.is_live(), -m.updated_at_ms));
        Ok(out)
    }

    /// Every team and competition name herald has seen, for matching what users type.
    ///
    /// # Errors
    /// Database errors.
    pub async fn known_names(&self) -> Result<(Vec<String>, Vec<String>), StoreError> {
        let teams = sqlx::query_scalar("SELECT home FROM matches UNION SELECT away FROM matches")
            .fetch_all(&self.pool)
            .await?;
        let competitions = sqlx::query_scalar(
            "SELECT DISTINCT competition FROM matches WHERE competition IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok((teams, competitions))
    }
}

/// The key of the transaction-scoped PostgreSQL advisory lock every transaction takes before
/// it queues broadcast deliveries ("herald" in ASCII).
const BROADCAST_ORDER_LOCK: i64 = 0x6865_7261_6c64;

/// Inserts events (once each) and, when `deliver`, their outbox rows; returns what each event
/// queued, in order (nothing for one already recorded).
///
/// The deliveries are routed first (reading the subscribers of point-to-point sinks), then
/// written: on PostgreSQL events and deliveries in one statement, so that a publish outside a
/// transaction is one round trip; on SQLite in two, inside the caller's transaction.
///
/// Broadcast rows are read by every instance in id order (`Store::broadcast_after`), so
/// their ids must be in commit order: a row must never become visible behind one a reader
/// has passed. PostgreSQL hands out ids at insert, not at commit, so on PostgreSQL the rows
/// are inserted under a transaction-scoped advisory lock held until the commit (writers that
/// queue broadcast rows take turns for that last step). SQLite has one writer at a time.
///
/// On PostgreSQL the statement also `NOTIFY`s the sinks that got rows: delivered at commit,
/// it wakes the workers and followers of every other instance.
///
/// With an `audience` (a message of the messages API), every event goes to it instead of
/// where the routing would send it.
pub(super) async fn record_events(
    conn: &mut AnyConnection,
    backend: Backend,
    events: &[Event],
    deliver: bool,
    routes: &[Route],
    audience: Option<(&Audience, Option<&str>)>,
    now: i64,
) -> Result<Vec<Committed>, StoreError> {
    let mut out = vec![Committed::default(); events.len()];
    if events.is_empty() {
        return Ok(out);
    }
    let targets = if deliver {
        route(conn, backend, events, routes, audience).await?
    } else {
        vec![Vec::new(); events.len()]
    };
    let seqs = match backend {
        Backend::Postgres => insert_postgres(conn, events, &targets, now).await?,
        Backend::Sqlite => {
            let seqs = insert_events(conn, backend, events, now).await?;
            let rows: Vec<_> = seqs
                .iter()
                .zip(&targets)
                .filter_map(|(seq, targets)| seq.map(|seq| (seq, targets)))
                .flat_map(|(seq, targets)| targets.iter().map(move |t| (seq, t)))
                .map(|(seq, t)| {
                    let (sink, recipient, locale, status) = t.columns();
                    (seq, sink, recipient, locale, status)
                })
                .collect();
            if !rows.is_empty() {
                insert_outbox(conn, &rows, now).await?;
            }
            seqs
        }
    };
    for (((event, seq), targets), committed) in events.iter().zip(&seqs).zip(targets).zip(&mut out)
    {
        if seq.is_none() {
            tracing::debug!(event_id = %event.id, "event already recorded; not queued again");
            continue;
        }
        committed.new_events.push(event.clone());
        committed.deliveries = targets.len();
        committed
            .sinks
            .extend(targets.into_iter().map(|t| t.target.sink));
    }
    Ok(out)
}

/// One delivery to queue.
#[derive(Debug, Clone)]
struct Queueing {
    target: routing::Target,
    /// Served by every instance, never taken by a worker: recorded as delivered at once.
    broadcast: bool,
}

impl Queueing {
    /// `sink, recipient, locale, status` as stored.
    fn columns(&self) -> (&str, &str, &str, i64) {
        (
            self.target.sink.as_str(),
            self.target.recipient.as_str(),
            self.target.locale.as_str(),
            if self.broadcast { DELIVERED } else { PENDING },
        )
    }
}

/// The deliveries of each event (none for a repeat of an id earlier in the batch: the first
/// one is recorded).
async fn route(
    conn: &mut AnyConnection,
    backend: Backend,
    events: &[Event],
    routes: &[Route],
    audience: Option<(&Audience, Option<&str>)>,
) -> Result<Vec<Vec<Queueing>>, StoreError> {
    // Only point-to-point sinks have subscribers: broadcast sinks serve whoever is connected.
    // An audience of given recipients needs none.
    let subscribed: Vec<(&str,)> = routes
        .iter()
        .filter(|r| r.delivery == Delivery::PointToPoint)
        .filter(|_| !matches!(audience, Some((Audience::Recipients(_), _))))
        .map(|r| (r.sink.as_str(),))
        .collect();
    let mut subscriptions = Vec::new();
    if !subscribed.is_empty() {
        let statement = per_backend!(|backend| format!(
            "SELECT sink, recipient, scope, value, kinds, locale FROM subscriptions \
             WHERE active = {ACTIVE} AND sink IN (SELECT c0 FROM ({}) AS s) ORDER BY id",
            bulk::rows(backend, 1, &[Column::Text])
        ));
        let rows: Vec<SubscriptionRow> = sqlx::query_as(statement.get(backend))
            .bind(bulk::json(&subscribed))
            .fetch_all(&mut *conn)
            .await?;
        subscriptions = SubscriptionRow::valid(rows);
    }
    let mut seen = HashSet::with_capacity(events.len());
    Ok(events
        .iter()
        .map(|event| {
            if !seen.insert(event.id.as_str()) {
                return Vec::new();
            }
            match audience {
                Some((audience, locale)) => {
                    routing::audience_targets(audience, routes, &subscriptions, locale)
                }
                None => routing::targets(event, routes, &subscriptions),
            }
            .into_iter()
            .map(|target| Queueing {
                broadcast: routes
                    .iter()
                    .any(|r| r.sink == target.sink && r.delivery == Delivery::Broadcast),
                target,
            })
            .collect()
        })
        .collect())
}

/// The rows of `events` to bind: `event_id, match_id, kind, payload`.
fn event_rows(events: &[Event]) -> Result<String, StoreError> {
    let mut rows = Vec::with_capacity(events.len());
    for event in events {
        let payload = serde_json::to_string(event).map_err(|source| StoreError::Corrupt {
            what: "event payload",
            source,
        })?;
        rows.push((
            event.id.as_str(),
            event.match_id.as_deref(),
            event.kind.as_str(),
            payload,
        ));
    }
    Ok(bulk::json(&rows))
}

/// Each event's `seq` from the rows an insert returned, `None` for an event id that was
/// already recorded (and for a repeat in the batch: the first one has it).
fn seqs_of(events: &[Event], inserted: Vec<SeqRow>) -> Vec<Option<i64>> {
    let mut seqs: HashMap<String, i64> =
        inserted.into_iter().map(|r| (r.event_id, r.seq)).collect();
    events.iter().map(|e| seqs.remove(&e.id)).collect()
}

/// The columns of [`event_rows`].
const EVENT_COLUMNS: [Column; 4] = [Column::Text, Column::Text, Column::Text, Column::Text];

/// Inserts `events` in one statement; returns each one's `seq` (see [`seqs_of`]).
async fn insert_events(
    conn: &mut AnyConnection,
    backend: Backend,
    events: &[Event],
    now: i64,
) -> Result<Vec<Option<i64>>, StoreError> {
    let statement = per_backend!(|backend| format!(
        "INSERT INTO events (event_id, match_id, kind, payload, created_at) \
         SELECT c0, c1, c2, c3, $1 FROM ({}) AS e WHERE true ORDER BY n \
         ON CONFLICT (event_id) DO NOTHING RETURNING seq, event_id",
        bulk::rows(backend, 2, &EVENT_COLUMNS)
    ));
    let inserted: Vec<SeqRow> = sqlx::query_as(statement.get(backend))
        .bind(now)
        .bind(event_rows(events)?)
        .fetch_all(&mut *conn)
        .await?;
    Ok(seqs_of(events, inserted))
}

/// Inserts outbox rows (`event_seq, sink, recipient, locale, status`) in one statement, with
/// ids in their order. SQLite.
async fn insert_outbox(
    conn: &mut AnyConnection,
    rows: &[(i64, &str, &str, &str, i64)],
    now: i64,
) -> Result<(), StoreError> {
    let statement = per_backend!(|backend| format!(
        "INSERT INTO outbox (event_seq, sink, recipient, locale, status, attempts, \
         next_attempt_at, created_at, updated_at) \
         SELECT c0, c1, c2, c3, c4, 0, $1, $1, $1 FROM ({}) AS o ORDER BY n",
        bulk::rows(backend, 2, &OUTBOX_COLUMNS)
    ));
    sqlx::query(statement.get(Backend::Sqlite))
        .bind(now)
        .bind(bulk::json(rows))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The columns of an outbox row to insert: `event_seq` (on PostgreSQL the `event_id`, joined
/// to the events inserted), `sink, recipient, locale, status`.
const OUTBOX_COLUMNS: [Column; 5] = [
    Column::Int,
    Column::Text,
    Column::Text,
    Column::Text,
    Column::Int,
];

/// PostgreSQL: inserts `events` and the deliveries of the new ones in one statement (the
/// deliveries joined to the events it inserted, by id); returns each event's `seq` (see
/// [`seqs_of`]). Before the first delivery gets its id the statement notifies the sinks and,
/// when some are broadcast, takes the lock that keeps broadcast ids in commit order (a filter
/// that does not depend on any row is evaluated once, before the rows reach the insert).
async fn insert_postgres(
    conn: &mut AnyConnection,
    events: &[Event],
    targets: &[Vec<Queueing>],
    now: i64,
) -> Result<Vec<Option<i64>>, StoreError> {
    let rows: Vec<_> = events
        .iter()
        .zip(targets)
        .flat_map(|(event, targets)| targets.iter().map(move |t| (event.id.as_str(), t)))
        .map(|(event_id, t)| {
            let (sink, recipient, locale, status) = t.columns();
            (event_id, sink, recipient, locale, status)
        })
        .collect();
    if rows.is_empty() {
        return insert_events(conn, Backend::Postgres, events, now).await;
    }
    let broadcast = targets.iter().flatten().any(|t| t.broadcast);
    let statement = &POSTGRES_RECORD[usize::from(broadcast)];
    let sinks: BTreeSet<&str> = rows.iter().map(|r| r.1).collect();
    let query = sqlx::query_as(statement.as_str())
        .bind(now)
        .bind(event_rows(events)?)
        .bind(bulk::json(&rows))
        .bind(crate::signal::CHANNEL)
        .bind(crate::signal::payload(sinks));
    let query = if broadcast {
        query.bind(BROADCAST_ORDER_LOCK)
    } else {
        query
    };
    let inserted: Vec<SeqRow> = query.fetch_all(&mut *conn).await?;
    Ok(seqs_of(events, inserted))
}

/// The statement of [`insert_postgres`]: without the broadcast lock, and with it.
static POSTGRES_RECORD: std::sync::LazyLock<[String; 2]> = std::sync::LazyLock::new(|| {
    let statement = |lock: &str| {
        let mut columns = OUTBOX_COLUMNS;
        columns[0] = Column::Text;
        format!(
            "WITH e AS (INSERT INTO events (event_id, match_id, kind, payload, created_at) \
             SELECT c0, c1, c2, c3, $1 FROM ({events}) AS x ORDER BY n \
             ON CONFLICT (event_id) DO NOTHING RETURNING seq, event_id), \
             o AS (INSERT INTO outbox (event_seq, sink, recipient, locale, status, attempts, \
             next_attempt_at, created_at, updated_at) \
             SELECT e.seq, r.c1, r.c2, r.c3, r.c4, 0, $1, $1, $1 FROM ({rows}) AS r \
             JOIN e ON e.event_id = r.c0 \
             WHERE (SELECT COUNT(*) FROM (SELECT pg_notify($4, $5){lock}) AS g) = 1 \
             ORDER BY r.n) \
             SELECT seq, event_id FROM e",
            events = bulk::rows(Backend::Postgres, 2, &EVENT_COLUMNS),
            rows = bulk::rows(Backend::Postgres, 3, &columns),
        )
    };
    [statement(""), statement(", pg_advisory_xact_lock($6)")]
});

/// An inserted event, as returned: `seq, event_id`.
#[derive(sqlx::FromRow)]
struct SeqRow {
    seq: i64,
    event_id: String,
}
