//! Test fakes: a recording sink that can be scripted to fail, be slow, or hang, and [`Fake`],
//! the generic local HTTP server the platform fakes of the sink crates are built on.

mod fake;

pub use fake::Fake;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::{
    Command, CommandHandler, Limits, Notification, Receipt, Recipient, Reply, Sink, SinkError,
};

/// What the [`MemorySink`] does with one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// Record the delivery and return a receipt `mem-<n>`.
    Deliver,
    /// Wait this long, then record the delivery.
    Delay(Duration),
    /// Never return (until the future is dropped by the caller's timeout).
    Hang,
    /// Fail with [`SinkError::RateLimited`].
    RateLimited(Option<Duration>),
    /// Fail with [`SinkError::Transient`].
    Transient,
    /// Fail with [`SinkError::Permanent`].
    Permanent,
    /// Fail with [`SinkError::RecipientGone`].
    RecipientGone,
}

/// A sink that records what it was given, like lettre's `StubTransport`. Clones share the same
/// record, so a test keeps one clone and hands the other to the core.
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    delivered: Mutex<Vec<(Recipient, Notification)>>,
    script: Mutex<VecDeque<Behaviour>>,
    fallback: Mutex<Option<Behaviour>>,
    /// Recipients that always get one behaviour, whatever the script says.
    per_recipient: Mutex<Vec<(String, Behaviour)>>,
    recipients: Mutex<Vec<Recipient>>,
    limits: Mutex<Limits>,
    attempts: AtomicUsize,
    changed: tokio::sync::Notify,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MemorySink {
    /// A sink that delivers everything to the broadcast recipient.
    pub fn new() -> Self {
        let sink = Self::default();
        sink.set_recipients(vec![Recipient::broadcast()]);
        sink
    }

    /// A sink whose every attempt behaves like `behaviour` once the script is used up.
    pub fn with_fallback(behaviour: Behaviour) -> Self {
        let sink = Self::new();
        *lock(&sink.inner.fallback) = Some(behaviour);
        sink
    }

    /// Queues behaviours for the next attempts, in order; afterwards the fallback applies.
    pub fn script(&self, behaviours: impl IntoIterator<Item = Behaviour>) {
        lock(&self.inner.script).extend(behaviours);
    }

    /// Always does `behaviour` for deliveries to `recipient` (a chat that cannot be reached).
    pub fn fail_recipient(&self, recipient: &str, behaviour: Behaviour) {
        lock(&self.inner.per_recipient).push((recipient.to_owned(), behaviour));
    }

    /// Replaces the configured recipients returned by [`Sink::recipients`].
    pub fn set_recipients(&self, recipients: Vec<Recipient>) {
        *lock(&self.inner.recipients) = recipients;
    }

    /// Replaces the limits returned by [`Sink::limits`].
    pub fn set_limits(&self, limits: Limits) {
        *lock(&self.inner.limits) = limits;
    }

    /// Everything delivered so far, in delivery order.
    pub fn delivered(&self) -> Vec<(Recipient, Notification)> {
        lock(&self.inner.delivered).clone()
    }

    /// How many times `send` was called, including failed and hanging attempts.
    pub fn attempts(&self) -> usize {
        self.inner.attempts.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` deliveries were recorded, or `timeout` passes. Returns what was
    /// delivered by then.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<(Recipient, Notification)> {
        let deadline = Instant::now() + timeout;
        loop {
            let changed = self.inner.changed.notified();
            let delivered = self.delivered();
            if delivered.len() >= n || Instant::now() >= deadline {
                return delivered;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let _elapsed = tokio::time::timeout(left.min(Duration::from_millis(50)), changed).await;
        }
    }

    fn next_behaviour(&self) -> Behaviour {
        lock(&self.inner.script)
            .pop_front()
            .or_else(|| lock(&self.inner.fallback).clone())
            .unwrap_or(Behaviour::Deliver)
    }

    fn record(&self, to: &Recipient, msg: &Notification) -> Receipt {
        let mut delivered = lock(&self.inner.delivered);
        delivered.push((to.clone(), msg.clone()));
        let receipt = Receipt::with_id(format!("mem-{}", delivered.len()));
        drop(delivered);
        self.inner.changed.notify_waiters();
        receipt
    }
}

#[derive(Debug, thiserror::Error)]
#[error("scripted failure")]
struct Scripted;

impl Sink for MemorySink {
    const KIND: &'static str = "memory";

    async fn send(&self, to: &Recipient, msg: &Notification) -> Result<Receipt, SinkError> {
        self.inner.attempts.fetch_add(1, Ordering::SeqCst);
        self.inner.changed.notify_waiters();
        let fixed = lock(&self.inner.per_recipient)
            .iter()
            .find(|(r, _)| r == to.as_str())
            .map(|(_, b)| b.clone());
        match fixed.unwrap_or_else(|| self.next_behaviour()) {
            Behaviour::Deliver => Ok(self.record(to, msg)),
            Behaviour::Delay(d) => {
                tokio::time::sleep(d).await;
                Ok(self.record(to, msg))
            }
            Behaviour::Hang => std::future::pending().await,
            Behaviour::RateLimited(retry_after) => Err(SinkError::RateLimited { retry_after }),
            Behaviour::Transient => Err(SinkError::transient(Scripted)),
            Behaviour::Permanent => Err(SinkError::permanent(Scripted)),
            Behaviour::RecipientGone => Err(SinkError::gone(Scripted)),
        }
    }

    fn recipients(&self) -> Vec<Recipient> {
        lock(&self.inner.recipients).clone()
    }

    fn limits(&self) -> Limits {
        lock(&self.inner.limits).clone()
    }
}

/// A command handler that records commands and answers `ok: <text>`.
#[derive(Debug, Clone, Default)]
pub struct RecordingCommands {
    received: Arc<Mutex<Vec<Command>>>,
}

impl RecordingCommands {
    /// A handler with nothing recorded.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every command handled so far.
    pub fn received(&self) -> Vec<Command> {
        lock(&self.received).clone()
    }
}

impl CommandHandler for RecordingCommands {
    fn handle(
        &self,
        command: Command,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Reply> + Send + '_>> {
        Box::pin(async move {
            let text = format!("ok: {}", command.text);
            lock(&self.received).push(command);
            Reply { text }
        })
    }
}

/// A goal notification with `title` and `body`, for sink tests: id 1, event `e1`, English,
/// no match, no data, not a correction.
pub fn goal(title: &str, body: &str) -> Notification {
    Notification {
        id: 1,
        event_id: "e1".into(),
        kind: "goal".into(),
        match_id: None,
        topic: None,
        teams: vec![],
        title: title.into(),
        body: body.into(),
        locale: "en".into(),
        data: serde_json::Value::Null,
        replaces: None,
        spoiler_free: None,
        created_at_ms: 0,
    }
}
