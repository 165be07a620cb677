//! Secrets never reach the logs or the console: provider keys in failing requests, tokens in
//! `check-config`, and database passwords in connection errors.

use std::process::{Command, Stdio};
use std::time::Duration;

const KEY: &str = "livescore-key-5f1e9c";
const SECRET: &str = "livescore-secret-8a7d2b";
const TOKEN: &str = "fd-token-93b1c4e2";
const ADMIN: &str = "admin-token-77aa99bb11";
const TELEGRAM: &str = "987654:telegram-secret-abc";
const SLACK: &str = "xoxb-slack-secret-def";
const TWILIO: &str = "twilio-auth-token-secret-123";
const X: &str = "x-access-token-secret-456";

fn herald(args: &[&str], config: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_herald"));
    cmd.args(args)
        .arg("--config")
        .arg(config)
        .env("RUST_LOG", "debug");
    cmd
}

#[tokio::test]
async fn provider_credentials_do_not_appear_in_logs() {
    let dir = tempfile::tempdir().unwrap();
    // A provider that fails: one answers 500, the other refuses connections.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let failing = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let app = axum::Router::new()
            .fallback(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "boom") });
        axum::serve(listener, app).await.unwrap();
    });
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let config = dir.path().join("herald.toml");
    std::fs::write(
        &config,
        format!(
            "[http]\nenabled = false\nadmin_token = \"{ADMIN}\"\n[store]\nurl = \"sqlite://{db}\"\n\
             [sources.ls]\ntype = \"livescore\"\nendpoint = \"http://{failing}/api-client\"\nkey = \"${{LS_KEY}}\"\nsecret = \"{SECRET}\"\n\
             interval_live = \"50ms\"\ninterval_break = \"50ms\"\ninterval_idle = \"50ms\"\n\
             [sources.fd]\ntype = \"football_data\"\nendpoint = \"http://{closed}/v4\"\ntoken = \"{TOKEN}\"\n\
             interval_live = \"50ms\"\ninterval_break = \"50ms\"\ninterval_idle = \"50ms\"\n\
             [sinks.console]\n\
             [sinks.telegram]\ntoken = \"{TELEGRAM}\"\nendpoint = \"http://{closed}\"\npoll_timeout = \"1s\"\n\
             [sinks.slack]\nbot_token = \"{SLACK}\"\nsigning_secret = \"{SECRET}\"\nendpoint = \"http://{closed}/api\"\n\
             [sinks.sms]\ntype = \"twilio\"\naccount_sid = \"AC0123456789abcdef0123456789abcdef\"\nauth_token = \"{TWILIO}\"\n\
             from = \"+14155550100\"\nendpoint = \"http://{closed}\"\n\
             [sinks.x]\napi_key = \"k\"\napi_secret = \"{X}\"\naccess_token = \"t\"\naccess_token_secret = \"{X}\"\nendpoint = \"http://{closed}\"\n",
            db = dir.path().join("h.db").display()
        ),
    )
    .unwrap();
    let child = herald(&["run"], &config)
        .env("LS_KEY", KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Long enough for a first poll, healthcheck and getUpdates on a loaded machine.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let output = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&output.stderr).to_string()
        + &String::from_utf8_lossy(&output.stdout);
    assert!(
        logs.contains("poll failed"),
        "the failures were logged:\n{logs}"
    );
    assert!(logs.contains("answered HTTP 500"), "{logs}");
    assert!(logs.contains("healthcheck failed"), "{logs}");
    for secret in [KEY, SECRET, TOKEN, ADMIN, TELEGRAM, SLACK, TWILIO, X] {
        assert!(
            !logs.contains(secret),
            "secret {secret} leaked into the logs:\n{logs}"
        );
    }
}

#[test]
fn check_config_prints_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("herald.toml");
    std::fs::write(
        &config,
        format!(
            "[http]\nadmin_token = \"{ADMIN}\"\n[store]\nurl = \"postgres://herald:{SECRET}@db.example/herald\"\n\
             [sources.fd]\ntype = \"football_data\"\ntoken = \"{TOKEN}\"\n"
        ),
    )
    .unwrap();
    let output = herald(&["check-config"], &config).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("configuration is valid"), "{text}");
    assert!(
        text.contains("postgres://herald:***@db.example/herald"),
        "{text}"
    );
    for secret in [SECRET, TOKEN, ADMIN] {
        assert!(!text.contains(secret), "{secret} printed:\n{text}");
    }
}

#[test]
fn a_bad_config_fails_with_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("herald.toml");
    std::fs::write(&config, "[dispatch]\nmax_attempts = \"lots\"\n").unwrap();
    let output = herald(&["check-config"], &config).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: dispatch.max_attempts: "),
        "{stderr}"
    );
}

#[test]
fn an_unreachable_database_error_hides_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("herald.toml");
    std::fs::write(
        &config,
        format!("[store]\nurl = \"postgres://herald:{SECRET}@127.0.0.1:1/herald\"\n"),
    )
    .unwrap();
    let output = herald(&["migrate"], &config).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("postgres://herald:***@127.0.0.1:1/herald"),
        "{stderr}"
    );
    assert!(!stderr.contains(SECRET), "{stderr}");
}

#[test]
fn secrets_made_of_digits_are_taken_as_text_and_never_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("herald.toml");
    std::fs::write(
        &config,
        "[sinks.slack]\nbot_token = \"xoxb-1\"\nendpoint = \"http://127.0.0.1:1/api\"\n",
    )
    .unwrap();
    let digits = "98765432109876543";
    let output = herald(&["check-config"], &config)
        .env("HERALD_HTTP__ADMIN_TOKEN", digits)
        .env("HERALD_SINKS__SLACK__SIGNING_SECRET", "0123456789")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{text}");
    assert!(
        !text.contains(digits) && !text.contains("0123456789"),
        "{text}"
    );
    // The values arrive as written (leading zero kept), as strings.
    let env = [
        ("HERALD_HTTP__ADMIN_TOKEN".to_owned(), digits.to_owned()),
        (
            "HERALD_SINKS__SLACK__SIGNING_SECRET".to_owned(),
            "0123456789".to_owned(),
        ),
    ];
    let loaded = herald::config::Config::load(Some(&config), env).unwrap();
    let admin = loaded.http.admin_token.unwrap();
    assert_eq!(secrecy::ExposeSecret::expose_secret(&admin), digits);
    let Some(slack) = loaded.sinks["slack"].settings::<sink_slack::Config>() else {
        panic!("slack is a slack sink");
    };
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(slack.signing_secret.as_ref().unwrap()),
        "0123456789"
    );
    // A value of the wrong type is refused naming the key, without the value.
    let output = herald(&["check-config"], &config)
        .env("HERALD_STORE__MAX_CONNECTIONS", "s3cr3t-looking-value")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("store.max_connections"), "{stderr}");
    assert!(!stderr.contains("s3cr3t-looking-value"), "{stderr}");
}

#[test]
fn a_password_in_the_database_url_query_is_masked() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("herald.toml");
    std::fs::write(
        &config,
        format!("[store]\nurl = \"postgres://herald@127.0.0.1:1/herald?sslmode=disable&password={SECRET}\"\n"),
    )
    .unwrap();
    let output = herald(&["check-config"], &config).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("sslmode=disable&password=***"), "{text}");
    assert!(!text.contains(SECRET), "{text}");
    let started = std::time::Instant::now();
    let output = herald(&["migrate"], &config).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(!stderr.contains(SECRET), "{stderr}");
    // Said at once, with the address that did not answer.
    assert!(stderr.contains("cannot connect to 127.0.0.1:1"), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}
