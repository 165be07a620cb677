//! Sources: where match data comes from. One module per provider; each turns the provider's
//! responses into [`MatchState`]s. Providers fetch through a [`Transport`], so the same code
//! polls the real API over HTTP ([`http::HttpTransport`]) and replays recorded responses
//! ([`replay`]).

pub mod api_football;
mod cadence;
pub mod fifa;
pub mod football_data;
pub mod http;
pub mod livescore;
pub mod push;
pub mod replay;
#[cfg(test)]
mod testing;

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::model::MatchState;

pub use cadence::Cadence;

/// What one poll of a source saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Every match the source has complete, fresh data about. A match left out keeps its
    /// stored state: a partial failure never looks like vanished goals.
    pub matches: Vec<MatchState>,
}

/// When to poll next, as the source sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextPoll {
    /// Whatever the cadence says for the matches seen.
    Cadence,
    /// Not before this long (a quota), and not before the cadence says either.
    NotBefore(Duration),
    /// Exactly after this long (replays keep their own time).
    After(Duration),
    /// The source has nothing more to give (a replay that ended).
    Done,
}

/// The result of one successful poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poll {
    /// What the source saw.
    pub snapshot: Snapshot,
    /// When to poll next.
    pub next: NextPoll,
    /// Where a resumable source stands (a replay's position), stored with the poll's events.
    pub cursor: Option<String>,
}

impl Poll {
    /// A poll whose timing is left to the cadence.
    pub fn on_cadence(matches: Vec<MatchState>) -> Self {
        Self {
            snapshot: Snapshot { matches },
            next: NextPoll::Cadence,
            cursor: None,
        }
    }
}

/// A provider of match data.
pub trait Source: Send + 'static {
    /// Fetches the current state of the matches the source follows.
    fn poll(&mut self) -> impl Future<Output = Result<Poll, SourceError>> + Send;

    /// Restores the position stored by a previous run (see [`Poll::cursor`]).
    fn resume(&mut self, cursor: &str) {
        let _ = cursor;
    }

    /// Whether a first poll may show a past that `detect.backlog = "skip"` keeps quiet: a
    /// provider's matches in progress at herald's first start. Sources whose every input is
    /// news (pushed snapshots) have none.
    fn has_backlog(&self) -> bool {
        true
    }

    /// Whether each poll spends a limited quota (a plan's requests per minute or per day):
    /// while another source carries its live matches, it is polled at the break pace, and
    /// its quota is kept for when that one stalls.
    fn spends_quota(&self) -> bool {
        false
    }
}

/// Why a poll failed. The poller logs it and keeps the previous state.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The request did not complete (connection, timeout). The URL is stripped: it may hold
    /// credentials.
    #[error("request to {endpoint} failed")]
    Request {
        /// Which endpoint (path only).
        endpoint: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The provider answered with an error status.
    #[error("{endpoint} answered HTTP {status}")]
    Status {
        /// Which endpoint (path only).
        endpoint: String,
        /// The status code.
        status: u16,
    },
    /// The provider asked us to slow down.
    #[error("{endpoint} is rate limited; retry in {retry_after:?}")]
    RateLimited {
        /// Which endpoint (path only).
        endpoint: String,
        /// How long to wait.
        retry_after: Duration,
    },
    /// The response was not what the provider's format says.
    #[error("malformed response from {endpoint}: {message}")]
    Malformed {
        /// Which endpoint (path only).
        endpoint: String,
        /// What was wrong, with the JSON path.
        message: String,
    },
    /// The provider reported an error in a successful response (API-Football's `errors`).
    #[error("{endpoint} reported: {message}")]
    Api {
        /// Which endpoint (path only).
        endpoint: String,
        /// The provider's message.
        message: String,
    },
    /// The inbox of pushed snapshots could not be read.
    #[error("cannot read the pushed snapshots")]
    Inbox(#[source] crate::store::StoreError),
    /// A replay could not be read.
    #[error("cannot read replay {path}: {message}")]
    Replay {
        /// The fixture directory or file.
        path: String,
        /// What went wrong.
        message: String,
    },
}

impl SourceError {
    /// The HTTP client of the source `id` could not be built.
    pub fn client(id: &str, error: reqwest::Error) -> Self {
        Self::Request {
            endpoint: id.to_owned(),
            source: error,
        }
    }

    /// How long the provider asked us to wait, for rate-limit errors.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }
}

/// Checks a source's `endpoint`: an http or https URL.
///
/// # Errors
/// Anything else.
pub fn check_endpoint(url: &str) -> Result<(), sink_api::Invalid> {
    let problem = match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => return Ok(()),
        Ok(u) => format!("scheme `{}` is not http or https", u.scheme()),
        Err(e) => format!("not a URL: {e}"),
    };
    Err(sink_api::Invalid::new("endpoint", problem))
}

/// Checks a metered source: its `endpoint`, and a `requests_per_minute` of at least 1.
///
/// # Errors
/// The first of the two that is wrong.
pub fn check_quota(endpoint: &str, requests_per_minute: u32) -> Result<(), sink_api::Invalid> {
    check_endpoint(endpoint)?;
    if requests_per_minute == 0 {
        return Err(sink_api::Invalid::new(
            "requests_per_minute",
            "must be at least 1",
        ));
    }
    Ok(())
}

/// A metered source in `check-config`: `https://… (10 req/min)`.
pub fn describe_quota(endpoint: &str, requests_per_minute: u32) -> String {
    format!("{endpoint} ({requests_per_minute} req/min)")
}

/// A response as providers see it, whether fetched or replayed.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status (a 304 from the network is turned into the cached 200).
    pub status: u16,
    /// Response headers (quota headers live here).
    pub headers: reqwest::header::HeaderMap,
    /// The body.
    pub body: Bytes,
    /// The provider's clock when it answered (its `Date` header, or the replay step's time),
    /// Unix seconds. Providers judge "recent" and "soon" against it, not against our clock.
    pub now: i64,
}

impl Response {
    /// Decodes the body, naming the JSON path of anything that does not fit.
    pub fn json<T: DeserializeOwned>(&self, endpoint: &str) -> Result<T, SourceError> {
        let de = &mut serde_json::Deserializer::from_slice(&self.body);
        serde_path_to_error::deserialize(de).map_err(|e| SourceError::Malformed {
            endpoint: endpoint.to_owned(),
            message: format!("at `{}`: {}", e.path(), e.inner()),
        })
    }

    /// Fails on any status but 200, turning 429 into [`SourceError::RateLimited`].
    pub fn ok(self, endpoint: &str) -> Result<Self, SourceError> {
        match self.status {
            200 => Ok(self),
            429 => Err(SourceError::RateLimited {
                endpoint: endpoint.to_owned(),
                retry_after: retry_after(&self.headers).unwrap_or(Duration::from_secs(60)),
            }),
            status => Err(SourceError::Status {
                endpoint: endpoint.to_owned(),
                status,
            }),
        }
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    }
}

/// How long a provider's 429 asks to wait: `Retry-After`, or football-data's counter reset.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    sink_api::http::retry_after(headers, std::time::SystemTime::now()).or_else(|| {
        // football-data.org says when its per-minute counter resets.
        headers
            .get("x-requestcounter-reset")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs)
    })
}

/// How providers fetch: over HTTP from the real API, or from a recording.
pub trait Transport: Send + Sync + 'static {
    /// GETs `path` (relative to the provider's base URL, starting with `/`) with `query`.
    /// Credentials are the transport's business, not the provider's.
    fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> impl Future<Output = Result<Response, SourceError>> + Send;

    /// Holds further requests for `for_` because the provider's quota is spent. Recordings
    /// have no quota and ignore it.
    fn pause(&self, for_: Duration) {
        let _ = for_;
    }
}

/// Parses `"2018-07-15T15:00:00Z"` (and offsets) into Unix seconds.
pub(crate) fn parse_rfc3339(text: &str) -> Option<i64> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// Seconds after kick-off during which a finished match still counts as recent: long enough to
/// pick up the final whistle after a restart, short enough not to re-read old matches.
pub(crate) const RECENT_AFTER_KICKOFF: i64 = 6 * 3600;
