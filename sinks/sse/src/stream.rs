//! `GET /stream`: one SSE response per client, fed from the hub.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use futures::Stream;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::hub::{ClientGuard, Hub, Resume};
use crate::render::{self, Frame};

/// The most a client is sent in one write, live or replaying its history: the per-client
/// write budget.
pub(crate) const MAX_BATCH: usize = 16 * 1024;

/// The `Last-Event-ID` request header defined by the SSE spec.
const LAST_EVENT_ID: &str = "last-event-id";

/// Which notifications a client wants; every non-empty list must match.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Filter {
    matches: Vec<String>,
    teams: Vec<String>,
    topics: Vec<String>,
    kinds: Vec<String>,
    /// `spoilers=off`: frames without the score.
    hide_scores: bool,
}

impl Filter {
    pub(crate) fn accepts(&self, frame: &Frame) -> bool {
        let topic = frame.topic.as_deref().map(str::to_lowercase);
        (self.matches.is_empty()
            || frame
                .match_id
                .as_ref()
                .is_some_and(|m| self.matches.contains(m)))
            && (self.teams.is_empty()
                || self
                    .teams
                    .iter()
                    .any(|t| frame.teams.contains(t) || topic.as_deref() == Some(t.as_str())))
            && (self.topics.is_empty() || topic.as_ref().is_some_and(|t| self.topics.contains(t)))
            && (self.kinds.is_empty() || self.kinds.contains(&frame.kind))
    }
}

/// Query parameters of `GET /stream`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Params {
    pub(crate) filter: Filter,
    pub(crate) last_event_id: Option<String>,
}

impl Params {
    /// Parses the raw query; keys may repeat. Unknown keys are an error so that a typo
    /// (`?teams=`) does not silently stream everything.
    pub(crate) fn parse(query: Option<&str>) -> Result<Self, String> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
            .map_err(|e| format!("malformed query string: {e}"))?;
        let mut params = Self::default();
        for (key, value) in pairs {
            let value = value.trim().to_owned();
            if value.is_empty() {
                continue;
            }
            match key.as_str() {
                "match" => params.filter.matches.push(value),
                "team" => params.filter.teams.push(value.to_lowercase()),
                "topic" => params.filter.topics.push(value.to_lowercase()),
                "kind" => params.filter.kinds.push(value),
                "last_event_id" | "lastEventId" => params.last_event_id = Some(value),
                "spoilers" => {
                    params.filter.hide_scores = match value.to_ascii_lowercase().as_str() {
                        "on" | "true" | "1" | "yes" => false,
                        "off" | "false" | "0" | "no" => true,
                        _ => return Err(format!("spoilers must be on or off, not `{value}`")),
                    }
                }
                other => {
                    return Err(format!(
                        "unknown query parameter `{other}` (expected match, team, topic, kind, last_event_id, spoilers)"
                    ));
                }
            }
        }
        Ok(params)
    }
}

/// The handler mounted at `GET /stream`.
pub(crate) async fn handler(
    State(hub): State<Hub>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = match Params::parse(query.as_deref()) {
        Ok(p) => p,
        Err(error) => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(serde_json::json!({ "error": error })),
            )
                .into_response();
        }
    };
    let last_id = headers
        .get(LAST_EVENT_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(params.last_event_id);
    let resume = last_id
        .and_then(|id| id.trim().parse::<i64>().ok())
        .map_or(Resume::Live, Resume::After);
    let Some(stream) = client_stream(&hub, resume, params.filter) else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, HeaderValue::from_static("10"))],
            "the event stream is full or shutting down\n",
        )
            .into_response();
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            // Tells nginx not to buffer the stream.
            (
                header::HeaderName::from_static("x-accel-buffering"),
                HeaderValue::from_static("no"),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

struct Client {
    hub: Hub,
    rx: tokio::sync::broadcast::Receiver<Arc<Frame>>,
    filter: Filter,
    /// History still to send (a resume), taken a chunk at a time as the client reads.
    backlog: VecDeque<Arc<Frame>>,
    /// Frames ready for the next write.
    pending: VecDeque<Bytes>,
    /// The publish position of the next frame this client needs.
    next_pos: u64,
    /// Where the live broadcast started for this client: nothing before it comes live, so
    /// once the backlog is sent the client is at least here.
    live_pos: u64,
    heartbeat: Interval,
    done: bool,
    _guard: ClientGuard,
}

impl Client {
    fn take(&mut self, frames: impl IntoIterator<Item = Arc<Frame>>) {
        for frame in frames {
            if frame.pos < self.next_pos {
                continue;
            }
            self.next_pos = frame.pos + 1;
            if self.filter.accepts(&frame) {
                let bytes = frame.bytes_for(!self.filter.hide_scores);
                self.pending.push_back(bytes.clone());
            }
        }
    }

    /// What is pending, as one chunk of at most `MAX_BATCH` bytes (a bigger frame goes
    /// alone): one write for many frames when a client is behind, and a history replay of any
    /// length goes out chunk by chunk, as fast as the client reads, instead of as one buffer
    /// per client. The frames wait as shared references to the history until then.
    fn batch(&mut self) -> Option<Bytes> {
        let first = self.pending.pop_front()?;
        let mut size = first.len();
        let fits =
            |size: usize, next: Option<&Bytes>| next.is_some_and(|n| size + n.len() <= MAX_BATCH);
        if !fits(size, self.pending.front()) {
            return Some(first);
        }
        let mut out = BytesMut::with_capacity(MAX_BATCH.min(size * 4));
        out.extend_from_slice(&first);
        while fits(size, self.pending.front()) {
            let Some(next) = self.pending.pop_front() else {
                break;
            };
            size += next.len();
            out.extend_from_slice(&next);
        }
        Some(out.freeze())
    }

    /// Takes whatever else the broadcast already holds, up to `MAX_BATCH` bytes.
    fn take_ready(&mut self) {
        let mut size: usize = self.pending.iter().map(Bytes::len).sum();
        while size < MAX_BATCH {
            match self.rx.try_recv() {
                Ok(frame) => {
                    size += frame.bytes.len();
                    self.take([frame]);
                }
                Err(TryRecvError::Lagged(_)) => {
                    self.catch_up();
                    break;
                }
                Err(TryRecvError::Closed) => {
                    self.done = true;
                    break;
                }
                Err(TryRecvError::Empty) => break,
            }
        }
    }

    /// Moves history frames into `pending` until a chunk's worth is there or none are left.
    fn refill(&mut self) {
        let mut size: usize = self.pending.iter().map(Bytes::len).sum();
        while size < MAX_BATCH {
            let Some(frame) = self.backlog.pop_front() else {
                break;
            };
            let before = self.pending.len();
            self.take([frame]);
            size += self
                .pending
                .iter()
                .skip(before)
                .map(Bytes::len)
                .sum::<usize>();
        }
        if self.backlog.is_empty() {
            self.next_pos = self.next_pos.max(self.live_pos);
        }
    }

    /// After lagging behind the broadcast: resume from the history, or give up.
    fn catch_up(&mut self) {
        match self.hub.since(self.next_pos) {
            Some(frames) => self.backlog = frames.into(),
            None => {
                // What it missed is gone from the history too: end the stream so the client
                // reconnects and resumes from its Last-Event-ID.
                tracing::debug!("SSE client fell behind the history; disconnecting");
                self.done = true;
            }
        }
    }

    async fn next(&mut self) -> Option<Bytes> {
        loop {
            if self.pending.is_empty() {
                self.refill();
            }
            if let Some(bytes) = self.batch() {
                return Some(bytes);
            }
            if self.done {
                return None;
            }
            // Only with the history sent: live frames come after it.
            tokio::select! {
                received = self.rx.recv() => match received {
                    Ok(frame) => {
                        self.take([frame]);
                        self.take_ready();
                    }
                    Err(RecvError::Lagged(_)) => self.catch_up(),
                    Err(RecvError::Closed) => self.done = true,
                },
                _ = self.heartbeat.tick() => self.pending.push_back(Bytes::from_static(render::HEARTBEAT)),
            }
        }
    }
}

/// The byte stream of one client, or `None` when the hub refuses it.
fn client_stream(
    hub: &Hub,
    resume: Resume,
    filter: Filter,
) -> Option<impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static> {
    let sub = hub.subscribe(resume)?;
    let config = hub.config();
    let mut heartbeat =
        tokio::time::interval_at(Instant::now() + config.heartbeat, config.heartbeat);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let client = Client {
        hub: hub.clone(),
        rx: sub.rx,
        filter,
        backlog: sub.backlog.into(),
        pending: VecDeque::from([render::retry(config.retry.as_millis())]),
        next_pos: 0,
        live_pos: sub.next_pos,
        heartbeat,
        done: false,
        _guard: sub.guard,
    };
    Some(futures::stream::unfold(client, |mut client| async move {
        let bytes = client.next().await?;
        Some((Ok(bytes), client))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_parse_repeated_and_aliased_keys() {
        let p = Params::parse(Some(
            "team=France&team=Croatia&match=m1&kind=goal&lastEventId=9",
        ))
        .unwrap();
        assert_eq!(p.filter.teams, vec!["france", "croatia"]);
        assert_eq!(p.filter.matches, vec!["m1"]);
        assert_eq!(p.filter.kinds, vec!["goal"]);
        assert_eq!(p.last_event_id.as_deref(), Some("9"));
        assert_eq!(Params::parse(None).unwrap(), Params::default());
        assert!(!p.filter.hide_scores);
        assert!(
            Params::parse(Some("spoilers=off"))
                .unwrap()
                .filter
                .hide_scores
        );
        assert!(
            !Params::parse(Some("spoilers=ON"))
                .unwrap()
                .filter
                .hide_scores
        );
        let err = Params::parse(Some("spoilers=maybe")).unwrap_err();
        assert!(err.contains("on or off"), "{err}");
    }

    #[test]
    fn unknown_params_are_rejected_with_their_name() {
        let err = Params::parse(Some("teams=France")).unwrap_err();
        assert!(err.contains("`teams`"), "{err}");
    }
}
