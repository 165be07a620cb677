//! Socket.IO sink: rooms where clients talk, and every notification emitted into the rooms it
//! concerns.
#![doc = include_str!("../README.md")]

mod chat;
mod client;
mod config;
mod plugin;
mod rooms;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use sink_api::{Delivery, Notification, Receipt, Recipient, Relay, Sink, SinkError};
use socketioxide::handler::ConnectHandler;
use socketioxide::{SocketIo, TransportType};

pub use config::Config;
pub use plugin::Plugin;

/// Packets queued per socket before emits to it fail (a client that does not read): a busy
/// match is a few notifications a minute, a room's talk at most a few lines a second.
const SOCKET_BUFFER: usize = 256;
/// The largest packet a client may send: a text is 500 characters.
const MAX_PACKET: usize = 16 * 1024;

/// Serves Socket.IO at `/socket.io/` and emits notifications into rooms.
#[derive(Clone)]
pub struct SocketIoSink {
    io: SocketIo,
    rooms: chat::Rooms,
    routes: Router,
}

impl std::fmt::Debug for SocketIoSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIoSink")
            .field("clients", &self.clients())
            .finish_non_exhaustive()
    }
}

impl SocketIoSink {
    /// A sink whose room talk goes through `relay` on `channel` (the same on every instance).
    /// Starts the task that emits relayed talk, so it must be called within a Tokio runtime.
    pub fn new(config: &Config, relay: Arc<dyn Relay>, channel: &str) -> Self {
        let rooms = chat::Rooms::new(config, relay, channel.to_owned());
        let (service, io) = SocketIo::builder()
            .ping_interval(Duration::from_secs(25))
            .ping_timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(10))
            .max_buffer_size(SOCKET_BUFFER)
            .max_payload(MAX_PACKET as u64)
            .ws_max_message_size(MAX_PACKET)
            .ws_max_frame_size(MAX_PACKET)
            .transports([TransportType::Polling, TransportType::Websocket])
            .with_state(rooms.clone())
            .build_svc();
        io.ns("/", chat::connect.with(chat::admit));
        let (origin, lines) = rooms.subscribe();
        tokio::spawn(chat::relay_to_sockets(io.clone(), origin, lines));
        // The JavaScript client asks for `/socket.io/`; axum tells it from `/socket.io`.
        let routes = client::routes()
            .route_service("/socket.io/", service.clone())
            .route_service("/socket.io", service);
        Self { io, rooms, routes }
    }

    /// The routes: the Socket.IO endpoint and the JavaScript client.
    pub fn router(&self) -> Router {
        self.routes.clone()
    }

    /// Sockets connected to this instance.
    pub fn clients(&self) -> usize {
        self.rooms.clients()
    }

    /// Disconnects every client (at shutdown).
    pub async fn close(&self) {
        self.io.close().await;
    }
}

impl Sink for SocketIoSink {
    const KIND: &'static str = "socketio";
    const DELIVERY: Delivery = Delivery::Broadcast;

    async fn send(&self, _to: &Recipient, msg: &Notification) -> Result<Receipt, SinkError> {
        if let Err(error) = self.io.to(rooms::of(msg)).emit("notification", msg).await {
            // Sockets that do not read lose this one; the others have it.
            tracing::debug!(id = msg.id, %error, "a notification did not reach every socket");
        }
        Ok(Receipt::default())
    }

    fn recipients(&self) -> Vec<Recipient> {
        vec![Recipient::broadcast()]
    }
}
