//! The room service: `joined`, `text` and `left` from clients; `status` and `message` to the
//! room, on every instance through the relay.
//!
//! What a client says is checked here (name, room, length, rate, token), emitted to this
//! instance's sockets in the room, and published on the relay, whose task on every other
//! instance emits it to that instance's sockets in the room. Messages of one socket are handled
//! in the order they arrived (see [`Turn`]), so a `text` right after `joined` always finds the
//! room joined, and what the sender sees (the room's lines, warnings for it alone) comes in
//! that order too.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sink_api::Relay;
use socketioxide::SocketIo;
use socketioxide::adapter::LocalAdapter;
use socketioxide::extract::{SocketRef, State, TryData};
use socketioxide::handler::{FromMessageParts, Value as PacketValue};
use socketioxide::socket::Socket;
use subtle::ConstantTimeEq;
use tokio::sync::{broadcast, watch};

use crate::Config;
use crate::rooms;

/// The longest name.
pub(crate) const MAX_NAME: usize = 32;
/// The longest text.
pub(crate) const MAX_TEXT: usize = 500;
/// Rooms one socket may be in at once.
pub(crate) const MAX_ROOMS: usize = 20;

/// What the handlers share (the socket.io state).
#[derive(Debug, Clone)]
pub(crate) struct Rooms {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    max_clients: usize,
    token: Option<SecretString>,
    text_limit: usize,
    text_window: Duration,
    clients: AtomicUsize,
    relay: Arc<dyn Relay>,
    channel: String,
    /// This sink's own lines come back from the relay: skipped by this mark.
    origin: u64,
}

impl Rooms {
    pub(crate) fn new(config: &Config, relay: Arc<dyn Relay>, channel: String) -> Self {
        Self {
            inner: Arc::new(Inner {
                max_clients: config.max_clients,
                token: config.token.clone(),
                text_limit: config.text_limit as usize,
                text_window: config.text_window,
                clients: AtomicUsize::new(0),
                relay,
                channel,
                origin: origin(),
            }),
        }
    }

    /// What is said in the rooms, from every instance, and the mark of this one's own lines.
    pub(crate) fn subscribe(&self) -> (u64, broadcast::Receiver<String>) {
        (
            self.inner.origin,
            self.inner.relay.subscribe(&self.inner.channel),
        )
    }

    /// Sockets connected to this instance.
    pub(crate) fn clients(&self) -> usize {
        self.inner.clients.load(Ordering::Relaxed)
    }

    /// Emits `event {msg}` to `room` (`socket` included when in it), here and through the relay
    /// on every other instance.
    async fn say(&self, socket: &SocketRef, room: &str, event: Said, msg: String) {
        if let Err(error) = socket
            .within(room.to_owned())
            .emit(event.event(), &json!({ "msg": msg, "room": room }))
            .await
        {
            tracing::debug!(%error, "a room message did not reach every socket");
        }
        let line = Line {
            origin: self.inner.origin,
            room: room.to_owned(),
            event,
            msg,
        };
        if let Ok(payload) = serde_json::to_string(&line) {
            self.inner.relay.publish(&self.inner.channel, payload);
        }
    }

    /// Whether the handshake carried the configured token (always, when none is set).
    fn may_text(&self, socket: &Socket<LocalAdapter>, auth: Option<&Value>) -> bool {
        let Some(token) = &self.inner.token else {
            return true;
        };
        let given = auth
            .and_then(|a| a.get("token"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| {
                socket.req_parts().uri.query().and_then(|q| {
                    q.split('&')
                        .filter_map(|kv| kv.split_once('='))
                        .find(|(k, _)| *k == "token")
                        .map(|(_, v)| v.to_owned())
                })
            });
        given.is_some_and(|given| {
            bool::from(given.as_bytes().ct_eq(token.expose_secret().as_bytes()))
        })
    }
}

/// The server events of the room service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Said {
    Status,
    Message,
}

impl Said {
    fn event(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Message => "message",
        }
    }
}

/// A mark telling this sink's lines from other instances' (the relay has no sender id).
fn origin() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.finish()
}

/// One line said in a room, as the relay carries it.
#[derive(Debug, Serialize, Deserialize)]
struct Line {
    origin: u64,
    room: String,
    event: Said,
    msg: String,
}

/// Emits what other instances' sockets say to this instance's sockets in each room, in order,
/// until the relay closes.
pub(crate) async fn relay_to_sockets(
    io: SocketIo,
    origin: u64,
    mut lines: broadcast::Receiver<String>,
) {
    loop {
        let payload = match lines.recv().await {
            Ok(payload) => payload,
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "room messages came faster than they could be emitted; some were skipped"
                );
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let Ok(line) = serde_json::from_str::<Line>(&payload) else {
            continue;
        };
        if line.origin == origin {
            continue;
        }
        if let Err(error) = io
            .to(line.room.clone())
            .emit(
                line.event.event(),
                &json!({ "msg": line.msg, "room": line.room }),
            )
            .await
        {
            tracing::debug!(%error, "a room message did not reach every socket");
        }
    }
}

/// Admits a connection, or refuses it beyond `max_clients` with a message the client sees in
/// `connect_error`; an admitted socket gets its state and its event handlers here, before the
/// server acknowledges the connection (socketioxide runs the connect handler as a task of its
/// own, after the acknowledgement: a client that emits at once would find no handler yet).
pub(crate) async fn admit(
    socket: SocketRef,
    State(rooms): State<Rooms>,
    TryData(auth): TryData<Value>,
) -> Result<(), Full> {
    let inner = &rooms.inner;
    if inner.clients.fetch_add(1, Ordering::SeqCst) >= inner.max_clients {
        inner.clients.fetch_sub(1, Ordering::SeqCst);
        return Err(Full(inner.max_clients));
    }
    let may_text = rooms.may_text(&socket, auth.as_ref().ok());
    socket.extensions.insert(Arc::new(Peer::new(may_text)));
    socket.on("joined", joined);
    socket.on("text", text);
    socket.on("left", left);
    socket.on_disconnect(disconnected);
    Ok(())
}

/// Why a connection was refused.
#[derive(Debug, thiserror::Error)]
#[error("herald is serving its maximum of {0} clients; try again later")]
pub(crate) struct Full(usize);

/// An admitted socket: everything was set up by [`admit`].
pub(crate) async fn connect() {}

/// One socket's state.
#[derive(Debug)]
pub(crate) struct Peer {
    member: Mutex<Member>,
    next: AtomicU64,
    serving: watch::Sender<u64>,
}

#[derive(Debug)]
struct Member {
    name: Option<String>,
    /// Joined rooms, oldest first: `text` without a room goes to the last one.
    rooms: Vec<String>,
    may_text: bool,
    /// When the last texts were sent, within the window.
    sent: VecDeque<Instant>,
}

impl Peer {
    fn new(may_text: bool) -> Self {
        Self {
            member: Mutex::new(Member {
                name: None,
                rooms: Vec::new(),
                may_text,
                sent: VecDeque::new(),
            }),
            next: AtomicU64::new(0),
            serving: watch::Sender::new(0),
        }
    }

    fn member(&self) -> std::sync::MutexGuard<'_, Member> {
        self.member
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A message's place in its socket's order, taken as it arrives (extractors run in arrival
/// order; the handlers themselves run as separate tasks).
pub(crate) struct Turn {
    peer: Arc<Peer>,
    ticket: u64,
}

/// A socket without its state (not connected through [`connect`]).
#[derive(Debug, thiserror::Error)]
#[error("the socket has no room state")]
pub(crate) struct NoPeer;

impl FromMessageParts<LocalAdapter> for Turn {
    type Error = NoPeer;

    fn from_message_parts(
        socket: &Arc<Socket<LocalAdapter>>,
        _: &mut PacketValue,
        _: &Option<i64>,
    ) -> Result<Self, NoPeer> {
        let peer = socket.extensions.get::<Arc<Peer>>().ok_or(NoPeer)?;
        let ticket = peer.next.fetch_add(1, Ordering::SeqCst);
        Ok(Self { peer, ticket })
    }
}

impl Turn {
    /// Waits until the messages that arrived before this one are handled.
    async fn wait(self) -> Served {
        let mut serving = self.peer.serving.subscribe();
        // The sender lives in the peer this turn holds: it cannot close.
        let _open = serving.wait_for(|s| *s == self.ticket).await.is_ok();
        Served(self.peer)
    }
}

/// Hands the turn on when dropped.
struct Served(Arc<Peer>);

impl Drop for Served {
    fn drop(&mut self) {
        self.0.serving.send_modify(|s| *s += 1);
    }
}

/// Tells the sender alone.
fn warn(socket: &SocketRef, msg: &str) {
    let _gone = socket.emit("status", &json!({ "msg": msg })).is_err();
}

/// A field of a client's payload as text.
fn field<'a>(data: Option<&'a Value>, key: &str) -> Option<&'a str> {
    data.and_then(|d| d.get(key)).and_then(Value::as_str)
}

async fn joined(
    turn: Turn,
    socket: SocketRef,
    State(rooms): State<Rooms>,
    TryData(data): TryData<Value>,
) {
    let served = turn.wait().await;
    let data = data.ok();
    let name = field(data.as_ref(), "name").map(str::trim).unwrap_or("");
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return warn(&socket, "Choose a name of 1 to 32 characters.");
    }
    let room = match rooms::parse(field(data.as_ref(), "room").unwrap_or("")) {
        Ok(room) => room,
        Err(why) => return warn(&socket, &format!("Cannot join: {why}.")),
    };
    {
        let mut member = served.0.member();
        member.name = Some(name.to_owned());
        if member.rooms.contains(&room) {
            // Joined again (a new name, or a client that lost track): last in order now.
            member.rooms.retain(|r| *r != room);
        } else if member.rooms.len() >= MAX_ROOMS {
            drop(member);
            return warn(&socket, "At most 20 rooms at once: leave one first.");
        }
        member.rooms.push(room.clone());
    }
    socket.join(room.clone());
    rooms
        .say(
            &socket,
            &room,
            Said::Status,
            format!("{name} has entered the room."),
        )
        .await;
}

async fn text(
    turn: Turn,
    socket: SocketRef,
    State(rooms): State<Rooms>,
    TryData(data): TryData<Value>,
) {
    let served = turn.wait().await;
    let data = data.ok();
    let msg = field(data.as_ref(), "msg").map(str::trim).unwrap_or("");
    let said = {
        let mut member = served.0.member();
        let (Some(name), Some(last)) = (member.name.clone(), member.rooms.last().cloned()) else {
            drop(member);
            return warn(&socket, "Join a room first.");
        };
        let room = match field(data.as_ref(), "room").map(rooms::parse) {
            None => last,
            Some(Ok(room)) if member.rooms.contains(&room) => room,
            Some(_) => {
                drop(member);
                return warn(&socket, "Join that room first.");
            }
        };
        if !member.may_text {
            drop(member);
            return warn(&socket, "Sending messages needs a token.");
        }
        if msg.is_empty()
            || msg.chars().count() > MAX_TEXT
            || msg.chars().any(|c| c.is_control() && c != '\n')
        {
            drop(member);
            return warn(&socket, "A message is 1 to 500 characters of text.");
        }
        let now = Instant::now();
        let window = rooms.inner.text_window;
        while member
            .sent
            .front()
            .is_some_and(|at| now.duration_since(*at) >= window)
        {
            member.sent.pop_front();
        }
        if member.sent.len() >= rooms.inner.text_limit {
            drop(member);
            return warn(
                &socket,
                &format!(
                    "Slow down: at most {} messages per {} s. This one was not sent.",
                    rooms.inner.text_limit,
                    window.as_secs()
                ),
            );
        }
        member.sent.push_back(now);
        (room, format!("{name}: {msg}"))
    };
    rooms.say(&socket, &said.0, Said::Message, said.1).await;
}

async fn left(
    turn: Turn,
    socket: SocketRef,
    State(rooms): State<Rooms>,
    TryData(data): TryData<Value>,
) {
    let served = turn.wait().await;
    let data = data.ok();
    let (name, leaving) = {
        let mut member = served.0.member();
        let leaving: Vec<String> = match field(data.as_ref(), "room").map(rooms::parse) {
            Some(Ok(room)) => member
                .rooms
                .iter()
                .filter(|r| **r == room)
                .cloned()
                .collect(),
            Some(Err(_)) => Vec::new(),
            // Every room, as the one-room clients of the old service mean it.
            None => member.rooms.clone(),
        };
        member.rooms.retain(|r| !leaving.contains(r));
        (member.name.clone().unwrap_or_default(), leaving)
    };
    if leaving.is_empty() {
        return warn(&socket, "You are not in that room.");
    }
    for room in leaving {
        socket.leave(room.clone());
        rooms
            .say(
                &socket,
                &room,
                Said::Status,
                format!("{name} has left the room."),
            )
            .await;
    }
}

/// A socket gone without `left` leaves its rooms all the same.
async fn disconnected(socket: SocketRef, State(rooms): State<Rooms>) {
    rooms.inner.clients.fetch_sub(1, Ordering::SeqCst);
    let Some(peer) = socket.extensions.get::<Arc<Peer>>() else {
        return;
    };
    let (name, joined) = {
        let mut member = peer.member();
        (
            member.name.clone().unwrap_or_default(),
            std::mem::take(&mut member.rooms),
        )
    };
    for room in joined {
        rooms
            .say(
                &socket,
                &room,
                Said::Status,
                format!("{name} has left the room."),
            )
            .await;
    }
}
