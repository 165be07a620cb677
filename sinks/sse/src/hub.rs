//! The broadcaster: fans each frame out to every client and keeps a history for resumes.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use sink_api::Notification;
use tokio::sync::broadcast;

use crate::config::Config;
use crate::render::Frame;

/// How many frames a client may fall behind the live broadcast before it is caught up from the
/// history instead. The history is usually larger, so a brief stall costs nothing.
const LIVE_BUFFER: usize = 256;

/// Shared state of one SSE sink: the broadcast channel, the history and the client count.
#[derive(Debug, Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    state: Mutex<State>,
    clients: AtomicUsize,
}

#[derive(Debug)]
struct State {
    /// `None` once the hub is closed: streams end after what they already have.
    tx: Option<broadcast::Sender<Arc<Frame>>>,
    history: VecDeque<Arc<Frame>>,
    next_pos: u64,
}

/// Where a new client starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resume {
    /// Only what is published from now on.
    Live,
    /// Everything after the event with this id that is still in the history.
    After(i64),
}

/// A client's view: the live receiver plus the history it missed.
pub(crate) struct Subscription {
    pub(crate) rx: broadcast::Receiver<Arc<Frame>>,
    pub(crate) backlog: Vec<Arc<Frame>>,
    /// The publish position of the first frame the receiver will see.
    pub(crate) next_pos: u64,
    pub(crate) guard: ClientGuard,
}

/// Decrements the client count when the stream is dropped.
pub(crate) struct ClientGuard(Arc<Inner>);

impl Drop for ClientGuard {
    fn drop(&mut self) {
        self.0.clients.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Hub {
    /// An open hub with an empty history.
    pub fn new(config: Config) -> Self {
        let (tx, _) = broadcast::channel(LIVE_BUFFER);
        Self {
            inner: Arc::new(Inner {
                config,
                state: Mutex::new(State {
                    tx: Some(tx),
                    history: VecDeque::new(),
                    next_pos: 0,
                }),
                clients: AtomicUsize::new(0),
            }),
        }
    }

    pub(crate) fn config(&self) -> &Config {
        &self.inner.config
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Seeds the history with notifications delivered before a restart, oldest first, so clients
    /// can resume across restarts. Nothing is broadcast.
    pub fn preload(&self, notifications: impl IntoIterator<Item = Notification>) {
        let mut state = self.state();
        for msg in notifications {
            let frame = Arc::new(Frame::new(state.next_pos, &msg));
            state.next_pos += 1;
            push_history(&mut state.history, frame, self.inner.config.history);
        }
    }

    /// Sends a notification to every connected client and records it in the history. Never
    /// waits for clients. Returns `false` when the hub is closed.
    pub fn publish(&self, msg: &Notification) -> bool {
        let mut state = self.state();
        let Some(tx) = state.tx.clone() else {
            return false;
        };
        let frame = Arc::new(Frame::new(state.next_pos, msg));
        state.next_pos += 1;
        push_history(
            &mut state.history,
            Arc::clone(&frame),
            self.inner.config.history,
        );
        // Sent under the lock so that frames enter the channel in `pos` order. An error only
        // means that no client is connected right now.
        let _no_clients = tx.send(frame);
        true
    }

    /// Stops the hub: connected streams end once they have sent what they hold, new ones are
    /// refused. Used at shutdown, after the dispatcher has drained.
    pub fn close(&self) {
        self.state().tx = None;
    }

    /// How many notifications the history keeps.
    pub fn history_capacity(&self) -> usize {
        self.inner.config.history
    }

    /// How many clients are connected.
    pub fn clients(&self) -> usize {
        self.inner.clients.load(Ordering::SeqCst)
    }

    /// Registers a client, or `None` when the hub is closed or full.
    pub(crate) fn subscribe(&self, resume: Resume) -> Option<Subscription> {
        let max = self.inner.config.max_clients;
        let admitted = self
            .inner
            .clients
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .is_ok();
        if !admitted {
            return None;
        }
        let guard = ClientGuard(Arc::clone(&self.inner));
        let state = self.state();
        // Subscribing and reading the history under one lock: no frame falls in between.
        let rx = state.tx.as_ref()?.subscribe();
        let backlog = match resume {
            Resume::Live => Vec::new(),
            Resume::After(id) => backlog_after(&state.history, id),
        };
        let next_pos = state.next_pos;
        drop(state);
        Some(Subscription {
            rx,
            backlog,
            next_pos,
            guard,
        })
    }

    /// The history from publish position `first_missing` on, to catch up a client that lagged.
    /// `None` when part of what it missed has already left the history.
    pub(crate) fn since(&self, first_missing: u64) -> Option<Vec<Arc<Frame>>> {
        let state = self.state();
        let oldest = state.history.front().map_or(state.next_pos, |f| f.pos);
        if first_missing < oldest {
            return None;
        }
        Some(
            state
                .history
                .iter()
                .filter(|f| f.pos >= first_missing)
                .cloned()
                .collect(),
        )
    }
}

fn push_history(history: &mut VecDeque<Arc<Frame>>, frame: Arc<Frame>, cap: usize) {
    while history.len() >= cap {
        history.pop_front();
    }
    history.push_back(frame);
}

/// Frames published after the one whose SSE id is `id`. Found by position, so an id that was
/// committed out of numeric order still resumes at the right place. An id that is no longer in
/// the history falls back to every frame with a greater id.
fn backlog_after(history: &VecDeque<Arc<Frame>>, id: i64) -> Vec<Arc<Frame>> {
    match history.iter().rposition(|f| f.id == id) {
        Some(at) => history.iter().skip(at + 1).cloned().collect(),
        None => history.iter().filter(|f| f.id > id).cloned().collect(),
    }
}
