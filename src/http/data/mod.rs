//! The match data API (no token: the same data the page shows): competitions, matches
//! filtered and paged, a match in detail, its events, a team with its matches. Every answer
//! has an `ETag` (`304` when unchanged); bad parameters are `400` naming them, unknown ids `404`.

pub mod view;

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::answers::ErrorBody;
use super::{AppState, error, etag};
use crate::dispatch::error_chain;
use crate::store::{MatchCursor, MatchFilter, StoreError};
use view::{
    Competition, CompetitionList, EventPage, MatchDetail, MatchEvent, MatchPage, MatchSummary,
    Status, TeamDetail, competition_id, team_id,
};

/// Matches or events per page unless `limit` says otherwise.
const DEFAULT_LIMIT: i64 = 50;
/// The most a page may hold.
const MAX_LIMIT: i64 = 200;
/// Recent and next matches a team shows, each.
const TEAM_MATCHES: usize = 10;

type Params = Query<HashMap<String, String>>;

fn unavailable(e: &StoreError) -> Response {
    tracing::error!(error = %error_chain(e), "cannot read match data");
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "the store is unavailable; try again",
        None,
    )
}

fn bad(field: &str, message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, message, Some(field))
}

/// A query parameter that does not hold: its name and what is wrong.
struct BadParam {
    field: String,
    message: String,
}

impl IntoResponse for BadParam {
    fn into_response(self) -> Response {
        bad(&self.field, &self.message)
    }
}

/// Refuses parameters other than `known`.
fn only(params: &HashMap<String, String>, known: &[&str]) -> Result<(), BadParam> {
    match params.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => Err(BadParam {
            field: unknown.clone(),
            message: format!("unknown parameter (use {})", known.join(", ")),
        }),
        None => Ok(()),
    }
}

fn limit(params: &HashMap<String, String>) -> Result<i64, BadParam> {
    match params.get("limit").map(|l| l.parse::<i64>()) {
        None => Ok(DEFAULT_LIMIT),
        Some(Ok(l)) if (1..=MAX_LIMIT).contains(&l) => Ok(l),
        Some(_) => Err(BadParam {
            field: "limit".into(),
            message: format!("must be a number from 1 to {MAX_LIMIT}"),
        }),
    }
}

/// `GET /api/v1/competitions`.
#[utoipa::path(get, path = "/api/v1/competitions", tag = "data",
    params(("If-None-Match" = Option<String>, Header, description = "An ETag of an earlier answer.")),
    responses(
        (status = 200, description = "Every competition herald has matches of, with its matches counted.", body = CompetitionList),
        (status = 304, description = "Unchanged since the ETag given."),
        (status = 503, description = "The store is unavailable.", body = ErrorBody),
    ))]
pub(super) async fn competitions(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let counts = match state.store.competition_counts().await {
        Ok(c) => c,
        Err(e) => return unavailable(&e),
    };
    let mut out: Vec<Competition> = Vec::new();
    for (source, name, phase, n) in counts {
        let id = competition_id(&source, &name);
        let entry = match out.iter_mut().position(|c| c.id == id) {
            Some(i) => &mut out[i],
            None => {
                out.push(Competition {
                    id,
                    name,
                    source,
                    live: 0,
                    scheduled: 0,
                    finished: 0,
                });
                out.last_mut().expect("just pushed")
            }
        };
        match Status::of(&phase) {
            Status::Live => entry.live += n,
            Status::Scheduled => entry.scheduled += n,
            Status::Finished => entry.finished += n,
        }
    }
    etag::json(&headers, &CompetitionList { competitions: out })
}

/// The (source, name) of the competition `typed` (an id or a name), if herald has it.
async fn find_competition(
    state: &AppState,
    typed: &str,
) -> Result<Option<(String, String)>, StoreError> {
    let counts = state.store.competition_counts().await?;
    let folded = crate::teams::fold(typed);
    Ok(counts.into_iter().find_map(|(source, name, _, _)| {
        (competition_id(&source, &name) == typed || crate::teams::fold(&name) == folded)
            .then_some((source, name))
    }))
}

/// Every spelling seen of the team `typed` (an id or a name).
async fn team_names(state: &AppState, typed: &str) -> Result<Vec<String>, StoreError> {
    let (teams, _) = state.store.known_names().await?;
    let wanted = team_id(typed);
    Ok(teams
        .into_iter()
        .filter(|name| !wanted.is_empty() && team_id(name) == wanted)
        .collect())
}

fn encode_cursor((kickoff, id): &MatchCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kickoff}:{id}"))
}

fn decode_cursor(text: &str) -> Option<MatchCursor> {
    let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (kickoff, id) = text.split_once(':')?;
    Some((kickoff.parse().ok()?, id.to_owned()))
}

/// The first `limit` of `rows` (read one more than `limit`), and the cursor after the last of
/// them when there were more.
fn cut<T>(mut rows: Vec<T>, limit: i64, cursor: impl Fn(&T) -> String) -> (Vec<T>, Option<String>) {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more { rows.last().map(cursor) } else { None };
    (rows, next)
}

/// Kick-offs on the UTC day `YYYY-MM-DD`, as `[from, to)` Unix seconds.
fn day(text: &str) -> Option<(i64, i64)> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(text, &format).ok()?;
    let from = date.midnight().assume_utc().unix_timestamp();
    Some((from, from + 86_400))
}

/// `GET /api/v1/matches?competition=&team=&status=&date=&limit=&cursor=`: latest kick-off
/// first.
#[utoipa::path(get, path = "/api/v1/matches", tag = "data",
    params(
        ("competition" = Option<String>, Query, description = "A competition id or name."),
        ("team" = Option<String>, Query, description = "A team id or any spelling of its name."),
        ("status" = Option<String>, Query, description = "`live`, `scheduled` or `finished`."),
        ("date" = Option<String>, Query, description = "Kick-off on this UTC day, `YYYY-MM-DD`."),
        ("limit" = Option<i64>, Query, description = "Matches per page, 1 to 200 (50)."),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page."),
        ("If-None-Match" = Option<String>, Header, description = "An ETag of an earlier answer."),
    ),
    responses(
        (status = 200, description = "A page of matches, latest kick-off first.", body = MatchPage),
        (status = 304, description = "Unchanged since the ETag given."),
        (status = 400, description = "A parameter that does not hold (`field` names it).", body = ErrorBody),
    ))]
pub(super) async fn matches(
    State(state): State<AppState>,
    Query(params): Params,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = only(
        &params,
        &["competition", "team", "status", "date", "limit", "cursor"],
    ) {
        return refused.into_response();
    }
    let limit = match limit(&params) {
        Ok(l) => l,
        Err(refused) => return refused.into_response(),
    };
    let mut filter = MatchFilter::default();
    if let Some(typed) = params.get("competition") {
        match find_competition(&state, typed).await {
            Ok(Some(c)) => filter.competition = Some(c),
            Ok(None) => {
                return bad(
                    "competition",
                    "no such competition (see /api/v1/competitions)",
                );
            }
            Err(e) => return unavailable(&e),
        }
    }
    if let Some(typed) = params.get("team") {
        match team_names(&state, typed).await {
            Ok(names) if names.is_empty() => return bad("team", "no match of this team"),
            Ok(names) => filter.teams = Some(names),
            Err(e) => return unavailable(&e),
        }
    }
    if let Some(status) = params.get("status") {
        match Status::parse(status) {
            Some(s) => filter.phases = Some(s.phases()),
            None => return bad("status", "must be live, scheduled or finished"),
        }
    }
    if let Some(date) = params.get("date") {
        match day(date) {
            Some(range) => filter.kickoff = Some(range),
            None => return bad("date", "must be a date, YYYY-MM-DD"),
        }
    }
    let after = match params.get("cursor").map(|c| decode_cursor(c)) {
        None => None,
        Some(Some(c)) => Some(c),
        Some(None) => return bad("cursor", "must be a next_cursor of a previous page"),
    };
    let rows = match state
        .store
        .match_page(&filter, after.as_ref(), limit + 1)
        .await
    {
        Ok(rows) => rows,
        Err(e) => return unavailable(&e),
    };
    let (rows, next) = cut(rows, limit, |m| {
        encode_cursor(&(m.kickoff.unwrap_or(0), m.id.clone()))
    });
    let matches: Vec<MatchSummary> = rows.into_iter().map(MatchSummary::from).collect();
    etag::json(
        &headers,
        &MatchPage {
            matches,
            next_cursor: next,
        },
    )
}

/// `GET /api/v1/matches/{id}`.
#[utoipa::path(get, path = "/api/v1/matches/{id}", tag = "data",
    params(
        ("id" = String, Path, description = "The match id, `<source>:<provider's id>`."),
        ("If-None-Match" = Option<String>, Header, description = "An ETag of an earlier answer."),
    ),
    responses(
        (status = 200, description = "The match.", body = MatchDetail),
        (status = 304, description = "Unchanged since the ETag given."),
        (status = 404, description = "No such match.", body = ErrorBody),
    ))]
pub(super) async fn match_detail(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match state.store.match_state(&id).await {
        Ok(Some((tracked, updated_at_ms))) => {
            let source = id.split_once(':').map_or("", |(s, _)| s);
            etag::json(
                &headers,
                &MatchDetail::new(source, &tracked.state, updated_at_ms),
            )
        }
        Ok(None) => error(StatusCode::NOT_FOUND, "no such match", None),
        Err(e) => unavailable(&e),
    }
}

/// `GET /api/v1/matches/{id}/events?limit=&cursor=`: in the order herald recorded them.
#[utoipa::path(get, path = "/api/v1/matches/{id}/events", tag = "data",
    params(
        ("id" = String, Path, description = "The match id."),
        ("limit" = Option<i64>, Query, description = "Events per page, 1 to 200 (50)."),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page."),
        ("If-None-Match" = Option<String>, Header, description = "An ETag of an earlier answer."),
    ),
    responses(
        (status = 200, description = "The match's events in order, corrections included.", body = EventPage),
        (status = 304, description = "Unchanged since the ETag given."),
        (status = 400, description = "A parameter that does not hold.", body = ErrorBody),
        (status = 404, description = "No such match.", body = ErrorBody),
    ))]
pub(super) async fn match_events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Params,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = only(&params, &["limit", "cursor"]) {
        return refused.into_response();
    }
    let limit = match limit(&params) {
        Ok(l) => l,
        Err(refused) => return refused.into_response(),
    };
    let after = match params.get("cursor").map(|c| c.parse::<i64>()) {
        None => 0,
        Some(Ok(seq)) if seq >= 0 => seq,
        Some(_) => return bad("cursor", "must be a next_cursor of a previous page"),
    };
    match state.store.match_state(&id).await {
        Ok(Some(_)) => {}
        Ok(None) => return error(StatusCode::NOT_FOUND, "no such match", None),
        Err(e) => return unavailable(&e),
    }
    let events = match state.store.match_events(&id, after, limit + 1).await {
        Ok(events) => events,
        Err(e) => return unavailable(&e),
    };
    let (events, next) = cut(events, limit, |e| e.seq.to_string());
    let events: Vec<MatchEvent> = events.into_iter().map(MatchEvent::from).collect();
    etag::json(
        &headers,
        &EventPage {
            events,
            next_cursor: next,
        },
    )
}

/// `GET /api/v1/teams/{id}` (an id, or any spelling of the team's name).
#[utoipa::path(get, path = "/api/v1/teams/{id}", tag = "data",
    params(
        ("id" = String, Path, description = "A team id (`france`) or any spelling of its name (`FRA`)."),
        ("If-None-Match" = Option<String>, Header, description = "An ETag of an earlier answer."),
    ),
    responses(
        (status = 200, description = "The team with its recent and next matches.", body = TeamDetail),
        (status = 304, description = "Unchanged since the ETag given."),
        (status = 404, description = "No match of such a team.", body = ErrorBody),
    ))]
pub(super) async fn team(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let names = match team_names(&state, &id).await {
        Ok(names) if names.is_empty() => {
            return error(StatusCode::NOT_FOUND, "no such team", None);
        }
        Ok(names) => names,
        Err(e) => return unavailable(&e),
    };
    let rows = match state.store.team_matches(&names).await {
        Ok(rows) => rows,
        Err(e) => return unavailable(&e),
    };
    let key = team_id(&names[0]);
    // The spelling of the latest match.
    let name = rows
        .iter()
        .max_by_key(|m| m.updated_at_ms)
        .map(|m| {
            if team_id(&m.home) == key {
                &m.home
            } else {
                &m.away
            }
        })
        .cloned()
        .unwrap_or_else(|| names[0].clone());
    let mut aliases: Vec<String> = names
        .iter()
        .map(String::as_str)
        .chain(crate::teams::aliases(&name).iter().copied())
        .filter(|a| *a != name)
        .map(str::to_owned)
        .collect();
    aliases.sort();
    aliases.dedup();
    let summaries: Vec<MatchSummary> = rows.into_iter().map(MatchSummary::from).collect();
    let mut next: Vec<MatchSummary> = summaries
        .iter()
        .filter(|m| m.status == Status::Scheduled)
        .cloned()
        .collect();
    next.sort_by_key(|m| (m.kickoff.unwrap_or(i64::MAX), m.id.clone()));
    next.truncate(TEAM_MATCHES);
    let recent: Vec<MatchSummary> = summaries
        .into_iter()
        .filter(|m| m.status != Status::Scheduled)
        .take(TEAM_MATCHES)
        .collect();
    etag::json(
        &headers,
        &TeamDetail {
            id: key,
            name,
            aliases,
            recent,
            next,
        },
    )
}
