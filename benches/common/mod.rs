//! What the benches share: the herald binary started on a free port with a config of their
//! choosing, waited for until healthy, and the server's resident memory.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The publish API's token in every bench config.
pub(crate) const TOKEN: &str = "bench-admin-token-0123456789";

/// A running herald and what talks to it.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) port: u16,
    pub(crate) http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts herald with the store at `store_url` (a new SQLite file when `None`), the
    /// publish token, and `rest` (TOML after `[http]` extras and `[store]`), and waits until
    /// `/healthz` answers.
    pub(crate) async fn start(store_url: Option<&str>, http_extra: &str, rest: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = dir.path().join("herald.toml");
        std::fs::write(
            &config,
            format!(
                "[http]\nlisten = \"127.0.0.1:{port}\"\nadmin_token = \"{TOKEN}\"\n{http_extra}\n\n\
                 [store]\nurl = {url:?}\n\n{rest}",
                url = store_url.map_or_else(
                    || format!("sqlite://{}", dir.path().join("bench.db").display()),
                    str::to_owned
                ),
            ),
        )
        .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(["run", "--config"])
            .arg(&config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("cannot start herald");
        let _installed = rustls::crypto::ring::default_provider().install_default();
        let http = sink_api::http::client().unwrap();
        let server = Self {
            child,
            port,
            http,
            _dir: dir,
        };
        let started = Instant::now();
        while !server
            .http
            .get(server.url("/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "herald did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills and reaps the server.
    pub(crate) fn stop(mut self) {
        self.child.kill().expect("cannot stop herald");
        self.child.wait().expect("cannot reap herald");
    }
}

/// The value after `name` on the command line (`-- --clients 100`), or `default`.
pub(crate) fn option<T: std::str::FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Resident memory of process `pid`, KiB.
pub(crate) fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
