//! Scale-out, with real processes: three herald instances on one PostgreSQL database, the
//! replay source, an SSE client on each instance, 1,000 Telegram chats following the goals, and publishes through
//! every instance. Every client gets every notification once, in the same order under the
//! same ids; the instance polling the source is killed with SIGKILL mid-match and another one
//! carries on; its client resumes elsewhere with `Last-Event-ID`; each chat gets each message
//! once; a graceful stop hands its leases over at once.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use sink_api::Notification;
use sink_telegram::testing::FakeTelegram;
use sqlx::Row;

use crate::db::TestDb;
use crate::expected::{Expected, check, fixture_dirs};
use crate::harness::client;
use crate::process::{Process, free_port};
use crate::sse_client::{SseClient, as_got};
use herald::model::EventKind;
use herald::routing::{Scope, Subscription};
use sink_api::Recipient;

const ADMIN: &str = "scale-test-admin-token-0123";
const BOT: &str = "123456:scale-test-bot-token";
const CHATS: usize = 1_000;
const PUBLISHES: usize = 10;

fn config(port: u16, db: &TestDb, fixture: &std::path::Path, telegram: &str) -> String {
    format!(
        "[http]\nlisten = \"127.0.0.1:{port}\"\nadmin_token = {ADMIN:?}\n\n\
         [store]\nurl = {url:?}\nlease_ttl = \"3s\"\nheartbeat = \"500ms\"\ninstance_timeout = \"2s\"\n\n\
         [dispatch]\nsend_timeout = \"5s\"\n\n\
         [sources.replay]\ntype = \"replay\"\npath = {path:?}\nspeed = 1000.0\nmax_gap = \"1s\"\n\n\
         [sinks.sse]\n\n\
         [sinks.tg]\ntype = \"telegram\"\ntoken = {BOT:?}\nendpoint = {telegram:?}\n\
         global_per_second = 5000\nper_chat_per_second = 100\n",
        url = db.url,
        path = fixture.display().to_string(),
    )
}

/// One query on the test's own connection.
async fn query_i64(db: &TestDb, sql: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0)
}

/// The holder of lease `name` ("<pid>-<random>"), if anyone holds it.
async fn holder(db: &TestDb, name: &str) -> Option<String> {
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    sqlx::query("SELECT holder FROM leases WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut conn)
        .await
        .unwrap()
        .map(|row| row.get(0))
}

fn pid_of(holder: &str) -> u32 {
    holder.split('-').next().unwrap().parse().unwrap()
}

async fn publish(process: &Process, n: usize) {
    let response = client()
        .post(process.url("/api/v1/publish"))
        .bearer_auth(ADMIN)
        .json(&serde_json::json!({"topic": "scale", "title": format!("news {n:02}"), "body": "b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "{}", process.log());
}

/// (id, event id) of each notification, in the order received.
fn ids(received: &[Notification]) -> Vec<(i64, String)> {
    received
        .iter()
        .map(|n| (n.id, n.event_id.clone()))
        .collect()
}

/// Waits until `done` holds, up to `within`; the failure message is `what`.
async fn until(within: Duration, what: impl Fn() -> String, done: impl Fn() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "{}", what());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_serve_every_client_everything_exactly_once_through_a_kill() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let fixture = fixture_dirs()
        .into_iter()
        .find(|d| d.to_string_lossy().contains("fifa"))
        .unwrap();
    let expected = Expected::load(&fixture);
    let telegram = FakeTelegram::start(BOT).await;
    let chats: Vec<String> = (0..CHATS).map(|c| (1_000 + c).to_string()).collect();
    // The chats follow the goals of every match (as most fans do).
    let store = db.store().await;
    for chat in &chats {
        store
            .subscribe(&Subscription {
                sink: "tg".into(),
                recipient: Recipient::new(chat.as_str()),
                scope: Scope::All,
                kinds: vec!["goals".into()],
                locale: None,
            })
            .await
            .unwrap();
    }
    store.close().await;

    let dir = tempfile::tempdir().unwrap();
    let mut instances: Vec<Option<Process>> = Vec::new();
    for i in 0..3 {
        let port = free_port();
        let path = dir.path().join(format!("herald-{i}.toml"));
        std::fs::write(&path, config(port, &db, &fixture, &telegram.endpoint())).unwrap();
        let log = dir.path().join(format!("herald-{i}.log"));
        instances.push(Some(Process::start(&path, port, &log, None).await));
    }
    let logs = |instances: &[Option<Process>]| {
        instances
            .iter()
            .flatten()
            .map(Process::log)
            .collect::<Vec<_>>()
            .join("\n----\n")
    };
    // Each client starts from the beginning (Last-Event-ID 0): the match may have begun on
    // the first instance before the last one was up.
    let mut clients: Vec<SseClient> = Vec::new();
    for process in instances.iter().flatten() {
        clients.push(SseClient::connect(process.addr(), "", Some(0)).await);
    }

    // Publishes through every instance in turn, while the match goes on.
    for n in 0..PUBLISHES {
        publish(instances[n % 3].as_ref().unwrap(), n).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }

    // Mid-match, with the chats' deliveries settled, the poller's instance is killed.
    until(
        Duration::from_secs(30),
        || format!("the match did not start\n{}", logs(&instances)),
        || clients[0].received().len() >= PUBLISHES + 5,
    )
    .await;
    let quiet_by = Instant::now() + Duration::from_secs(30);
    let poller = loop {
        assert!(
            Instant::now() < quiet_by,
            "no moment without chat deliveries in flight while the source was held\n{}",
            logs(&instances)
        );
        let pending = query_i64(
            &db,
            "SELECT COUNT(*) FROM outbox WHERE sink = 'tg' AND status = 0",
        )
        .await;
        if pending == 0
            && let Some(h) = holder(&db, "poller:replay").await
        {
            break pid_of(&h);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let victim = instances
        .iter()
        .position(|p| p.as_ref().is_some_and(|p| p.pid() == poller))
        .expect("the lease holder is one of the three");
    let killed_at = Instant::now();
    instances[victim].take().unwrap().kill9();
    let orphan = clients.remove(victim);
    let before_kill = orphan.received();
    orphan.stop();
    let survivor = instances.iter().flatten().next().unwrap();
    clients.push(
        SseClient::connect(
            survivor.addr(),
            "",
            Some(before_kill.last().map_or(0, |n| n.id)),
        )
        .await,
    );

    // Another instance takes the source over within lease_ttl and the match completes.
    let taken_over = loop {
        if let Some(h) = holder(&db, "poller:replay").await
            && pid_of(&h) != poller
        {
            break killed_at.elapsed();
        }
        assert!(
            killed_at.elapsed() < Duration::from_secs(10),
            "nobody took the source over\n{}",
            logs(&instances)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let total = expected.notifications.iter().filter(|n| n.required).count() + PUBLISHES;
    let resumed = clients.len() - 1;
    until(
        Duration::from_secs(60),
        || {
            format!(
                "the match did not complete on every client\n{}",
                logs(&instances)
            )
        },
        || {
            clients[..resumed]
                .iter()
                .all(|c| c.received().len() >= total)
                && before_kill.len() + clients[resumed].received().len() >= total
        },
    )
    .await;
    // Let anything extra (a duplicate) arrive before judging.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let mut streams: Vec<Vec<Notification>> =
        clients[..resumed].iter().map(SseClient::received).collect();
    let mut joined = before_kill.clone();
    joined.extend(clients[resumed].received());
    streams.push(joined);
    let reference = ids(&streams[0]);
    for (i, stream) in streams.iter().enumerate() {
        assert_eq!(
            ids(stream),
            reference,
            "client {i} saw a different stream (ids and order)"
        );
        let matches: Vec<Notification> = stream
            .iter()
            .filter(|n| n.kind != "announcement")
            .cloned()
            .collect();
        let problems = check(&expected, &as_got(&matches));
        assert!(problems.is_empty(), "client {i}: {problems:#?}");
        let news = stream.iter().filter(|n| n.kind == "announcement").count();
        assert_eq!(news, PUBLISHES, "client {i}: every publish once");
    }

    // Each chat gets each goal once.
    let goals = streams[0]
        .iter()
        .filter(|n| {
            serde_json::from_value::<EventKind>(serde_json::json!(n.kind))
                .is_ok_and(|k| k.group() == "goals")
        })
        .count();
    assert!(goals >= 4, "the final had goals: {goals}");
    let sent = telegram
        .wait_sent(CHATS * goals, Duration::from_secs(90))
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let sent = {
        let more = telegram.sent();
        if more.len() > sent.len() { more } else { sent }
    };
    let mut per_chat: HashMap<&str, BTreeMap<&str, usize>> = HashMap::new();
    for message in &sent {
        *per_chat
            .entry(message.chat_id.as_str())
            .or_default()
            .entry(message.text.as_str())
            .or_default() += 1;
    }
    assert_eq!(per_chat.len(), CHATS, "every chat got messages");
    for (chat, texts) in &per_chat {
        let twice: Vec<_> = texts.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "chat {chat} got these twice: {twice:?}");
        assert_eq!(
            texts.len(),
            goals,
            "chat {chat} got {} of {goals}",
            texts.len()
        );
    }

    // A graceful stop gives its leases back at once: the command reader moves on.
    let task = "task:tg:telegram commands";
    let reader = pid_of(&holder(&db, task).await.expect("someone reads commands"));
    let at = instances
        .iter()
        .position(|p| p.as_ref().is_some_and(|p| p.pid() == reader))
        .unwrap();
    instances[at].take().unwrap().terminate().await;
    let held = holder(&db, task).await;
    assert!(
        held.as_deref().is_none_or(|h| pid_of(h) != reader),
        "the stopped instance still holds {task}"
    );
    let stopped = Instant::now();
    loop {
        if holder(&db, task)
            .await
            .is_some_and(|h| pid_of(&h) != reader)
        {
            break;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(3),
            "no instance took the command reader over within lease_ttl"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "scale: {} notifications on 3 instances, {} Telegram messages; source taken over {:.1} s after the kill",
        total,
        sent.len(),
        taken_over.as_secs_f64()
    );
    for client in clients {
        client.stop();
    }
    for process in instances.into_iter().flatten() {
        process.terminate().await;
    }
    db.cleanup().await;
}

/// Wakes across instances come from PostgreSQL `NOTIFY` (a message published on one instance
/// reaches a stream on another at once, far sooner than the 30 s sweep), and when the listening
/// connection is cut, the instance reconnects and catches up on what was committed meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_listening_connection_reconnects_and_catches_up() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut instances = Vec::new();
    for i in 0..2 {
        let port = free_port();
        let path = dir.path().join(format!("herald-{i}.toml"));
        std::fs::write(
            &path,
            format!(
                "[http]\nlisten = \"127.0.0.1:{port}\"\nadmin_token = {ADMIN:?}\n\n\
                 [store]\nurl = {url:?}\n\n[sinks.sse]\n",
                url = db.url
            ),
        )
        .unwrap();
        let log = dir.path().join(format!("herald-{i}.log"));
        instances.push(Process::start(&path, port, &log, None).await);
    }
    let (a, b) = (&instances[0], &instances[1]);
    let stream = SseClient::connect(b.addr(), "", None).await;
    let arrives = |n: usize, within: Duration| {
        let stream = &stream;
        async move {
            let title = format!("news {n:02}");
            let deadline = Instant::now() + within;
            while Instant::now() < deadline {
                if stream.received().iter().any(|m| m.title.ends_with(&title)) {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            false
        }
    };
    publish(a, 0).await;
    assert!(
        arrives(0, Duration::from_secs(2)).await,
        "not woken by NOTIFY\n{}",
        b.log()
    );

    // Cut both instances' listening connections and keep them from reconnecting (their pools
    // keep the connections they have), publish, then let them back.
    // From another database: one cannot lock connections out of one's own.
    let (server, database) = db.url.rsplit_once('/').unwrap();
    sqlx::any::install_default_drivers();
    let mut admin =
        <sqlx::AnyConnection as sqlx::Connection>::connect(&format!("{server}/postgres"))
            .await
            .unwrap();
    let allow = |yes: bool| format!("ALTER DATABASE {database} WITH ALLOW_CONNECTIONS {yes}");
    sqlx::query(sqlx::AssertSqlSafe(allow(false)))
        .execute(&mut admin)
        .await
        .unwrap();
    let cut: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE application_name = '{}' AND datname = '{database}'",
        herald::signal::LISTENER_NAME
    )))
    .fetch_one(&mut admin)
    .await
    .unwrap()
    .get(0);
    assert_eq!(cut, 2, "each instance listens on one connection of its own");
    publish(a, 1).await;
    assert!(
        !arrives(1, Duration::from_millis(500)).await,
        "arrived with nobody listening"
    );
    sqlx::query(sqlx::AssertSqlSafe(allow(true)))
        .execute(&mut admin)
        .await
        .unwrap();
    drop(admin);
    assert!(
        arrives(1, Duration::from_secs(10)).await,
        "what was committed while the listener was cut never arrived\n{}",
        b.log()
    );
    // And it listens again: the next one arrives at once.
    publish(a, 2).await;
    assert!(arrives(2, Duration::from_secs(2)).await, "{}", b.log());
    let log = b.log();
    assert!(
        log.contains("catching up"),
        "the reconnection is logged\n{log}"
    );
    let ids: Vec<i64> = stream.received().iter().map(|n| n.id).collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(ids, unique, "nothing twice");
    stream.stop();
    for process in instances {
        process.terminate().await;
    }
    db.cleanup().await;
}
