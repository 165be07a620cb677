//! The HTTP server loop: hyper's HTTP/1.1 connection with the limits a public server needs.
//! - a header-read timeout (a socket that sends nothing, or half a request, is closed; so is
//!   a kept-alive connection idle for that long);
//! - a cap on connections that have not yet sent a complete request, so silent sockets cannot
//!   pile up (streams and requests in progress do not count): at the cap, new connections
//!   wait in the kernel's accept queue, so a reconnect storm is slowed, never refused;
//! - a write timeout: a client that accepts no bytes for that long is dropped (an SSE client
//!   that stopped reading holds no buffers), and a capped kernel send buffer, so what such a
//!   client costs until then is bounded;
//! - an accept loop that survives running out of file descriptors: it backs off and logs once,
//!   and keeps serving the connections it has.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::Service as _;

/// The limits of [`serve`].
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest wait for a request's headers (and between kept-alive requests).
    pub header_timeout: Duration,
    /// Connections without a complete request yet.
    pub max_pending: usize,
    /// Longest a response may wait for the client to accept bytes.
    pub write_timeout: Duration,
}

/// What hyper may buffer per connection: request headers (16 KiB, as common proxies allow),
/// and response bytes not yet written to the socket, so a slow reader holds about this much.
const MAX_BUFFER: usize = 16 * 1024;
/// The kernel's send buffer per connection (it doubles it for bookkeeping). Without a cap,
/// Linux grows it to megabytes for a client that does not read; with it, what a stalled client
/// costs is bounded until the write timeout drops it.
const SEND_BUFFER: usize = 64 * 1024;
/// Longest pause of the accept loop when the process is out of file descriptors.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// Serves `router` on `listener` until `shutdown`, then lets open connections finish their
/// current response (streams end when their sinks close) and returns when they have.
///
/// # Errors
/// Never at present; the accept loop survives every accept error.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let pending = Arc::new(Semaphore::new(limits.max_pending));
    let connections = TaskTracker::new();
    let mut backoff = Duration::ZERO;
    let mut full_logged = false;
    loop {
        // A slot for one more connection without a request: at the cap, new connections wait
        // in the kernel's accept queue (no descriptor, no memory here) until one frees.
        let permit = match Arc::clone(&pending).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if !full_logged {
                    tracing::warn!(
                        limit = limits.max_pending,
                        "http.max_pending_connections reached: new connections wait until a \
                         request arrives or http.header_timeout closes a silent one"
                    );
                    full_logged = true;
                }
                tokio::select! {
                    permit = Arc::clone(&pending).acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_) => break,
                    },
                    () = shutdown.cancelled() => break,
                }
            }
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => {
                if !backoff.is_zero() {
                    tracing::info!("accepting connections again");
                    backoff = Duration::ZERO;
                }
                accepted
            }
            Err(error) if is_connection_error(&error) => continue,
            Err(error) => {
                // Out of file descriptors (or memory): wait for connections to close.
                if backoff.is_zero() {
                    tracing::warn!(%error, "cannot accept connections; backing off until some close");
                    backoff = Duration::from_millis(10);
                } else {
                    backoff = (backoff * 2).min(MAX_ACCEPT_BACKOFF);
                }
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = shutdown.cancelled() => break,
                }
                continue;
            }
        };
        if pending.available_permits() > limits.max_pending / 2 {
            full_logged = false;
        }
        let _nodelay = stream.set_nodelay(true);
        let _capped = socket2::SockRef::from(&stream).set_send_buffer_size(SEND_BUFFER);
        connections.spawn(connection(
            stream,
            peer,
            router.clone(),
            limits,
            permit,
            shutdown.clone(),
        ));
    }
    // New clients are refused from here on instead of waiting in the backlog.
    drop(listener);
    connections.close();
    connections.wait().await;
    Ok(())
}

fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    permit: OwnedSemaphorePermit,
    shutdown: CancellationToken,
) {
    // Released when the first request's headers are in: from then on the connection is a
    // request in progress, bounded by the header timeout between requests.
    let permit = Arc::new(Mutex::new(Some(permit)));
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        if let Ok(mut slot) = permit.lock() {
            slot.take();
        }
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().call(request)
    });
    let io = TokioIo::new(WriteTimeout::new(stream, limits.write_timeout));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(MAX_BUFFER);
    let conn = builder.serve_connection(io, service).with_upgrades();
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(error) = result {
        tracing::trace!(%peer, %error, "connection ended with an error");
    }
}

/// A socket whose writes fail once it has accepted nothing for `timeout`.
struct WriteTimeout<T> {
    inner: T,
    timeout: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<T> WriteTimeout<T> {
    fn new(inner: T, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            stalled: None,
        }
    }

    /// Passes a write's outcome through, arming the timer while the socket accepts nothing.
    fn watch<R>(
        &mut self,
        cx: &mut Context<'_>,
        outcome: Poll<io::Result<R>>,
    ) -> Poll<io::Result<R>> {
        if outcome.is_ready() {
            self.stalled = None;
            return outcome;
        }
        let timeout = self.timeout;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        ready!(timer.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client accepted no data within http.write_timeout",
        )))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteTimeout<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteTimeout<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let outcome = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, outcome)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let outcome = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, outcome)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let outcome = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, outcome)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let outcome = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(cx, outcome)
    }
}
