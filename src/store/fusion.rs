//! Fusion inside a poll's commit: which fused match each source match belongs to (linked the
//! first time it is stored, by `[[links]]` or by recognition), what its events are in the
//! fused match (the same incident another source already reported is not recorded again),
//! retractions held until the sources agree, and the fused match's shown state (the most
//! advanced of its sources). Runs in the commit's transaction, under a per-match lock on
//! PostgreSQL, so that instances polling different sources of one match agree.
//!
//! A match alone on its sources (the usual case) costs one indexed read per commit.

use std::collections::{HashMap, HashSet};

use sqlx::AnyConnection;

use super::{Backend, StoreError};
use crate::detect::Tracked;
use crate::fusion::identity::{MatchKey, same_match};
use crate::fusion::incidents::{is_incident, same_incident};
use crate::fusion::{Links, Policy, first_source as origin, fused_event_id};
use crate::model::{Event, EventKind, Phase};
use crate::teams;

/// Matches recognised across sources are looked for among those stored this recently.
const RECENT_MS: i64 = 2 * 24 * 3_600_000;
/// Without a kick-off time on either side, among those that changed this recently.
const RECENT_WITHOUT_KICKOFF_MS: i64 = 6 * 3_600_000;

/// What fusion made of a poll's events.
#[derive(Debug, Default)]
pub(super) struct Fused {
    /// The events to record, with fused ids.
    pub events: Vec<Event>,
    /// How long after the first source this one reported incidents it was not first to (ms).
    pub lags_ms: Vec<i64>,
}

/// A `matches` row of a fusion group.
#[derive(sqlx::FromRow)]
struct Member {
    state: String,
    updated_at: i64,
}

/// The fused match a source's match is part of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Membership {
    /// The fused match's id (the match's own when it came first, or alone).
    pub fused: String,
    /// Whether other sources' matches are in it: only then is there anything to fuse.
    pub shared: bool,
}

/// The fused match of each of `states`' matches; a match stored for the first time is linked
/// to the match `links` names, or else to a recognised match of another source.
pub(super) async fn fused_ids(
    conn: &mut AnyConnection,
    backend: Backend,
    source: &str,
    states: &[Tracked],
    links: &Links,
    now: i64,
) -> Result<HashMap<String, Membership>, StoreError> {
    let mut out = HashMap::new();
    for tracked in states {
        let id = tracked.state.id.as_str();
        let membership = match stored_membership(conn, id).await? {
            Some(membership) => membership,
            None => {
                let fused = match linked(conn, backend, links, id, tracked).await? {
                    Some(fused) => Some(fused),
                    None => recognised(conn, source, tracked, now).await?,
                };
                if let Some(fused) = &fused {
                    tracing::debug!(id, fused = %fused, "match fused with another source's");
                }
                Membership {
                    shared: fused.is_some(),
                    fused: fused.unwrap_or_else(|| id.to_owned()),
                }
            }
        };
        out.insert(id.to_owned(), membership);
    }
    Ok(out)
}

/// The fused match of a stored match, and whether other sources' matches share it, in one
/// read.
async fn stored_membership(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<Membership>, StoreError> {
    let row: Option<(String, i64)> = sqlx::query_as(
        "SELECT COALESCE(m.fused_into, m.id), \
         CASE WHEN m.fused_into IS NOT NULL OR EXISTS \
         (SELECT 1 FROM matches o WHERE o.fused_into = m.id) THEN 1 ELSE 0 END \
         FROM matches m WHERE m.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|(fused, shared)| Membership {
        fused,
        shared: shared != 0,
    }))
}

/// The fused match of a stored match.
async fn stored_fused(conn: &mut AnyConnection, id: &str) -> Result<Option<String>, StoreError> {
    Ok(stored_membership(conn, id).await?.map(|m| m.fused))
}

/// The fused match of a match `[[links]]` names with `id`, if one is stored. Takes the lock
/// of a first sighting first (see the comment inside).
async fn linked(
    conn: &mut AnyConnection,
    backend: Backend,
    links: &Links,
    id: &str,
    tracked: &Tracked,
) -> Result<Option<String>, StoreError> {
    // Two sources seeing one match for the first time at once take turns, so the second
    // finds the first: linked matches by their group, the others by their teams.
    let key = links.linked(id).min().map_or_else(
        || {
            let s = &tracked.state;
            format!(
                "match:{}|{}",
                teams::key(&s.home.name),
                teams::key(&s.away.name)
            )
        },
        |first| format!("link:{}", first.min(id)),
    );
    lock(conn, backend, &key).await?;
    for other in links.linked(id) {
        if let Some(fused) = stored_fused(conn, other).await? {
            return Ok(Some(fused));
        }
    }
    Ok(None)
}

#[derive(sqlx::FromRow)]
struct Candidate {
    id: String,
    competition: Option<String>,
    home: String,
    away: String,
    kickoff: Option<i64>,
    updated_at: i64,
}

/// A fused match of other sources that is the same real match, with no match of `source`
/// in it yet.
async fn recognised(
    conn: &mut AnyConnection,
    source: &str,
    tracked: &Tracked,
    now: i64,
) -> Result<Option<String>, StoreError> {
    let s = &tracked.state;
    let candidates: Vec<Candidate> = sqlx::query_as(
        "SELECT id, competition, home, away, kickoff, updated_at FROM matches \
         WHERE fused_into IS NULL AND source <> $1 AND updated_at > $2 ORDER BY id",
    )
    .bind(source)
    .bind(now - RECENT_MS)
    .fetch_all(&mut *conn)
    .await?;
    let key = MatchKey {
        competition: s.competition.as_deref(),
        home: &s.home.name,
        away: &s.away.name,
        kickoff: s.kickoff,
    };
    for c in candidates {
        let other = MatchKey {
            competition: c.competition.as_deref(),
            home: &c.home,
            away: &c.away,
            kickoff: c.kickoff,
        };
        let timely = (s.kickoff.is_some() && c.kickoff.is_some())
            || c.updated_at > now - RECENT_WITHOUT_KICKOFF_MS;
        if !timely || !same_match(&key, &other) {
            continue;
        }
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM matches WHERE fused_into = $1 AND source = $2")
                .bind(&c.id)
                .bind(source)
                .fetch_optional(&mut *conn)
                .await?;
        if taken.is_none() {
            return Ok(Some(c.id));
        }
    }
    Ok(None)
}

/// One fused match's recorded events and who reported them, as a commit sees them.
struct Group {
    fused: String,
    /// Recorded events that are incidents: (event, recorded at).
    incidents: Vec<(Event, i64)>,
    /// Fused event id → the sources that reported it.
    reporters: HashMap<String, HashSet<String>>,
    /// Fused event id → sources that took it back.
    retracted: HashMap<String, HashSet<String>>,
    /// Sources whose match changed within `detect.stall_after`.
    live: HashSet<String>,
    /// Incidents waiting for confirmation by more sources: (event, its source, held at).
    held: Vec<(Event, String, i64)>,
}

impl Group {
    async fn load(
        conn: &mut AnyConnection,
        fused: &str,
        stall_ms: i64,
        now: i64,
    ) -> Result<Self, StoreError> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT event_id, payload, created_at FROM events WHERE match_id = $1 ORDER BY seq",
        )
        .bind(fused)
        .fetch_all(&mut *conn)
        .await?;
        let mut group = Self {
            fused: fused.to_owned(),
            incidents: Vec::new(),
            reporters: HashMap::new(),
            retracted: HashMap::new(),
            live: HashSet::new(),
            held: Vec::new(),
        };
        let mut disallowed = HashSet::new();
        for (id, payload, at) in rows {
            let event = parse_event(&payload)?;
            group.reporter(&id, origin(&id, fused));
            if event.kind == EventKind::GoalDisallowed {
                disallowed.extend(event.corrects.clone());
            } else if is_incident(&event) {
                group.incidents.push((event, at));
            }
        }
        // A goal taken back is no longer one another source can be reporting: a later goal
        // that makes the same score is a new one.
        group
            .incidents
            .retain(|(event, _)| !disallowed.contains(&event.id));
        let seen: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT event_id, source, retracted FROM event_sources WHERE match_id = $1",
        )
        .bind(fused)
        .fetch_all(&mut *conn)
        .await?;
        for (id, source, retracted) in seen {
            if retracted != 0 {
                group.retracted.entry(id).or_default().insert(source);
            } else {
                group.reporter(&id, &source);
            }
        }
        let members: Vec<(String, i64)> = sqlx::query_as(
            "SELECT source, updated_at FROM matches WHERE id = $1 OR fused_into = $1",
        )
        .bind(fused)
        .fetch_all(&mut *conn)
        .await?;
        group.live = members
            .into_iter()
            .filter(|(_, at)| *at > now - stall_ms)
            .map(|(source, _)| source)
            .collect();
        let held: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT payload, source, held_at FROM held_events WHERE match_id = $1")
                .bind(fused)
                .fetch_all(&mut *conn)
                .await?;
        for (payload, source, at) in held {
            let event = parse_event(&payload)?;
            group.reporter(&event.id, &source);
            group.held.push((event, source, at));
        }
        Ok(group)
    }

    /// The held incident `event` (from `source`) confirms, if any.
    fn confirms(&self, event: &Event, source: &str) -> Option<usize> {
        self.held.iter().position(|(held, _, _)| {
            let by = self.reporters.get(&held.id);
            !by.is_some_and(|s| s.contains(source)) && same_incident(event, held)
        })
    }

    fn reporter(&mut self, id: &str, source: &str) {
        self.reporters
            .entry(id.to_owned())
            .or_default()
            .insert(source.to_owned());
    }

    /// The recorded incident `event` (from `source`) is another report of, if any.
    fn reported(&self, event: &Event, source: &str) -> Option<&(Event, i64)> {
        self.incidents.iter().find(|(recorded, _)| {
            let by = self.reporters.get(&recorded.id);
            !by.is_some_and(|s| s.contains(source)) && same_incident(event, recorded)
        })
    }

    /// Whether a retraction of `goal` may go: no source that still has it is live.
    fn agreed(&self, goal: &str) -> bool {
        let retracted = self.retracted.get(goal);
        self.reporters.get(goal).is_none_or(|sources| {
            sources
                .iter()
                .all(|s| retracted.is_some_and(|r| r.contains(s)) || !self.live.contains(s))
        })
    }
}

/// Takes a transaction-scoped lock named `key` (PostgreSQL; SQLite has one writer): two
/// sources' commits of one match take turns.
async fn lock(conn: &mut AnyConnection, backend: Backend, key: &str) -> Result<(), StoreError> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(key)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// `events` of `source` as the fused matches' events: fused ids, incidents another source
/// reported first left out (and recorded as reported by this one too), retractions held
/// until every live source that had the goal took it back.
pub(super) async fn fuse_events(
    conn: &mut AnyConnection,
    backend: Backend,
    policy: &Policy,
    source: &str,
    fused_of: &HashMap<String, Membership>,
    events: &[Event],
    now: i64,
) -> Result<Fused, StoreError> {
    let mut out = Fused::default();
    let mut groups: HashMap<String, Option<Group>> = HashMap::new();
    for event in events {
        let Some(own) = event.match_id.as_deref() else {
            out.events.push(event.clone());
            continue;
        };
        let membership = match fused_of.get(own) {
            Some(m) => m.clone(),
            None => stored_membership(conn, own).await?.unwrap_or(Membership {
                fused: own.to_owned(),
                shared: false,
            }),
        };
        let fused = membership.fused;
        if !groups.contains_key(&fused) {
            let group = if membership.shared {
                lock(conn, backend, &fused).await?;
                Some(Group::load(conn, &fused, policy.stall_ms(), now).await?)
            } else {
                None
            };
            groups.insert(fused.clone(), group);
        }
        let Some(Some(group)) = groups.get_mut(&fused) else {
            // Alone on its sources: the events as detected.
            out.events.push(event.clone());
            continue;
        };
        let mut e = event.clone();
        e.id = fused_event_id(&event.id, own, &fused, source, event.kind);
        e.match_id = Some(fused.clone());
        if let Some(corrected) = &event.corrects {
            let id = fused_event_id(corrected, own, &fused, source, EventKind::Goal);
            e.corrects = Some(fused_of_reported(conn, &id).await?.unwrap_or(id));
        }
        if e.kind == EventKind::GoalDisallowed {
            if let Some(i) = e
                .corrects
                .as_ref()
                .and_then(|c| group.held.iter().position(|(h, _, _)| &h.id == c))
            {
                // Taken back before anyone confirmed it: nothing was said, nothing to correct.
                let (held, _, _) = group.held.remove(i);
                drop_held(conn, &held.id).await?;
                tracing::info!(event_id = %held.id, "an unconfirmed incident was taken back");
                continue;
            }
            if let Some(retraction) = retract(conn, group, source, e, now).await? {
                out.events.push(retraction);
            }
            continue;
        }
        if is_incident(&e) {
            let before = match fused_of_reported(conn, &e.id).await? {
                Some(id) => Some(id),
                None => group
                    .incidents
                    .iter()
                    .any(|(recorded, _)| recorded.id == e.id)
                    .then(|| e.id.clone()),
            };
            if let Some(known) = before {
                // Reported again after this source took it back: it keeps the goal.
                unretract(conn, &known, source).await?;
                if let Some(sources) = group.retracted.get_mut(&known) {
                    sources.remove(source);
                }
                continue;
            }
            if let Some(i) = group.confirms(&e, source) {
                let (held_id, at) = (group.held[i].0.id.clone(), group.held[i].2);
                record_report(conn, &e.id, &held_id, &fused, source, now).await?;
                group.reporter(&held_id, source);
                out.lags_ms.push(now - at);
                let by = group.reporters.get(&held_id).map_or(0, HashSet::len);
                if by >= usize::from(policy.needed(e.kind)) {
                    let (held, _, _) = group.held.remove(i);
                    drop_held(conn, &held.id).await?;
                    tracing::debug!(event_id = %held.id, sources = by, "incident confirmed; notified");
                    group.incidents.push((held.clone(), now));
                    out.events.push(held);
                }
                continue;
            }
            if let Some((first, at)) = group.reported(&e, source) {
                let (first_id, lag) = (first.id.clone(), now - at);
                record_report(conn, &e.id, &first_id, &fused, source, now).await?;
                group.reporter(&first_id, source);
                out.lags_ms.push(lag);
                tracing::debug!(event_id = %first_id, source, lag_ms = lag, "incident confirmed by another source");
                continue;
            }
            group.reporter(&e.id, source);
            if policy.needed(e.kind) > 1 {
                hold(conn, &e, &fused, source, now).await?;
                group.held.push((e, source.to_owned(), now));
                continue;
            }
            group.incidents.push((e.clone(), now));
        }
        out.events.push(e);
    }
    // Retractions held earlier whose other sources took the goal back too, or stalled: seen
    // at any change of a shared match, with or without events.
    for Membership { fused, shared } in fused_of.values() {
        if *shared && !groups.contains_key(fused) {
            lock(conn, backend, fused).await?;
            groups.insert(
                fused.clone(),
                Some(Group::load(conn, fused, policy.stall_ms(), now).await?),
            );
        }
    }
    for group in groups.into_values().flatten() {
        out.events.extend(released(conn, &group).await?);
    }
    Ok(out)
}

fn parse_event(payload: &str) -> Result<Event, StoreError> {
    serde_json::from_str(payload).map_err(|source| StoreError::Corrupt {
        what: "event",
        source,
    })
}

/// Keeps an incident until more sources report it (`detect.confirm`) or it times out.
async fn hold(
    conn: &mut AnyConnection,
    event: &Event,
    fused: &str,
    source: &str,
    now: i64,
) -> Result<(), StoreError> {
    let payload = serde_json::to_string(event).map_err(|source| StoreError::Corrupt {
        what: "event",
        source,
    })?;
    sqlx::query(
        "INSERT INTO held_events (event_id, match_id, source, payload, held_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(&event.id)
    .bind(fused)
    .bind(source)
    .bind(payload)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    tracing::debug!(event_id = %event.id, source, "incident held for confirmation by another source");
    Ok(())
}

async fn drop_held(conn: &mut AnyConnection, event_id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM held_events WHERE event_id = $1")
        .bind(event_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Incidents held for confirmation since before `held_before` (ms): notified now, since no
/// other source confirmed them in time.
pub(super) async fn unconfirmed_due(
    conn: &mut AnyConnection,
    held_before: i64,
) -> Result<Vec<Event>, StoreError> {
    let due: Vec<String> =
        sqlx::query_scalar("DELETE FROM held_events WHERE held_at <= $1 RETURNING payload")
            .bind(held_before)
            .fetch_all(&mut *conn)
            .await?;
    let events = due
        .iter()
        .map(|p| parse_event(p))
        .collect::<Result<Vec<_>, _>>()?;
    for event in &events {
        tracing::info!(event_id = %event.id, "no other source confirmed the incident in time; notified");
    }
    Ok(events)
}

/// The fused event another source's event id was recorded as.
async fn fused_of_reported(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT event_id FROM event_sources WHERE source_event_id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

async fn record_report(
    conn: &mut AnyConnection,
    own_id: &str,
    event_id: &str,
    fused: &str,
    source: &str,
    now: i64,
) -> Result<(), StoreError> {
    unretract(conn, event_id, source).await?;
    sqlx::query(
        "INSERT INTO event_sources (source_event_id, event_id, match_id, source, retracted, \
         payload, seen_at) VALUES ($1, $2, $3, $4, 0, NULL, $5) \
         ON CONFLICT (source_event_id) DO NOTHING",
    )
    .bind(own_id)
    .bind(event_id)
    .bind(fused)
    .bind(source)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A report of a goal `source` had taken back: it keeps the goal after all.
async fn unretract(
    conn: &mut AnyConnection,
    event_id: &str,
    source: &str,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM event_sources WHERE event_id = $1 AND source = $2 AND retracted <> 0")
        .bind(event_id)
        .bind(source)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// `source` takes goal `e.corrects` back: the correction goes now if no other live source
/// still has the goal, else it is kept until they agree ([`released`]).
async fn retract(
    conn: &mut AnyConnection,
    group: &mut Group,
    source: &str,
    mut e: Event,
    now: i64,
) -> Result<Option<Event>, StoreError> {
    let Some(goal) = e.corrects.clone() else {
        return Ok(Some(e));
    };
    e.id = format!("{goal}:disallowed");
    group
        .retracted
        .entry(goal.clone())
        .or_default()
        .insert(source.to_owned());
    if group.agreed(&goal) {
        return Ok(Some(e));
    }
    let payload = serde_json::to_string(&e).map_err(|source| StoreError::Corrupt {
        what: "event",
        source,
    })?;
    sqlx::query(
        "INSERT INTO event_sources (source_event_id, event_id, match_id, source, retracted, \
         payload, seen_at) VALUES ($1, $2, $3, $4, 1, $5, $6) \
         ON CONFLICT (source_event_id) DO UPDATE SET retracted = 1, payload = excluded.payload",
    )
    .bind(format!("{goal}:retracted-by:{source}"))
    .bind(&goal)
    .bind(&group.fused)
    .bind(source)
    .bind(payload)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    tracing::info!(event_id = %goal, source, "a goal one source took back is held until the others agree");
    Ok(None)
}

/// Held retractions of `group` that may go now.
async fn released(conn: &mut AnyConnection, group: &Group) -> Result<Vec<Event>, StoreError> {
    if group.retracted.is_empty() {
        return Ok(Vec::new());
    }
    let held: Vec<(String, String)> = sqlx::query_as(
        "SELECT s.event_id, s.payload FROM event_sources s WHERE s.match_id = $1 \
         AND s.retracted <> 0 AND s.payload IS NOT NULL AND NOT EXISTS \
         (SELECT 1 FROM events e WHERE e.event_id = s.event_id || ':disallowed')",
    )
    .bind(&group.fused)
    .fetch_all(&mut *conn)
    .await?;
    let mut out: Vec<Event> = Vec::new();
    for (goal, payload) in held {
        if !group.agreed(&goal) || out.iter().any(|e| e.corrects.as_deref() == Some(&goal)) {
            continue;
        }
        let event: Event =
            serde_json::from_str(&payload).map_err(|source| StoreError::Corrupt {
                what: "event",
                source,
            })?;
        tracing::info!(event_id = %goal, "the sources agree: the goal is taken back");
        out.push(event);
    }
    Ok(out)
}

/// Shows the most advanced state of a fused match's sources on its row (phase, clock, score),
/// so that the page and the API follow whichever source is ahead.
pub(super) async fn show_most_advanced(
    conn: &mut AnyConnection,
    fused: &str,
) -> Result<(), StoreError> {
    let members = members(conn, fused).await?;
    if members.len() < 2 {
        return Ok(());
    }
    let Some(best) = most_advanced(&members)? else {
        return Ok(());
    };
    let s = &best.state;
    sqlx::query(
        "UPDATE matches SET phase = $1, clock = $2, home_score = $3, away_score = $4 WHERE id = $5",
    )
    .bind(s.phase.code())
    .bind(s.clock.map(|c| c.to_string()))
    .bind(i64::from(s.score.home))
    .bind(i64::from(s.score.away))
    .bind(fused)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The rows of fused match `fused`'s sources.
async fn members(conn: &mut AnyConnection, fused: &str) -> Result<Vec<Member>, StoreError> {
    Ok(
        sqlx::query_as("SELECT state, updated_at FROM matches WHERE id = $1 OR fused_into = $1")
            .bind(fused)
            .fetch_all(&mut *conn)
            .await?,
    )
}

/// The member state furthest into the match (phase, then clock, then the latest change).
fn most_advanced(members: &[Member]) -> Result<Option<Tracked>, StoreError> {
    let mut best: Option<((usize, i32, i64), Tracked)> = None;
    for m in members {
        let tracked: Tracked =
            serde_json::from_str(&m.state).map_err(|source| StoreError::Corrupt {
                what: "match state",
                source,
            })?;
        let s = &tracked.state;
        let phase = s.phase.line_index().unwrap_or(Phase::LINE.len());
        let clock = s
            .clock
            .map_or(0, |c| i32::from(c.minute) + i32::from(c.extra.unwrap_or(0)));
        let rank = (phase, clock, m.updated_at);
        if best.as_ref().is_none_or(|(r, _)| rank > *r) {
            best = Some((rank, tracked));
        }
    }
    Ok(best.map(|(_, t)| t))
}

/// The fused match's state as its most advanced source has it, named after the fused match.
pub(super) async fn fused_state(
    conn: &mut AnyConnection,
    fused: &str,
) -> Result<Option<(Tracked, i64)>, StoreError> {
    let members = members(conn, fused).await?;
    let at = members.iter().map(|m| m.updated_at).max().unwrap_or(0);
    Ok(most_advanced(&members)?.map(|mut t| {
        fused.clone_into(&mut t.state.id);
        (t, at)
    }))
}

impl super::Store {
    /// The fused match that stored match `id` is part of (itself when it is the first
    /// source's, or alone); `None` when no such match is stored.
    ///
    /// # Errors
    /// Database errors.
    pub async fn fused_id(&self, id: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        stored_fused(&mut conn, id).await
    }

    /// Whether every match `source` has in play is also followed by another source whose
    /// report of it moved within `detect.stall_after` (and `source` has some): then `source`
    /// may poll less.
    ///
    /// # Errors
    /// Database errors.
    pub async fn carried_elsewhere(&self, source: &str) -> Result<bool, StoreError> {
        let playing: Vec<&str> = Phase::LINE
            .iter()
            .filter(|p| p.is_playing())
            .map(|p| p.code())
            .collect();
        let rows: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT m.id, (SELECT COUNT(*) FROM matches o WHERE o.source <> $1 \
             AND o.updated_at > $2 AND COALESCE(o.fused_into, o.id) = COALESCE(m.fused_into, m.id)) \
             FROM matches m WHERE m.source = $1 AND m.phase IN ({})",
            playing.iter().map(|p| format!("'{p}'")).collect::<Vec<_>>().join(", ")
        )))
        .bind(source)
        .bind(super::now_ms() - self.fusion.stall_ms())
        .fetch_all(&self.pool)
        .await?;
        Ok(!rows.is_empty() && rows.iter().all(|(_, others)| *others > 0))
    }
}
