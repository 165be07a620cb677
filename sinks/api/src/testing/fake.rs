//! The machinery every platform fake shares: the platform's state and a script of answers
//! behind a poison-tolerant lock, an axum server on a free loopback port, and waiting for what
//! the fake recorded. The platform fakes of the sink crates are thin wrappers with handlers.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use tokio::sync::Notify;

use super::lock;

/// A running fake of a platform's HTTP API: its state `S` (its data and what it recorded) and a
/// script of answers `A` for the requests the test wants to fail. Clones share everything, so
/// the test keeps one and the handlers get another as their axum state.
///
/// Handlers take `State(fake): State<Fake<S, A>>`, ask [`Fake::next_answer`] on requests the
/// script applies to, and read or change the state with [`Fake::read`] and [`Fake::with`];
/// tests wait for what was recorded with [`Fake::wait`].
pub struct Fake<S, A> {
    shared: Arc<Shared<S, A>>,
    addr: SocketAddr,
}

struct Shared<S, A> {
    state: Mutex<S>,
    script: Mutex<VecDeque<A>>,
    /// An outage: phases, each answering one way until its instant.
    outage: Mutex<Vec<(Instant, A)>>,
    attempts: AtomicUsize,
    /// Woken whenever the state or the attempts change.
    changed: Notify,
}

impl<S, A> Clone for Fake<S, A> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            addr: self.addr,
        }
    }
}

impl<S, A> std::fmt::Debug for Fake<S, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fake")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl<S: Send + 'static, A: Send + 'static> Fake<S, A> {
    /// Binds a free port on 127.0.0.1 and serves `routes` there, with the fake as their state,
    /// for the rest of the test.
    ///
    /// # Panics
    /// When no local port can be bound.
    pub async fn start(state: S, routes: Router<Self>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let fake = Self {
            shared: Arc::new(Shared {
                state: Mutex::new(state),
                script: Mutex::new(VecDeque::new()),
                outage: Mutex::new(Vec::new()),
                attempts: AtomicUsize::new(0),
                changed: Notify::new(),
            }),
            addr: listener.local_addr().expect("address"),
        };
        let app = routes.with_state(fake.clone());
        tokio::spawn(async move {
            let _ended = axum::serve(listener, app).await;
        });
        fake
    }
}

impl<S, A> Fake<S, A> {
    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`, the base URL to point a client at.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues answers for the next requests the script applies to, in order.
    pub fn script(&self, answers: impl IntoIterator<Item = A>) {
        lock(&self.shared.script).extend(answers);
    }

    /// Starts an outage now: each phase answers every request the script applies to with its
    /// answer for its duration, one phase after the other (a platform that hangs, then
    /// answers 5xx); afterwards the script and normal answers resume.
    pub fn outage(&self, phases: impl IntoIterator<Item = (Duration, A)>) {
        let mut until = Instant::now();
        let phases = phases
            .into_iter()
            .map(|(length, answer)| {
                until += length;
                (until, answer)
            })
            .collect();
        *lock(&self.shared.outage) = phases;
    }

    /// The answer of the outage under way, else the next scripted answer; `None` when
    /// neither applies (the handler then does what the platform does normally). Every call
    /// counts as one of [`Fake::attempts`].
    pub fn next_answer(&self) -> Option<A>
    where
        A: Clone,
    {
        self.shared.attempts.fetch_add(1, Ordering::SeqCst);
        self.shared.changed.notify_waiters();
        let now = Instant::now();
        let outage = lock(&self.shared.outage)
            .iter()
            .find(|(until, _)| now < *until)
            .map(|(_, answer)| answer.clone());
        outage.or_else(|| lock(&self.shared.script).pop_front())
    }

    /// How many times handlers asked for their next answer: the attempts, failed ones included.
    pub fn attempts(&self) -> usize {
        self.shared.attempts.load(Ordering::SeqCst)
    }

    /// Reads the state under the lock.
    pub fn read<R>(&self, f: impl FnOnce(&S) -> R) -> R {
        f(&lock(&self.shared.state))
    }

    /// Changes the state under the lock, then wakes whoever [waits](Fake::wait). The script
    /// has its own lock, so `f` may call [`Fake::next_answer`].
    pub fn with<R>(&self, f: impl FnOnce(&mut S) -> R) -> R {
        let result = f(&mut lock(&self.shared.state));
        self.shared.changed.notify_waiters();
        result
    }

    /// Waits until `read` returns at least `n` items or `timeout` passes; returns the last
    /// reading. Reads again whenever [`Fake::with`] changed the state, so no change is missed.
    pub async fn wait<T>(
        &self,
        n: usize,
        timeout: Duration,
        read: impl Fn(&S) -> Vec<T>,
    ) -> Vec<T> {
        let deadline = Instant::now() + timeout;
        loop {
            // Registered before reading: a change between the reading and the await wakes it.
            let changed = self.shared.changed.notified();
            let items = self.read(&read);
            if items.len() >= n || Instant::now() >= deadline {
                return items;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let _woken = tokio::time::timeout(left, changed).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::extract::State;
    use axum::routing::post;

    use super::Fake;

    type Counter = Fake<Vec<u32>, u16>;

    async fn hit(State(fake): State<Counter>) -> axum::http::StatusCode {
        if let Some(status) = fake.next_answer() {
            return axum::http::StatusCode::from_u16(status).unwrap_or_default();
        }
        fake.with(|seen| seen.push(1));
        axum::http::StatusCode::OK
    }

    #[tokio::test]
    async fn scripts_records_and_wakes_waiters() {
        let fake = Counter::start(Vec::new(), axum::Router::new().route("/", post(hit))).await;
        assert_eq!(fake.endpoint(), format!("http://{}", fake.addr()));
        fake.script([503]);
        let waiter = {
            let fake = fake.clone();
            tokio::spawn(async move { fake.wait(2, Duration::from_secs(5), Clone::clone).await })
        };
        for expected in [503, 200, 200] {
            let mut stream = tokio::net::TcpStream::connect(fake.addr()).await.unwrap();
            let request = "POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n";
            tokio::io::AsyncWriteExt::write_all(&mut stream, request.as_bytes())
                .await
                .unwrap();
            let mut answer = [0; 12];
            tokio::io::AsyncReadExt::read_exact(&mut stream, &mut answer)
                .await
                .unwrap();
            assert_eq!(&answer[9..], expected.to_string().as_bytes());
        }
        assert_eq!(waiter.await.unwrap(), vec![1, 1]);
        assert_eq!(fake.attempts(), 3);
        assert!(fake.next_answer().is_none());
    }

    #[tokio::test]
    async fn wait_gives_up_after_the_timeout() {
        let fake = Counter::start(vec![1], axum::Router::new()).await;
        let started = std::time::Instant::now();
        assert_eq!(
            fake.wait(2, Duration::from_millis(50), Clone::clone).await,
            vec![1]
        );
        assert!(started.elapsed() >= Duration::from_millis(50));
    }
}
