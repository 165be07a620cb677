//! Producers and pollers on demand: a pushed match snapshot is checked, stored in its `push`
//! source's inbox and the source's poller woken (on this instance, and through the store on
//! the one that holds the source's lease); a poll asked for wakes a source's poller the same
//! way.

pub mod schema;

use std::sync::Arc;

use crate::signal::{Wakers, poll_waker};
use crate::store::{Store, StoreError};

pub use schema::{Invalid, Push, PushedMatch, parse};

/// The sources of this configuration, for pushes and polls on demand; cheap to clone.
#[derive(Debug, Clone)]
pub struct Ingest {
    store: Store,
    wakers: Wakers,
    /// Every configured source id, with whether it is a `push` source.
    sources: Arc<Vec<(String, bool)>>,
}

/// A snapshot taken in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The push source.
    pub source: String,
    /// The match id as herald knows it (`<source>:<producer's id>`).
    pub match_id: String,
    /// Its place in the source's inbox.
    pub seq: i64,
}

/// Why a push was refused.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The body does not hold (the JSON path of the field).
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// No `push` source is configured.
    #[error("no push source is configured ([sources.<id>] type = \"push\")")]
    NoPushSource,
    /// The store failed.
    #[error("cannot store the snapshot")]
    Store(#[from] StoreError),
}

impl Ingest {
    /// The sources `sources` (id, whether it is a `push` source).
    pub fn new(store: Store, wakers: Wakers, sources: Vec<(String, bool)>) -> Self {
        Self {
            store,
            wakers,
            sources: Arc::new(sources),
        }
    }

    /// Whether `id` is a configured source.
    pub fn has_source(&self, id: &str) -> bool {
        self.sources.iter().any(|(s, _)| s == id)
    }

    fn push_sources(&self) -> impl Iterator<Item = &str> {
        self.sources
            .iter()
            .filter(|(_, push)| *push)
            .map(|(id, _)| id.as_str())
    }

    /// Checks a pushed snapshot (JSON), stores it in its source's inbox and wakes the source.
    ///
    /// # Errors
    /// A body that does not hold (nothing is stored), no push source, or the store.
    pub async fn push(&self, body: &[u8]) -> Result<Accepted, PushError> {
        let (push, state) = parse(body)?;
        let source = self.source_of(push.source.as_deref())?;
        let sequence = push
            .snapshot
            .sequence
            .map(|s| i64::try_from(s).unwrap_or(i64::MAX));
        let seq = self.store.push_snapshot(&source, &state, sequence).await?;
        self.wakers.wake([poll_waker(&source).as_str()]);
        Ok(Accepted {
            match_id: format!("{source}:{}", state.id),
            source,
            seq,
        })
    }

    /// The push source a push names, or the only one.
    fn source_of(&self, named: Option<&str>) -> Result<String, PushError> {
        let pushes: Vec<&str> = self.push_sources().collect();
        match named {
            Some(name) if pushes.contains(&name) => Ok(name.to_owned()),
            Some(_) if pushes.is_empty() => Err(PushError::NoPushSource),
            Some(_) => Err(Invalid {
                field: "source".into(),
                message: format!("not a push source; push sources: {}", pushes.join(", ")),
            }
            .into()),
            None => match pushes.as_slice() {
                [] => Err(PushError::NoPushSource),
                [only] => Ok((*only).to_owned()),
                several => Err(Invalid {
                    field: "source".into(),
                    message: format!("required with several push sources: {}", several.join(", ")),
                }
                .into()),
            },
        }
    }

    /// Asks the instance polling `source` to poll it now. `false` when there is no such
    /// source.
    ///
    /// # Errors
    /// The store could not carry the request to the other instances.
    pub async fn poll_now(&self, source: &str) -> Result<bool, StoreError> {
        if !self.has_source(source) {
            return Ok(false);
        }
        let waker = poll_waker(source);
        self.wakers.wake([waker.as_str()]);
        self.store.notify(&[waker.as_str()]).await?;
        Ok(true)
    }
}
