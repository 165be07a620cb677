//! A real Socket.IO client for the tests: the reference JavaScript client (`socket.io-client`,
//! installed under `tests/socketio` by `npm ci`, which `.ci/run` does) in a Node.js process,
//! driven through its stdin and read from its stdout (see `tests/socketio/client.mjs`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

/// How long a client waits for what it expects.
const WAIT: Duration = Duration::from_secs(10);

/// One connected (or refused) client.
pub(crate) struct SioClient {
    child: Child,
    stdin: ChildStdin,
    lines: Arc<Mutex<Vec<Value>>>,
}

fn script() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/socketio");
    assert!(
        dir.join("node_modules/socket.io-client").exists(),
        "the Socket.IO test client is not installed: run `npm ci --prefix tests/socketio` \
         (Node.js 18 or later; .ci/run does it)"
    );
    dir.join("client.mjs")
}

impl SioClient {
    /// Connects to herald at `addr` over `transport` (`websocket` or `polling`) with the
    /// handshake's `auth`, and waits until connected or refused.
    pub(crate) async fn connect(addr: SocketAddr, transport: &str, auth: Option<Value>) -> Self {
        let mut command = Command::new("node");
        command
            .arg(script())
            .arg(format!("http://{addr}"))
            .arg(transport);
        if let Some(auth) = auth {
            command.arg(auth.to_string());
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node (Node.js) must be installed to run the Socket.IO tests");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                if let Ok(value) = serde_json::from_str(&line) {
                    sink.lock().unwrap().push(value);
                }
            }
        });
        let client = Self {
            child,
            stdin,
            lines,
        };
        client
            .wait_until("a connection or a refusal", |lines| {
                lines
                    .iter()
                    .any(|l| l.get("connect").is_some() || l.get("connect_error").is_some())
            })
            .await;
        client
    }

    /// The transport in use once connected.
    pub(crate) fn transport(&self) -> Option<String> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .find_map(|l| l["transport"].as_str().map(str::to_owned))
    }

    /// The refusal's message, when the server refused the connection.
    pub(crate) fn refusal(&self) -> Option<String> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .find_map(|l| l["connect_error"].as_str().map(str::to_owned))
    }

    /// Emits `event` with `data`.
    pub(crate) async fn emit(&mut self, event: &str, data: Value) {
        let line = json!({"emit": event, "data": data}).to_string() + "\n";
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    /// Every `status` and `message` received, in order, as `"status: <msg>"`/`"message: <msg>"`.
    pub(crate) fn said(&self) -> Vec<String> {
        self.events()
            .into_iter()
            .filter(|(event, _)| event == "status" || event == "message")
            .map(|(event, data)| format!("{event}: {}", data["msg"].as_str().unwrap_or("")))
            .collect()
    }

    /// Every `notification` received, in order.
    pub(crate) fn notifications(&self) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|(event, _)| event == "notification")
            .map(|(_, data)| data)
            .collect()
    }

    fn events(&self) -> Vec<(String, Value)> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| Some((l["event"].as_str()?.to_owned(), l["data"].clone())))
            .collect()
    }

    /// Waits until `said` holds `line`.
    pub(crate) async fn wait_said(&self, line: &str) {
        self.wait_until(line, |_| self.said().iter().any(|s| s == line))
            .await;
    }

    /// Waits until `n` notifications have arrived.
    pub(crate) async fn wait_notifications(&self, n: usize) {
        self.wait_until(&format!("{n} notifications"), |_| {
            self.notifications().len() >= n
        })
        .await;
    }

    async fn wait_until(&self, what: &str, done: impl Fn(&[Value]) -> bool) {
        let deadline = Instant::now() + WAIT;
        loop {
            let lines = self.lines.lock().unwrap().clone();
            if done(&lines) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "waited {WAIT:?} for {what}; the client saw {lines:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Closes the connection and ends the process.
    pub(crate) async fn close(mut self) {
        let _sent = self.stdin.write_all(b"{\"close\": true}\n").await.is_ok();
        let _exited = tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .is_ok();
    }
}
