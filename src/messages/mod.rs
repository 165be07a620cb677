//! The messages API's service: addressed, scheduled and tracked messages. A message is
//! checked against the configured sinks, recorded (with its deliveries at once when it is
//! due now), released by the [`scheduler`] when it is scheduled, and read back with where
//! each delivery stands. The HTTP routes (`http::messages`) and the CLI go through it.

pub mod request;
pub mod scheduler;
mod view;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use sink_api::{Delivery, Recipient};
use time::OffsetDateTime;

pub use request::{Invalid, MessageRequest};
pub use view::{Detail, Page, Summary};

use crate::model::{Event, EventKind};
use crate::plugins::SinkSpec;
use crate::render::Renderer;
use crate::routing::{Audience, Route, Target};
use crate::signal::Wakers;
use crate::store::{
    Cancelled, Counts, MessageRow, MessageState, NewMessage, Recorded, Store, StoreError,
};

/// Where a message stands, as the API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for its `send_at`.
    Scheduled,
    /// Its deliveries wait for a first attempt.
    Queued,
    /// Some deliveries are done or being retried, others are not.
    Sending,
    /// Every delivery was accepted by its platform.
    Delivered,
    /// Some delivery was given up on.
    Failed,
    /// Cancelled before (all of) it was sent.
    Cancelled,
}

impl Status {
    /// Every status, for error messages.
    pub const ALL: [Self; 6] = [
        Self::Scheduled,
        Self::Queued,
        Self::Sending,
        Self::Delivered,
        Self::Failed,
        Self::Cancelled,
    ];

    /// The API's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses an API name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether nothing more will happen to it (what a purge may delete).
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Delivered | Self::Failed | Self::Cancelled)
    }

    /// The status of `row` whose deliveries stand as `counts`.
    fn of(row: &MessageRow, counts: Counts) -> Self {
        match row.state() {
            MessageState::Scheduled => Self::Scheduled,
            MessageState::Cancelled => Self::Cancelled,
            MessageState::Released if counts.pending() > 0 => {
                if counts.sending + counts.delivered + counts.failed > 0 {
                    Self::Sending
                } else {
                    Self::Queued
                }
            }
            MessageState::Released if counts.failed > 0 => Self::Failed,
            MessageState::Released if counts.cancelled > 0 => Self::Cancelled,
            MessageState::Released => Self::Delivered,
        }
    }
}

/// What a submission got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// The message id.
    pub id: String,
    /// `Scheduled` or `Queued`.
    pub status: Status,
    /// Deliveries queued (addressed, for a scheduled message with recipients; 0 for a
    /// scheduled routed one, counted when it is sent).
    pub deliveries: i64,
    /// An idempotent repeat: nothing new was recorded.
    pub repeat: bool,
}

impl Submitted {
    /// What the API answers about it.
    pub fn answer(&self) -> crate::http::answers::Submitted {
        crate::http::answers::Submitted {
            id: self.id.clone(),
            status: self.status.as_str(),
            deliveries: self.deliveries,
        }
    }
}

/// Why a submission was refused.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// A field is wrong; nothing was stored.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The idempotency key was used with another request.
    #[error("this Idempotency-Key was used with a different request")]
    KeyReused,
    /// The store failed; nothing was stored.
    #[error("cannot record the message")]
    Store(#[from] StoreError),
}

/// What cancelling did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// No such message.
    NotFound,
    /// Cancelled: this many deliveries will not be sent (all, for a scheduled message).
    Cancelled(u64),
    /// Everything was sent or settled already.
    NothingLeft,
}

/// One configured sink, as messages address it.
struct SinkInfo {
    route: Route,
    spec: Option<Arc<dyn SinkSpec>>,
}

/// The service; cheap to clone.
#[derive(Clone)]
pub struct Messages {
    store: Store,
    routes: Arc<Vec<Route>>,
    sinks: Arc<BTreeMap<String, SinkInfo>>,
    renderer: Arc<Renderer>,
    wakers: Wakers,
}

impl std::fmt::Debug for Messages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Messages")
            .field("sinks", &self.sinks.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Rows read per page when a list or a purge looks for messages of one status.
const SCAN_PAGE: i64 = 500;
/// Most messages a filtered list looks at before it answers with a cursor to go on from.
const SCAN_LIMIT: usize = 5_000;
/// Most messages per page of a list.
pub const MAX_LIMIT: usize = 500;

impl Messages {
    /// The service over `store`, addressing the sinks of `routes` (checked by their plug-in
    /// when `specs` has it), waking `wakers`.
    pub fn new(
        store: Store,
        routes: Arc<Vec<Route>>,
        specs: &BTreeMap<String, Arc<dyn SinkSpec>>,
        renderer: Arc<Renderer>,
        wakers: Wakers,
    ) -> Self {
        let sinks = routes
            .iter()
            .map(|route| {
                (
                    route.sink.clone(),
                    SinkInfo {
                        route: route.clone(),
                        spec: specs.get(&route.sink).cloned(),
                    },
                )
            })
            .collect();
        Self {
            store,
            routes,
            sinks: Arc::new(sinks),
            renderer,
            wakers,
        }
    }

    /// Checks and records a message from `caller` (a token name); sends it now or schedules
    /// it. A repeat of `idempotency_key` with the same request returns the first answer.
    ///
    /// # Errors
    /// A bad field, a reused key, or the store; nothing is recorded then.
    pub async fn submit(
        &self,
        caller: &str,
        idempotency_key: Option<&str>,
        request: MessageRequest,
    ) -> Result<Submitted, SubmitError> {
        let canonical = request.canonical();
        let key = idempotency_key.map(|k| format!("{caller}:{k}"));
        if let Some(key) = &key
            && let Some(first) = self.store.message_by_key(key).await?
        {
            return repeat(&first, &canonical);
        }
        let now = OffsetDateTime::now_utc();
        let send_at = request.check(now)?;
        if let Some(locale) = &request.locale
            && !self.renderer.has_locale(locale)
        {
            return Err(Invalid::new(
                format!(
                    "unknown locale `{}` (available: {})",
                    sink_api::text::truncate(locale, 40),
                    self.renderer.locales().collect::<Vec<_>>().join(", ")
                ),
                "locale",
            )
            .into());
        }
        for (i, sink) in request.subscribers_of.iter().enumerate() {
            if !self
                .sinks
                .get(sink)
                .is_some_and(|s| s.route.delivery == Delivery::PointToPoint)
            {
                return Err(Invalid::new(
                    format!(
                        "`{}` is not a sink with subscribers (configured: {})",
                        sink_api::text::truncate(sink, 60),
                        self.sinks.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                    format!("subscribers_of[{i}]"),
                )
                .into());
            }
        }
        let targets = self.addressed(&request, true)?;
        let id = format!("msg_{:032x}", rand::random::<u128>());
        let new = NewMessage {
            id: &id,
            request: &canonical,
            idempotency_key: key.as_deref(),
            send_at: send_at.map_or_else(crate::store::now_ms, ms_of),
            deliveries: i64::try_from(targets.len()).unwrap_or(i64::MAX),
        };
        let addressed = new.deliveries;
        let recorded = if send_at.is_some() {
            self.store.record_message(&new, None).await?
        } else {
            let event = event_for(&id, &request);
            let audience = audience_for(&request, targets);
            self.store
                .record_message(
                    &new,
                    Some((&event, &audience, request.locale.as_deref(), &self.routes)),
                )
                .await?
        };
        match recorded {
            Recorded::Repeat(first) => repeat(&first, &canonical),
            Recorded::New(committed) => {
                self.wakers.wake(committed.sinks.iter().map(String::as_str));
                if send_at.is_some() {
                    self.wakers.wake([crate::signal::MESSAGES]);
                }
                tracing::info!(message = %id, scheduled = send_at.is_some(), deliveries = committed.deliveries, "message accepted");
                Ok(Submitted {
                    id: id.clone(),
                    status: if send_at.is_some() {
                        Status::Scheduled
                    } else {
                        Status::Queued
                    },
                    deliveries: if send_at.is_some() {
                        addressed
                    } else {
                        i64::try_from(committed.deliveries).unwrap_or(i64::MAX)
                    },
                    repeat: false,
                })
            }
        }
    }

    /// The ids of the configured sinks of type `kind` (`twilio`).
    pub fn sinks_of_kind(&self, kind: &str) -> Vec<String> {
        self.sinks
            .iter()
            .filter(|(_, s)| s.spec.as_ref().is_some_and(|spec| spec.kind() == kind))
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// The explicit recipients of `request` as targets. `strict`: a sink or address that is
    /// not valid is an error (at submission); otherwise it is left out with a warning (at
    /// release, when the config may have changed since).
    fn addressed(&self, request: &MessageRequest, strict: bool) -> Result<Vec<Target>, Invalid> {
        let mut targets = Vec::with_capacity(request.recipients.len());
        for (i, addressed) in request.recipients.iter().enumerate() {
            match self.target(addressed, request.locale.as_deref(), i) {
                Ok(target) => targets.push(target),
                Err(invalid) if strict => return Err(invalid),
                Err(invalid) => {
                    tracing::warn!(problem = %invalid, "a recipient of a scheduled message is no longer valid; left out");
                }
            }
        }
        Ok(targets)
    }

    fn target(
        &self,
        addressed: &request::Addressed,
        locale: Option<&str>,
        i: usize,
    ) -> Result<Target, Invalid> {
        let Some(info) = self.sinks.get(&addressed.sink) else {
            return Err(Invalid::new(
                format!(
                    "unknown sink `{}` (configured: {})",
                    sink_api::text::truncate(&addressed.sink, 60),
                    self.sinks.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
                format!("recipients[{i}].sink"),
            ));
        };
        let field = format!("recipients[{i}].to");
        let recipient = match &addressed.to {
            Some(to) if info.route.delivery == Delivery::Broadcast => {
                if to != Recipient::BROADCAST {
                    return Err(Invalid::new(
                        format!(
                            "sink `{}` streams to whoever is connected: leave `to` out",
                            addressed.sink
                        ),
                        field,
                    ));
                }
                Recipient::broadcast()
            }
            Some(to) => {
                let check = match &info.spec {
                    Some(spec) => spec.check_recipient(to),
                    None => any_text(to),
                };
                check.map_err(|problem| {
                    Invalid::new(
                        format!(
                            "`{}` is not a recipient of sink `{}`: {problem}",
                            sink_api::text::truncate(to, 60),
                            addressed.sink
                        ),
                        field,
                    )
                })?;
                Recipient::new(to.clone())
            }
            None => match info.route.recipients.as_slice() {
                [only] => only.clone(),
                _ => {
                    return Err(Invalid::new(
                        format!(
                            "required: sink `{}` has no recipient of its own",
                            addressed.sink
                        ),
                        field,
                    ));
                }
            },
        };
        Ok(Target {
            sink: addressed.sink.clone(),
            recipient,
            locale: locale.map_or_else(|| info.route.locale.clone(), str::to_owned),
        })
    }

    /// Releases every scheduled message that is due; returns how many it released.
    ///
    /// # Errors
    /// The store.
    pub async fn release_due(&self) -> Result<usize, StoreError> {
        let mut released = 0;
        loop {
            let due = self.store.due_messages(100).await?;
            let full = due.len() == 100;
            for row in due {
                let request: MessageRequest = match serde_json::from_str(&row.request) {
                    Ok(r) => r,
                    Err(error) => {
                        tracing::error!(message = %row.id, %error, "a scheduled message cannot be read; cancelled");
                        self.store.cancel_message(row.seq).await?;
                        continue;
                    }
                };
                let event = event_for(&row.id, &request);
                let targets = self.addressed(&request, false).unwrap_or_default();
                let audience = audience_for(&request, targets);
                let late_ms = crate::store::now_ms() - row.send_at;
                if let Some(committed) = self
                    .store
                    .release_message(
                        row.seq,
                        &event,
                        &audience,
                        request.locale.as_deref(),
                        &self.routes,
                    )
                    .await?
                {
                    self.wakers.wake(committed.sinks.iter().map(String::as_str));
                    released += 1;
                    tracing::info!(message = %row.id, deliveries = committed.deliveries, late_ms, "scheduled message sent");
                }
            }
            if !full {
                return Ok(released);
            }
        }
    }

    /// One message with each of its deliveries.
    ///
    /// # Errors
    /// The store.
    pub async fn show(&self, id: &str) -> Result<Option<Detail>, StoreError> {
        let Some(row) = self.store.message(id).await? else {
            return Ok(None);
        };
        let (counts, deliveries) = match row.event_seq {
            Some(seq) => (
                self.store
                    .delivery_counts(&[seq])
                    .await?
                    .remove(&seq)
                    .unwrap_or_default(),
                self.store.message_deliveries(seq).await?,
            ),
            None => (Counts::default(), Vec::new()),
        };
        let status = Status::of(&row, counts);
        Ok(Some(Detail::new(&row, status, counts, deliveries)))
    }

    /// Up to `limit` messages older than `cursor` (newest first), of `status` when given.
    /// A filtered list looks at a bounded number of messages per call: it may return fewer
    /// than `limit` with a cursor to go on from.
    ///
    /// # Errors
    /// The store.
    pub async fn list(
        &self,
        status: Option<Status>,
        limit: usize,
        cursor: Option<i64>,
    ) -> Result<Page, StoreError> {
        let limit = limit.clamp(1, MAX_LIMIT);
        let mut items = Vec::new();
        let mut before = cursor;
        let mut scanned = 0;
        loop {
            let page = if status.is_some() {
                SCAN_PAGE
            } else {
                i64::try_from(limit - items.len()).unwrap_or(SCAN_PAGE)
            };
            let rows = self.store.messages_before(before, page).await?;
            let full = rows.len() == usize::try_from(page).unwrap_or(usize::MAX);
            let counts = self.counts(&rows).await?;
            for row in rows {
                scanned += 1;
                before = Some(row.seq);
                let c = row
                    .event_seq
                    .and_then(|s| counts.get(&s).copied())
                    .unwrap_or_default();
                let s = Status::of(&row, c);
                if status.is_none_or(|wanted| wanted == s) {
                    items.push(Summary::new(&row, s, c));
                    if items.len() == limit {
                        return Ok(Page::new(items, before));
                    }
                }
            }
            if !full {
                return Ok(Page::new(items, None));
            }
            if scanned >= SCAN_LIMIT {
                return Ok(Page::new(items, before));
            }
        }
    }

    async fn counts(&self, rows: &[MessageRow]) -> Result<HashMap<i64, Counts>, StoreError> {
        let seqs: Vec<i64> = rows.iter().filter_map(|r| r.event_seq).collect();
        self.store.delivery_counts(&seqs).await
    }

    /// Cancels message `id`.
    ///
    /// # Errors
    /// The store.
    pub async fn cancel(&self, id: &str) -> Result<CancelOutcome, StoreError> {
        let Some(row) = self.store.message(id).await? else {
            return Ok(CancelOutcome::NotFound);
        };
        Ok(match self.store.cancel_message(row.seq).await? {
            Cancelled::Scheduled => {
                tracing::info!(message = %id, "scheduled message cancelled");
                CancelOutcome::Cancelled(u64::try_from(row.deliveries).unwrap_or(0))
            }
            Cancelled::Deliveries(n) => {
                tracing::info!(message = %id, deliveries = n, "message cancelled");
                CancelOutcome::Cancelled(n)
            }
            Cancelled::Nothing => CancelOutcome::NothingLeft,
        })
    }

    /// Deletes every message whose status is `status` (delivered, failed or cancelled:
    /// never one that may still send) and its settled deliveries; returns how many went.
    ///
    /// # Errors
    /// The store.
    pub async fn purge(&self, status: Status) -> Result<u64, StoreError> {
        if !status.is_finished() {
            return Ok(0);
        }
        let mut deleted = 0;
        let mut before = None;
        loop {
            let rows = self.store.messages_before(before, SCAN_PAGE).await?;
            let Some(last) = rows.last() else {
                return Ok(deleted);
            };
            before = Some(last.seq);
            let counts = self.counts(&rows).await?;
            let doomed: Vec<(i64, Option<i64>)> = rows
                .iter()
                .filter(|row| {
                    let c = row
                        .event_seq
                        .and_then(|s| counts.get(&s).copied())
                        .unwrap_or_default();
                    Status::of(row, c) == status
                })
                .map(|row| (row.seq, row.event_seq))
                .collect();
            deleted += self.store.delete_messages(&doomed).await?;
        }
    }
}

/// The answer to a repeat of an idempotency key: the first answer when the request is the
/// same.
fn repeat(first: &MessageRow, canonical: &str) -> Result<Submitted, SubmitError> {
    if first.request != canonical {
        return Err(SubmitError::KeyReused);
    }
    let scheduled = serde_json::from_str::<MessageRequest>(&first.request)
        .map(|r| r.send_at.is_some())
        .unwrap_or(false);
    Ok(Submitted {
        id: first.id.clone(),
        status: if scheduled {
            Status::Scheduled
        } else {
            Status::Queued
        },
        deliveries: first.deliveries,
        repeat: true,
    })
}

/// The event message `id` becomes.
fn event_for(id: &str, request: &MessageRequest) -> Event {
    let mut event = Event::new(format!("message:{id}"), EventKind::Announcement);
    event.title.clone_from(&request.title);
    event.text = Some(request.body.clone());
    event.topic = request
        .topic
        .clone()
        .or_else(|| request.teams.first().cloned());
    event
}

/// Who `request` goes to: `targets` when it names recipients, the subscribers of the sinks
/// it names, or whoever the routing sends it to as each of its topics, teams and kinds.
fn audience_for(request: &MessageRequest, targets: Vec<Target>) -> Audience {
    if !request.recipients.is_empty() {
        return Audience::Recipients(targets);
    }
    if !request.subscribers_of.is_empty() {
        return Audience::Subscribers(request.subscribers_of.clone());
    }
    let topics: Vec<Option<&String>> = if request.topic.is_none() && request.teams.is_empty() {
        vec![None]
    } else {
        request
            .topic
            .iter()
            .chain(&request.teams)
            .map(Some)
            .collect()
    };
    let kinds: Vec<EventKind> = if request.kinds.is_empty() {
        vec![EventKind::Announcement]
    } else {
        request
            .kinds
            .iter()
            .filter_map(|k| request::probe_kind(k))
            .collect()
    };
    let mut probes = Vec::new();
    for topic in &topics {
        for kind in &kinds {
            let mut probe = Event::new("probe", *kind);
            probe.topic = topic.cloned();
            probes.push(probe);
        }
    }
    Audience::Routed(probes)
}

/// The check of a sink added in code, without a plug-in: any short text.
fn any_text(to: &str) -> Result<(), String> {
    if to.is_empty() || to.chars().count() > 200 {
        return Err("must be 1 to 200 characters".to_owned());
    }
    Ok(())
}

/// Unix ms of `at`.
fn ms_of(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}
