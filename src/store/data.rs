//! What the match data API reads: competitions with their matches counted by phase, matches
//! filtered and paged by kick-off, one match's stored state, its events in order.

use super::{Store, StoreError};
use crate::detect::Tracked;
use crate::model::Event;
use crate::store::MatchRow;

/// Which matches a page holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchFilter {
    /// Only this competition: (source, name).
    pub competition: Option<(String, String)>,
    /// Only matches with one of these team spellings, home or away.
    pub teams: Option<Vec<String>>,
    /// Only these phase codes.
    pub phases: Option<Vec<&'static str>>,
    /// Only kick-offs in `[from, to)`, Unix seconds.
    pub kickoff: Option<(i64, i64)>,
}

/// Where a page of matches ended: its last kick-off (0 when unknown) and id.
pub type MatchCursor = (i64, String);

/// One event of a match as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Its place among all events.
    pub seq: i64,
    /// The event.
    pub event: Event,
    /// When it was recorded (ms).
    pub created_at_ms: i64,
}

/// A value bound to a built query.
enum Bind {
    Int(i64),
    Text(String),
}

/// The matches columns a [`MatchRow`] reads.
const ROW: &str = "id, source, competition, home, away, phase, clock, home_score, away_score, \
                   kickoff, updated_at AS updated_at_ms";

impl Store {
    /// Matches per (source, competition, phase), for the competitions list.
    ///
    /// # Errors
    /// Database errors.
    pub async fn competition_counts(
        &self,
    ) -> Result<Vec<(String, String, String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT source, competition, phase, COUNT(*) FROM matches \
             WHERE competition IS NOT NULL AND fused_into IS NULL \
             GROUP BY source, competition, phase \
             ORDER BY source, competition",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Up to `limit` matches of `filter` after `after`, latest kick-off first (then by id).
    ///
    /// # Errors
    /// Database errors.
    pub async fn match_page(
        &self,
        filter: &MatchFilter,
        after: Option<&MatchCursor>,
        limit: i64,
    ) -> Result<Vec<MatchRow>, StoreError> {
        let mut binds = Vec::new();
        let mut placeholder = |bind: Bind| {
            binds.push(bind);
            format!("${}", binds.len())
        };
        // A match another source reported first is listed as that one.
        let mut clauses = vec!["fused_into IS NULL".to_owned()];
        if let Some((source, name)) = &filter.competition {
            let s = placeholder(Bind::Text(source.clone()));
            let c = placeholder(Bind::Text(name.clone()));
            clauses.push(format!("source = {s} AND competition = {c}"));
        }
        if let Some(teams) = &filter.teams {
            if teams.is_empty() {
                return Ok(Vec::new());
            }
            let names: Vec<String> = teams
                .iter()
                .map(|t| placeholder(Bind::Text(t.clone())))
                .collect();
            let names = names.join(", ");
            clauses.push(format!("(home IN ({names}) OR away IN ({names}))"));
        }
        if let Some(phases) = &filter.phases {
            let codes: Vec<String> = phases
                .iter()
                .map(|p| placeholder(Bind::Text((*p).to_owned())))
                .collect();
            clauses.push(format!("phase IN ({})", codes.join(", ")));
        }
        if let Some((from, to)) = filter.kickoff {
            let f = placeholder(Bind::Int(from));
            let t = placeholder(Bind::Int(to));
            clauses.push(format!("kickoff >= {f} AND kickoff < {t}"));
        }
        if let Some((kickoff, id)) = after {
            let k = placeholder(Bind::Int(*kickoff));
            let k2 = placeholder(Bind::Int(*kickoff));
            let i = placeholder(Bind::Text(id.clone()));
            clauses.push(format!(
                "(COALESCE(kickoff, 0) < {k} OR (COALESCE(kickoff, 0) = {k2} AND id > {i}))"
            ));
        }
        let limit = placeholder(Bind::Int(limit));
        let filter = format!("WHERE {}", clauses.join(" AND "));
        let sql = format!(
            "SELECT {ROW} FROM matches {filter} ORDER BY COALESCE(kickoff, 0) DESC, id LIMIT {limit}"
        );
        // Built from fixed fragments and numbered placeholders: every value is bound.
        let mut query = sqlx::query_as::<_, MatchRow>(sqlx::AssertSqlSafe(sql));
        for bind in binds {
            query = match bind {
                Bind::Int(v) => query.bind(v),
                Bind::Text(v) => query.bind(v),
            };
        }
        Ok(query.fetch_all(&self.pool).await?)
    }

    /// The stored state of match `id` and when it last changed (ms); for a match several
    /// sources report, the state of the one furthest into it.
    ///
    /// # Errors
    /// Database errors, or a state that does not read.
    pub async fn match_state(&self, id: &str) -> Result<Option<(Tracked, i64)>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        super::fusion::fused_state(&mut conn, id).await
    }

    /// Up to `limit` events of match `id` after `after` (a `seq`), in the order recorded.
    ///
    /// # Errors
    /// Database errors, or an event that does not read.
    pub async fn match_events(
        &self,
        id: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT seq, payload, created_at FROM events WHERE match_id = $1 AND seq > $2 \
             ORDER BY seq LIMIT $3",
        )
        .bind(id)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(seq, payload, created_at_ms)| {
                Ok(StoredEvent {
                    seq,
                    event: serde_json::from_str(&payload).map_err(|source| {
                        StoreError::Corrupt {
                            what: "event",
                            source,
                        }
                    })?,
                    created_at_ms,
                })
            })
            .collect()
    }

    /// Every match of a team spelled one of `names`, latest kick-off first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn team_matches(&self, names: &[String]) -> Result<Vec<MatchRow>, StoreError> {
        let filter = MatchFilter {
            teams: Some(names.to_vec()),
            ..MatchFilter::default()
        };
        self.match_page(&filter, None, 10_000).await
    }
}
