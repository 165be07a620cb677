//! Delivery policy through the real pipeline (publish API → store → dispatch → sinks), with
//! recording sinks scripted to hang, fail, or be rate limited.

use std::time::{Duration, Instant};

use herald::config::Config;
use serde_json::json;
use sink_api::testing::{Behaviour, MemorySink};
use sink_api::{Limits, Rate};

use crate::db::TestDb;
use crate::harness::{Herald, subscribe_all};

const TOKEN: &str = "test-admin-token-0123456789";

/// herald with no sources, an SSE sink and the given recording sinks.
async fn start(db: &TestDb, dispatch: serde_json::Value, sinks: Vec<(&str, MemorySink)>) -> Herald {
    let config = json!({
        "store": { "url": db.url },
        "http": { "admin_token": TOKEN },
        "dispatch": dispatch,
        "sources": {},
        "sinks": { "sse": {} },
    });
    Herald::start(config, sinks).await
}

/// Publishes an announcement titled `title`.
fn titles(sink: &MemorySink) -> Vec<String> {
    sink.delivered().into_iter().map(|(_, n)| n.title).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_sink_never_delays_another_one() {
    let db = TestDb::sqlite();
    let hanging = MemorySink::with_fallback(Behaviour::Hang);
    let fast = MemorySink::new();
    let app = start(
        &db,
        json!({"send_timeout": "60s", "shutdown_grace": "200ms"}),
        vec![("hanging", hanging.clone()), ("fast", fast.clone())],
    )
    .await;
    let started = Instant::now();
    for i in 0..5 {
        app.publish(TOKEN, "test", &format!("message {i}")).await;
    }
    let delivered = fast.wait_for(5, Duration::from_secs(5)).await;
    let elapsed = started.elapsed();
    assert_eq!(delivered.len(), 5, "the fast sink got everything");
    assert!(
        elapsed < Duration::from_secs(2),
        "the fast sink was held up: {elapsed:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while hanging.attempts() == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        hanging.attempts(),
        1,
        "the hanging sink is stuck on its first delivery"
    );
    assert!(hanging.delivered().is_empty());
    // Shutdown does not wait for the hung send beyond the grace period, and the stuck delivery
    // stays queued for the next start.
    let took = app.shutdown().await;
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    let store = db.store().await;
    assert_eq!(store.pending("hanging").await.unwrap(), 5);
    assert_eq!(store.pending("fast").await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_failures_are_retried_with_backoff_then_delivered() {
    let db = TestDb::sqlite();
    let flaky = MemorySink::new();
    flaky.script([Behaviour::Transient, Behaviour::Transient]);
    let app = start(
        &db,
        json!({"backoff_base": "100ms", "backoff_max": "1s"}),
        vec![("flaky", flaky.clone())],
    )
    .await;
    let started = Instant::now();
    app.publish(TOKEN, "test", "goal").await;
    let delivered = flaky.wait_for(1, Duration::from_secs(5)).await;
    let elapsed = started.elapsed();
    assert_eq!(delivered.len(), 1);
    assert_eq!(flaky.attempts(), 3);
    // Backoff after attempt 1 is 50–100 ms, after attempt 2 100–200 ms.
    assert!(
        elapsed >= Duration::from_millis(150),
        "retried too fast: {elapsed:?}"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_retry_after_is_honoured() {
    let db = TestDb::sqlite();
    let limited = MemorySink::new();
    limited.script([Behaviour::RateLimited(Some(Duration::from_millis(700)))]);
    let app = start(
        &db,
        json!({"backoff_base": "10ms"}),
        vec![("limited", limited.clone())],
    )
    .await;
    app.publish(TOKEN, "test", "goal").await;
    let first = Instant::now();
    let delivered = limited.wait_for(1, Duration::from_secs(5)).await;
    let waited = first.elapsed();
    assert_eq!(delivered.len(), 1);
    assert!(
        waited >= Duration::from_millis(700),
        "retried before retry_after: {waited:?}"
    );
    assert!(
        waited < Duration::from_millis(2500),
        "waited far longer than asked: {waited:?}"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_failures_become_dead_letters_and_the_queue_moves_on() {
    let db = TestDb::sqlite();
    let sink = MemorySink::new();
    sink.script([Behaviour::Permanent]);
    let app = start(&db, json!({}), vec![("chat", sink.clone())]).await;
    app.publish(TOKEN, "test", "first").await;
    app.publish(TOKEN, "test", "second").await;
    let delivered = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(delivered[0].1.title, "📣 second");
    let dead = app.store.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].sink, "chat");
    assert!(
        dead[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("permanent failure"),
        "{dead:?}"
    );
    app.shutdown().await;

    // The CLI lists it and can queue it again.
    let config = Config::from_value(json!({"store": {"url": db.url}})).unwrap();
    let listing = herald::commands::dead_letters(
        &config,
        herald::commands::DeadLetterAction::List { limit: 10 },
    )
    .await
    .unwrap();
    assert!(listing.contains("chat → *"), "{listing}");
    assert!(listing.contains("announcement"), "{listing}");
    let requeued =
        herald::commands::dead_letters(&config, herald::commands::DeadLetterAction::RetryAll)
            .await
            .unwrap();
    assert_eq!(requeued, "1 dead letter(s) queued again\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_stop_at_max_attempts() {
    let db = TestDb::sqlite();
    let broken = MemorySink::with_fallback(Behaviour::Transient);
    let app = start(
        &db,
        json!({"max_attempts": 3, "backoff_base": "10ms", "backoff_max": "20ms"}),
        vec![("broken", broken.clone())],
    )
    .await;
    app.publish(TOKEN, "test", "goal").await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while app.store.dead_letters(10).await.unwrap().is_empty() {
        assert!(Instant::now() < deadline, "never dead-lettered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(broken.attempts(), 3);
    assert_eq!(app.store.dead_letters(10).await.unwrap()[0].attempts, 3);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recipient_that_is_gone_has_its_subscriptions_paused() {
    let db = TestDb::sqlite();
    subscribe_all(&db.store().await, "chat", &["alice", "bob"]).await;
    let sink = MemorySink::new();
    sink.set_recipients(vec![]);
    sink.script([Behaviour::RecipientGone]);
    let app = start(&db, json!({}), vec![("chat", sink.clone())]).await;
    app.publish(TOKEN, "test", "first").await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let remaining = loop {
        let remaining = app.store.subscriptions("chat").await.unwrap();
        if remaining.len() < 2 || Instant::now() > deadline {
            break remaining;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        remaining.len(),
        1,
        "one subscriber was paused: {remaining:?}"
    );
    assert_eq!(app.store.dead_letters(10).await.unwrap().len(), 1);
    let kept = remaining[0].recipient.clone();
    app.publish(TOKEN, "test", "second").await;
    let delivered = sink.wait_for(2, Duration::from_secs(5)).await;
    assert_eq!(delivered.len(), 2);
    assert!(delivered.iter().all(|(to, _)| *to == kept));
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_recipient_gets_its_notifications_in_order() {
    let db = TestDb::sqlite();
    subscribe_all(&db.store().await, "chat", &["a", "b", "c"]).await;
    let sink = MemorySink::with_fallback(Behaviour::Delay(Duration::from_millis(3)));
    sink.set_recipients(vec![]);
    // One transient failure in the middle must not let later messages overtake.
    sink.script([Behaviour::Deliver, Behaviour::Deliver, Behaviour::Transient]);
    let app = start(
        &db,
        json!({"backoff_base": "50ms"}),
        vec![("chat", sink.clone())],
    )
    .await;
    for i in 0..10 {
        app.publish(TOKEN, "test", &format!("m{i:02}")).await;
    }
    let delivered = sink.wait_for(30, Duration::from_secs(10)).await;
    assert_eq!(delivered.len(), 30);
    for user in ["a", "b", "c"] {
        let got: Vec<String> = delivered
            .iter()
            .filter(|(to, _)| to.as_str() == user)
            .map(|(_, n)| n.title.clone())
            .collect();
        let mut sorted = got.clone();
        sorted.sort();
        assert_eq!(got, sorted, "{user} got notifications out of order");
        assert_eq!(got.len(), 10);
    }
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_queued_deliveries() {
    let db = TestDb::sqlite();
    let slow = MemorySink::with_fallback(Behaviour::Delay(Duration::from_millis(300)));
    let app = start(
        &db,
        json!({"shutdown_grace": "20s"}),
        vec![("slow", slow.clone())],
    )
    .await;
    for i in 0..10 {
        app.publish(TOKEN, "test", &format!("m{i}")).await;
    }
    let before = titles(&slow).len();
    assert!(
        before < 10,
        "the queue is still busy when shutdown starts ({before} sent)"
    );
    app.shutdown().await;
    assert_eq!(
        titles(&slow).len(),
        10,
        "every queued delivery went out before exit"
    );
    assert_eq!(db.store().await.pending("slow").await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sinks_declared_rate_limit_is_applied() {
    let db = TestDb::sqlite();
    let sink = MemorySink::new();
    sink.set_limits(Limits {
        global: vec![Rate::new(1, Duration::from_millis(200))],
        per_recipient: vec![],
        ..Limits::default()
    });
    let app = start(&db, json!({}), vec![("limited", sink.clone())]).await;
    let started = Instant::now();
    for i in 0..4 {
        app.publish(TOKEN, "test", &format!("m{i}")).await;
    }
    let delivered = sink.wait_for(4, Duration::from_secs(5)).await;
    assert_eq!(delivered.len(), 4);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(550),
        "4 messages at 5/s took only {elapsed:?}"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recipient_every_delivery_to_which_fails_permanently_is_paused() {
    for db in TestDb::all().await {
        subscribe_all(&db.store().await, "chat", &["alice", "nowhere"]).await;
        let sink = MemorySink::new();
        sink.set_recipients(vec![]);
        // `nowhere` refuses everything, permanently; alice gets everything.
        sink.fail_recipient("nowhere", Behaviour::Permanent);
        let app = start(
            &db,
            json!({"pause_after_failures": 3}),
            vec![("chat", sink.clone())],
        )
        .await;
        for n in 0..3 {
            app.publish(TOKEN, "test", &format!("m{n}")).await;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let remaining = loop {
            let remaining = app.store.subscriptions("chat").await.unwrap();
            if remaining.len() < 2 || Instant::now() > deadline {
                break remaining;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(remaining.len(), 1, "{}: {remaining:?}", db.backend);
        assert_eq!(remaining[0].recipient.as_str(), "alice");
        assert_eq!(app.store.dead_letters(10).await.unwrap().len(), 3);
        // Nothing more is queued for it.
        app.publish(TOKEN, "test", "m3").await;
        sink.wait_for(4, Duration::from_secs(5)).await;
        assert_eq!(app.store.dead_letters(10).await.unwrap().len(), 3);
        app.shutdown().await;
        db.cleanup().await;
    }
}
