//! Commands over Socket Mode: the sink's task, as the plug-in builds it, against the fake's
//! `apps.connections.open` and WebSocket. Envelopes are acknowledged, commands reach the core
//! and are answered; a disconnect request reconnects; a refused token is a clear error and is
//! not retried in a tight loop; cancelling the task closes the connection.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::SecretString;
use sink_api::plugin::CancellationToken;
use sink_api::testing::RecordingCommands;
use sink_api::{Built, Context, Plugin as _, Recipient};
use sink_slack::testing::FakeSlack;
use sink_slack::{Config, Plugin, SlackSink};

const TOKEN: &str = "xoxb-test-token";
const APP_TOKEN: &str = "xapp-1-A0HERALD-1-secret";
const WAIT: Duration = Duration::from_secs(5);

fn config(fake: &FakeSlack, app_token: &str) -> Config {
    Config {
        bot_token: SecretString::from(TOKEN),
        signing_secret: None,
        app_token: Some(SecretString::from(app_token)),
        endpoint: fake.endpoint(),
        channels: vec![],
        per_channel_per_second: 1,
    }
}

fn build(config: &Config, commands: &RecordingCommands) -> Built<SlackSink> {
    let _installed = rustls::crypto::ring::default_provider().install_default();
    Plugin::build(config, &Context::new("slack", Arc::new(commands.clone()))).unwrap()
}

/// The sink's Socket Mode task, running until the returned token is cancelled.
fn run(built: &Built<SlackSink>) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let [(name, task)] = built.tasks.as_slice() else {
        panic!("one task expected, got {built:?}");
    };
    assert_eq!(*name, "slack socket mode");
    let stop = CancellationToken::new();
    (stop.clone(), tokio::spawn(task(stop)))
}

/// A fake with the app token, and the task connected to it.
async fn connected(
    commands: &RecordingCommands,
) -> (FakeSlack, CancellationToken, tokio::task::JoinHandle<()>) {
    let fake = FakeSlack::with_app_token(TOKEN, APP_TOKEN).await;
    let built = build(&config(&fake, APP_TOKEN), commands);
    let (stop, task) = run(&built);
    assert_eq!(fake.wait_connected(1, WAIT).await, 1, "no connection");
    (fake, stop, task)
}

#[tokio::test]
async fn a_slash_command_is_acknowledged_with_its_reply() {
    let commands = RecordingCommands::new();
    let (fake, stop, task) = connected(&commands).await;
    let envelope = fake.slash_command("C555", "subscribe France goals");
    let ack = fake.wait_ack(&envelope, WAIT).await.expect("no ack");
    let payload = ack.payload.expect("the reply in the ack");
    assert_eq!(payload["text"], "ok: subscribe France goals");
    assert_eq!(payload["response_type"], "ephemeral");
    let received = commands.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].chat, Recipient::new("C555"));
    assert_eq!(received[0].user.as_deref(), Some("U1"));
    // The reply travels in the ack, as over HTTP in the response: nothing is posted.
    assert!(fake.posted().is_empty());
    stop.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn a_mention_is_acknowledged_then_answered_in_its_channel_once() {
    let commands = RecordingCommands::new();
    let (fake, stop, task) = connected(&commands).await;
    let envelope = fake.app_mention("Ev1", "C777", "subscribe +15551234567");
    let ack = fake.wait_ack(&envelope, WAIT).await.expect("no ack");
    assert_eq!(ack.payload, None);
    let posted = fake.wait_posted(1, WAIT).await;
    assert_eq!(posted[0].method, "chat.postMessage");
    assert_eq!(posted[0].channel, "C777");
    assert_eq!(posted[0].text, "ok: subscribe +15551234567");
    // Slack redelivers the same event in a new envelope: acknowledged, not handled again.
    let again = fake.app_mention("Ev1", "C777", "subscribe +15551234567");
    assert!(fake.wait_ack(&again, WAIT).await.is_some());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(commands.received().len(), 1);
    assert_eq!(fake.posted().len(), 1);
    stop.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn after_a_disconnect_request_it_reconnects_and_keeps_working() {
    let commands = RecordingCommands::new();
    let (fake, stop, task) = connected(&commands).await;
    // Hours into a connection, not before the client answered anything: slack-morphism's
    // writer must be running to close the old connection.
    let first = fake.slash_command("C1", "list");
    assert!(fake.wait_ack(&first, WAIT).await.is_some());
    let opened = fake.connections_opened();
    fake.disconnect();
    assert_eq!(fake.wait_connected(2, WAIT).await, 2, "no reconnection");
    assert_eq!(fake.connections_opened(), opened + 1);
    // The old connection is closed by the client.
    assert_eq!(fake.wait_live_at_most(1, WAIT).await, 1);
    let envelope = fake.slash_command("C1", "list");
    let ack = fake
        .wait_ack(&envelope, WAIT)
        .await
        .expect("no ack after reconnecting");
    assert_eq!(ack.payload.unwrap()["text"], "ok: list");
    stop.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn cancelling_the_task_closes_the_connection() {
    let commands = RecordingCommands::new();
    let (fake, stop, task) = connected(&commands).await;
    let envelope = fake.slash_command("C1", "list");
    assert!(fake.wait_ack(&envelope, WAIT).await.is_some());
    assert_eq!(fake.live_connections(), 1);
    stop.cancel();
    tokio::time::timeout(WAIT, task)
        .await
        .expect("the task did not stop")
        .unwrap();
    assert_eq!(fake.wait_live_at_most(0, WAIT).await, 0);
    let opened = fake.connections_opened();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        fake.connections_opened(),
        opened,
        "reconnected after the stop"
    );
}

/// Log lines written while a test runs on this thread.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn a_refused_app_token_is_a_clear_error_retried_with_backoff() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // A current-thread runtime: the task logs on this thread.
    let _logging = tracing::subscriber::set_default(subscriber);

    let fake = FakeSlack::with_app_token(TOKEN, APP_TOKEN).await;
    let wrong = "xapp-1-A0HERALD-1-revoked";
    let commands = RecordingCommands::new();
    let built = build(&config(&fake, wrong), &commands);
    let (stop, task) = run(&built);
    tokio::time::sleep(Duration::from_millis(3500)).await;
    // Tried at once, then after 2 s; the next try would be 4 s later.
    assert_eq!(fake.connections_opened(), 2);
    assert_eq!(fake.wait_connected(1, Duration::ZERO).await, 0);
    stop.cancel();
    tokio::time::timeout(WAIT, task)
        .await
        .expect("the task did not stop while waiting to retry")
        .unwrap();
    let logs = logs.text();
    assert!(
        logs.contains("ERROR") && logs.contains("Slack refused the app token (invalid_auth)"),
        "{logs}"
    );
    assert!(logs.contains("connections:write"), "{logs}");
    assert!(
        !logs.contains(wrong) && !logs.contains("-revoked"),
        "{logs}"
    );
}

#[tokio::test]
async fn the_transports_follow_the_config() {
    let fake = FakeSlack::with_app_token(TOKEN, APP_TOKEN).await;
    let commands = RecordingCommands::new();
    let mut config = config(&fake, APP_TOKEN);
    let socket_mode_only = build(&config, &commands);
    assert!(
        socket_mode_only.router.is_none(),
        "HTTP routes without a signing secret"
    );
    assert_eq!(socket_mode_only.tasks.len(), 1);
    config.signing_secret = Some(SecretString::from("s"));
    let both = build(&config, &commands);
    assert!(both.router.is_some() && both.tasks.len() == 1);
    config.app_token = None;
    let http_only = build(&config, &commands);
    assert!(http_only.router.is_some() && http_only.tasks.is_empty());
    config.signing_secret = None;
    let notifications_only = build(&config, &commands);
    assert!(notifications_only.router.is_none() && notifications_only.tasks.is_empty());
    assert!(Plugin::describe(&config).ends_with("no commands"));
}
