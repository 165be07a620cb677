//! herald as a real child process: spawned from the release-under-test binary with a config
//! file, killed with SIGKILL or stopped with SIGTERM, its log kept for failure messages.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port on loopback.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A TOML value for a JSON one (strings quoted, arrays kept).
fn toml_value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => format!("{s:?}"),
        serde_json::Value::Array(items) => format!(
            "[{}]",
            items.iter().map(toml_value).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

/// A `[sources.<id>]` table from its keys.
pub(crate) fn source_toml(id: &str, source: &serde_json::Value) -> String {
    let mut text = format!("[sources.{id}]\n");
    for (k, v) in source.as_object().unwrap() {
        text.push_str(&format!("{k} = {}\n", toml_value(v)));
    }
    text
}

/// A running herald process.
pub(crate) struct Process {
    child: Child,
    pub(crate) port: u16,
    log: PathBuf,
}

impl Process {
    /// Starts `herald run --config <config>` listening on `port` and waits until `/healthz`
    /// answers. `wrap` runs it through a shell first (`ulimit -n 64; exec …`) when given.
    pub(crate) async fn start(config: &Path, port: u16, log: &Path, wrap: Option<&str>) -> Self {
        Self::spawn(config, port, log, wrap, Some("info")).await
    }

    /// Like [`Process::start`], logging as the config's `[log]` says (no `RUST_LOG`).
    pub(crate) async fn start_as_configured(config: &Path, port: u16, log: &Path) -> Self {
        Self::spawn(config, port, log, None, None).await
    }

    async fn spawn(
        config: &Path,
        port: u16,
        log: &Path,
        wrap: Option<&str>,
        rust_log: Option<&str>,
    ) -> Self {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let binary = env!("CARGO_BIN_EXE_herald");
        let mut command = match wrap {
            Some(prefix) => {
                let mut c = Command::new("bash");
                c.arg("-c").arg(format!(
                    "{prefix}; exec \"{binary}\" run --config \"{}\"",
                    config.display()
                ));
                c
            }
            None => {
                let mut c = Command::new(binary);
                c.args(["run", "--config"]).arg(config);
                c
            }
        };
        match rust_log {
            Some(level) => command.env("RUST_LOG", level),
            None => command.env_remove("RUST_LOG"),
        };
        let child = command.stdout(Stdio::null()).stderr(file).spawn().unwrap();
        let process = Self {
            child,
            port,
            log: log.to_owned(),
        };
        process.wait_healthy().await;
        process
    }

    /// The process id (the first part of its instance name in leases).
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn addr(&self) -> std::net::SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn wait_healthy(&self) {
        herald::app::install_crypto_provider();
        let client = sink_api::http::client().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(r) = client.get(self.url("/healthz")).send().await
                && r.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "herald did not become healthy on port {}\n{}",
            self.port,
            self.log()
        );
    }

    /// The log so far, for failure messages.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no shutdown code runs.
    pub(crate) fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then waits for a clean exit.
    pub(crate) async fn terminate(mut self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "herald exited with {status} after SIGTERM\n{}",
                    self.log()
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "herald did not stop after SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _killed = self.child.kill();
        let _reaped = self.child.wait();
    }
}
