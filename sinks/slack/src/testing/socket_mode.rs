//! The fake's Socket Mode: `apps.connections.open` checks the app-level token and hands out a
//! one-time `ws://127.0.0.1:…/link/?ticket=…` URL; on that WebSocket the fake says `hello`,
//! sends the envelopes a test asks for in Slack's wire format (`slash_commands`, `events_api`,
//! `disconnect`), and records the client's acknowledgements.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Json;
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{
    ErrorResponse, Request, Response as Upgrade,
};
use tokio_tungstenite::tungstenite::http::StatusCode;

use super::{Api, FakeSlack};

/// The app the fake's connections belong to.
const APP_ID: &str = "A0HERALD";
/// How often waits look again at state the fake does not announce.
const POLL: Duration = Duration::from_millis(20);

/// An acknowledgement a client sent on the WebSocket.
#[derive(Debug, Clone, PartialEq)]
pub struct Ack {
    /// The envelope it acknowledges.
    pub envelope_id: String,
    /// Its `payload` (a slash command's reply), if it has one.
    pub payload: Option<Value>,
}

/// What the fake knows of its Socket Mode connections.
#[derive(Debug, Default)]
pub(super) struct Sockets {
    /// Where the WebSocket listens.
    addr: Option<SocketAddr>,
    /// `apps.connections.open` calls, refused ones included.
    opened: usize,
    /// Tickets handed out and not used yet.
    tickets: Vec<String>,
    /// The connections open now, oldest first, with a way to send them frames.
    live: Vec<(u64, mpsc::UnboundedSender<String>)>,
    /// Every connection greeted so far.
    greeted: Vec<u64>,
    acks: Vec<Ack>,
    next: u64,
}

impl Sockets {
    /// Binds the WebSocket's port; [`serve`] accepts on it.
    pub(super) async fn bind() -> (Self, TcpListener) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let sockets = Self {
            addr: Some(listener.local_addr().expect("address")),
            ..Self::default()
        };
        (sockets, listener)
    }

    fn next_id(&mut self) -> u64 {
        self.next += 1;
        self.next
    }
}

/// `apps.connections.open`, authorised by the app-level token as Slack does.
pub(super) fn open(fake: &Api, bearer: Option<&str>) -> Response {
    fake.with(|data| {
        data.socket.opened += 1;
        let bearer = bearer.and_then(|b| b.strip_prefix("Bearer "));
        if bearer.is_some() && bearer == Some(data.token.as_str()) {
            return Json(json!({"ok": false, "error": "not_allowed_token_type"})).into_response();
        }
        if bearer.is_none() || bearer != data.app_token.as_deref() {
            return Json(json!({"ok": false, "error": "invalid_auth"})).into_response();
        }
        let ticket = format!("{:032x}", data.socket.next_id());
        data.socket.tickets.push(ticket.clone());
        let addr = data.socket.addr.expect("bound");
        let url = format!("ws://{addr}/link/?ticket={ticket}&app_id={APP_ID}");
        Json(json!({"ok": true, "url": url})).into_response()
    })
}

/// Accepts WebSocket connections until the test ends.
pub(super) async fn serve(fake: Api, listener: TcpListener) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(connection(fake.clone(), stream));
    }
}

/// One connection: refused without a ticket handed out and unused; otherwise `hello`, then
/// the test's frames out and the client's acknowledgements in, until either side closes.
#[allow(clippy::result_large_err)] // tungstenite's handshake callback returns its Response
async fn connection(fake: Api, stream: TcpStream) {
    let redeem = |request: &Request, upgrade: Upgrade| -> Result<Upgrade, ErrorResponse> {
        let ticket = request
            .uri()
            .query()
            .unwrap_or_default()
            .split('&')
            .find_map(|pair| pair.strip_prefix("ticket="))
            .unwrap_or_default();
        let valid = fake.with(|data| {
            let before = data.socket.tickets.len();
            data.socket.tickets.retain(|t| t != ticket);
            data.socket.tickets.len() < before
        });
        if valid {
            Ok(upgrade)
        } else {
            let mut refused = ErrorResponse::new(Some("invalid ticket".to_owned()));
            *refused.status_mut() = StatusCode::UNAUTHORIZED;
            Err(refused)
        }
    };
    let Ok(socket) = tokio_tungstenite::accept_hdr_async(stream, redeem).await else {
        return;
    };
    let (mut to_client, mut from_client) = socket.split();
    let hello = json!({
        "type": "hello",
        "num_connections": 1,
        "debug_info": {"host": "applink-fake", "build_number": 1, "approximate_connection_time": 18060},
        "connection_info": {"app_id": APP_ID}
    });
    if to_client
        .send(Message::text(hello.to_string()))
        .await
        .is_err()
    {
        return;
    }
    let (frames_in, mut frames) = mpsc::unbounded_channel();
    let id = fake.with(|data| {
        let id = data.socket.next_id();
        data.socket.live.push((id, frames_in));
        data.socket.greeted.push(id);
        id
    });
    loop {
        tokio::select! {
            frame = frames.recv() => {
                let Some(frame) = frame else { break };
                if to_client.send(Message::text(frame)).await.is_err() {
                    break;
                }
            }
            message = from_client.next() => match message {
                Some(Ok(Message::Text(text))) => record(&fake, text.as_str()),
                // A close is answered while reading on, until the stream ends.
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            },
        }
    }
    fake.with(|data| data.socket.live.retain(|(live, _)| *live != id));
}

/// Records an acknowledgement (`{"envelope_id": …, "payload": …}`).
fn record(fake: &Api, text: &str) {
    let Ok(frame) = serde_json::from_str::<Value>(text) else {
        return;
    };
    if let Some(envelope_id) = frame["envelope_id"].as_str() {
        let ack = Ack {
            envelope_id: envelope_id.to_owned(),
            payload: frame.get("payload").cloned(),
        };
        fake.with(|data| data.socket.acks.push(ack));
    }
}

impl FakeSlack {
    /// How many times `apps.connections.open` was called, refused calls included.
    pub fn connections_opened(&self) -> usize {
        self.fake.read(|data| data.socket.opened)
    }

    /// Waits until `n` WebSocket connections were greeted with `hello` since the start
    /// (reconnections count), or `timeout` passes; returns how many were.
    pub async fn wait_connected(&self, n: usize, timeout: Duration) -> usize {
        self.fake
            .wait(n, timeout, |data| data.socket.greeted.clone())
            .await
            .len()
    }

    /// The WebSocket connections open now.
    pub fn live_connections(&self) -> usize {
        self.fake.read(|data| data.socket.live.len())
    }

    /// Waits until at most `n` WebSocket connections are open, or `timeout` passes; returns
    /// how many are.
    pub async fn wait_live_at_most(&self, n: usize, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            let live = self.live_connections();
            if live <= n || Instant::now() >= deadline {
                return live;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Sends `frame` on the newest open connection.
    ///
    /// # Panics
    /// When no connection is open.
    pub fn send_frame(&self, frame: &Value) {
        let sent = self.fake.read(|data| {
            data.socket
                .live
                .last()
                .is_some_and(|(_, frames)| frames.send(frame.to_string()).is_ok())
        });
        assert!(sent, "no Socket Mode connection is open");
    }

    /// Sends a `slash_commands` envelope: `/herald <text>` typed in `channel` by user `U1`.
    /// Returns its envelope id.
    pub fn slash_command(&self, channel: &str, text: &str) -> String {
        let envelope_id = self.envelope_id();
        self.send_frame(&json!({
            "envelope_id": envelope_id,
            "type": "slash_commands",
            "accepts_response_payload": true,
            "payload": {
                "token": "verification-token",
                "team_id": "T1",
                "team_domain": "herald",
                "channel_id": channel,
                "channel_name": "general",
                "user_id": "U1",
                "user_name": "fan",
                "command": "/herald",
                "text": text,
                "api_app_id": APP_ID,
                "is_enterprise_install": "false",
                "response_url": "https://hooks.slack.com/commands/T1/1/x",
                "trigger_id": "1.1.x"
            }
        }));
        envelope_id
    }

    /// Sends an `events_api` envelope with event `event_id`: an `app_mention` of the bot
    /// (`<@UHERALD> <text>`) in `channel` by user `U1`. Returns its envelope id.
    pub fn app_mention(&self, event_id: &str, channel: &str, text: &str) -> String {
        let envelope_id = self.envelope_id();
        self.send_frame(&json!({
            "envelope_id": envelope_id,
            "type": "events_api",
            "accepts_response_payload": false,
            "retry_attempt": 0,
            "retry_reason": "",
            "payload": {
                "token": "verification-token",
                "team_id": "T1",
                "api_app_id": APP_ID,
                "type": "event_callback",
                "event_id": event_id,
                "event_time": 1_700_000_000,
                "event_context": "4-eyJldCI6ImFwcF9tZW50aW9uIn0",
                "is_ext_shared_channel": false,
                "authorizations": [{"enterprise_id": null, "team_id": "T1", "user_id": "UHERALD", "is_bot": true, "is_enterprise_install": false}],
                "event": {
                    "type": "app_mention",
                    "user": "U1",
                    "text": format!("<@UHERALD> {text}"),
                    "ts": "1700000000.000100",
                    "channel": channel,
                    "event_ts": "1700000000.000100"
                }
            }
        }));
        envelope_id
    }

    /// Asks the client to reconnect, as Slack does before it recycles a connection.
    pub fn disconnect(&self) {
        self.send_frame(&json!({
            "type": "disconnect",
            "reason": "refresh_requested",
            "debug_info": {"host": "applink-fake"}
        }));
    }

    /// Every acknowledgement received so far.
    pub fn acks(&self) -> Vec<Ack> {
        self.fake.read(|data| data.socket.acks.clone())
    }

    /// Waits for the acknowledgement of `envelope_id` until `timeout`.
    pub async fn wait_ack(&self, envelope_id: &str, timeout: Duration) -> Option<Ack> {
        self.fake
            .wait(1, timeout, |data| {
                data.socket
                    .acks
                    .iter()
                    .filter(|ack| ack.envelope_id == envelope_id)
                    .cloned()
                    .collect()
            })
            .await
            .into_iter()
            .next()
    }

    fn envelope_id(&self) -> String {
        let n = self.fake.with(|data| data.socket.next_id());
        format!("e{n:07}-fake-envelope")
    }
}
