//! Sources and matches: cursors, tracked match states, a poll's commit (states, new events
//! and their deliveries in one transaction), published messages, and the lists the page and
//! the name matching read.

use std::collections::BTreeSet;

use super::active::ACTIVE;
use super::status::PENDING;
use super::subscriptions::SubscriptionRow;
use super::{Store, StoreError, now_ms};
use crate::detect::Tracked;
use crate::model::{Event, Phase};
use crate::routing::{self, Route};

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

/// A match as the web page lists it (read as selected: `updated_at AS updated_at_ms`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
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
        let mut out: Vec<MatchRow> = sqlx::query_as(
            "SELECT id, competition, home, away, phase, clock, home_score, away_score, kickoff, \
             updated_at AS updated_at_ms FROM matches ORDER BY updated_at DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let live = |p: &str| {
            Phase::LINE
                .iter()
                .find(|x| x.code() == p)
                .is_some_and(|x| x.is_playing() || x.is_break())
        };
        out.sort_by_key(|m| (!live(&m.phase), -m.updated_at_ms));
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
        let rows: Vec<SubscriptionRow> = sqlx::query_as(sql!(
            "SELECT sink, recipient, scope, value, kinds, locale FROM subscriptions \
             WHERE active = {ACTIVE} ORDER BY id"
        ))
        .fetch_all(&mut **tx)
        .await?;
        subscriptions = SubscriptionRow::valid(rows);
    }
    for event in events {
        let payload = serde_json::to_string(event).map_err(|source| StoreError::Corrupt {
            what: "event payload",
            source,
        })?;
        let seq: Option<i64> = sqlx::query_scalar(
            "INSERT INTO events (event_id, match_id, kind, payload, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (event_id) DO NOTHING RETURNING seq",
        )
        .bind(&event.id)
        .bind(&event.match_id)
        .bind(event.kind.as_str())
        .bind(payload)
        .bind(now)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(seq) = seq else {
            tracing::debug!(event_id = %event.id, "event already recorded; not queued again");
            continue;
        };
        committed.new_events.push(event.clone());
        if !deliver {
            continue;
        }
        for target in routing::targets(event, routes, &subscriptions) {
            sqlx::query(sql!(
                "INSERT INTO outbox (event_seq, sink, recipient, locale, status, attempts, next_attempt_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, {PENDING}, 0, $5, $5, $5) ON CONFLICT (event_seq, sink, recipient) DO NOTHING"
            ))
            .bind(seq)
            .bind(&target.sink)
            .bind(target.recipient.as_str())
            .bind(&target.locale)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            committed.deliveries += 1;
            committed.sinks.insert(target.sink);
        }
    }
    Ok(committed)
}
