//! Restart: herald (the real binary) is killed with SIGKILL mid-match, the match goes on while
//! it is down, and a new process on the same database catches up: nothing missed, nothing
//! notified twice, and the SSE client resumes with Last-Event-ID across the restart.

use std::path::Path;
use std::time::Duration;

use crate::db::TestDb;
use crate::e2e::{play, source_table};
use crate::expected::{Expected, check, fixture_dirs};
use crate::fake_provider::FakeProvider;
use crate::process::{Process, free_port, source_toml};
use crate::sse_client::{SseClient, as_got};

fn write_config(
    dir: &Path,
    port: u16,
    db: &TestDb,
    source: &serde_json::Value,
) -> std::path::PathBuf {
    let text = format!(
        "[http]\nlisten = \"127.0.0.1:{port}\"\n\n[store]\nurl = {url:?}\nlease_ttl = \"2s\"\n\n\
         [dispatch]\nsend_timeout = \"1s\"\n\n[sinks.sse]\n\n{source}",
        url = db.url,
        source = source_toml("provider", source),
    );
    let path = dir.join("herald.toml");
    std::fs::write(&path, text).unwrap();
    path
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

        let first = Process::start(&config, port, &log, None).await;
        let addr = first.addr();
        let before = SseClient::connect(addr, "", None).await;
        play(&fake, || before.received(), &expected, 0..8, &label).await;

        first.kill9();
        // The own goal, Kanté's booking and Perišić's goal were delivered before the kill;
        // Griezmann's penalty (step 7) and more happen while herald is down.
        fake.set_step(12);

        let second = Process::start(&config, port, &log, None).await;
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
        second.terminate().await;
        db.cleanup().await;
    }
}
