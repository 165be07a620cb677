//! Restart: herald (the real binary) is killed with SIGKILL mid-match, the match goes on while
//! it is down, and a new process on the same database catches up: nothing missed, nothing
//! notified twice, and the SSE client resumes with Last-Event-ID across the restart.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::db::TestDb;
use crate::e2e::{play, source_table};
use crate::expected::{Expected, check, fixture_dirs};
use crate::fake_provider::FakeProvider;
use crate::sse_client::{SseClient, as_got};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

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

fn write_config(
    dir: &Path,
    port: u16,
    db: &TestDb,
    source: &serde_json::Value,
) -> std::path::PathBuf {
    let mut text = format!(
        "[http]\nlisten = \"127.0.0.1:{port}\"\n\n[store]\nurl = {url:?}\nlease_ttl = \"2s\"\n\n\
         [dispatch]\nsend_timeout = \"1s\"\nclaim_ttl = \"2s\"\n\n[sinks.sse]\n\n[sources.provider]\n",
        url = db.url
    );
    for (k, v) in source.as_object().unwrap() {
        text.push_str(&format!("{k} = {}\n", toml_value(v)));
    }
    let path = dir.join("herald.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn spawn(config: &Path, log: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["run", "--config"])
        .arg(config)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

async fn wait_healthy(port: u16) {
    herald::app::install_crypto_provider();
    let client = sink_api::http::client().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            && r.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("herald did not become healthy on port {port}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_herald_catches_up_without_duplicates_or_gaps() {
    let fixture = fixture_dirs()
        .into_iter()
        .find(|d| d.to_string_lossy().contains("fifa"))
        .unwrap();
    let expected = Expected::load(&fixture);
    for db in TestDb::all().await {
        let label = format!("restart on {}", db.backend);
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeProvider::start(&fixture).await;
        let port = free_port();
        let config = write_config(dir.path(), port, &db, &source_table(&fake, &fixture));
        let log = dir.path().join("herald.log");

        let mut first = spawn(&config, &log);
        wait_healthy(port).await;
        let addr = ([127, 0, 0, 1], port).into();
        let before = SseClient::connect(addr, "", None).await;
        play(&fake, || before.received(), &expected, 0..8, &label).await;

        first.kill().unwrap();
        first.wait().unwrap();
        // The own goal, Kanté's booking and Perišić's goal were delivered before the kill;
        // Griezmann's penalty (step 7) and more happen while herald is down.
        fake.set_step(12);

        let second = spawn(&config, &log);
        wait_healthy(port).await;
        let after = SseClient::connect(addr, "", before.last_id()).await;
        let both = || {
            let mut all = before.received();
            all.extend(after.received());
            all
        };
        play(&fake, both, &expected, 12..fake.steps(), &label).await;
        fake.wait_polls(4, Duration::from_secs(20)).await;
        tokio::time::sleep(Duration::from_millis(200)).await;

        let received = both();
        let problems = check(&expected, &as_got(&received));
        let log_text = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(
            problems.is_empty(),
            "{label}:\n{}\n--- herald log ---\n{log_text}",
            problems.join("\n")
        );

        before.stop();
        after.stop();
        // SIGTERM: the graceful path.
        terminate(second).await;
        db.cleanup().await;
    }
}

async fn terminate(mut child: Child) {
    let pid = child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(
                status.success(),
                "herald exited with {status} after SIGTERM"
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
