//! The store on SQLite and on PostgreSQL: migrations, once-only events, routing into the
//! outbox, per-recipient queues read in order, runs, retries, dead letters and leases; every
//! read (subscribers, locales, signups) decodes on both.

use std::collections::HashSet;
use std::time::Duration;

use herald::config::RouteConfig;
use herald::detect::{Tracked, detect};
use herald::model::{Event, EventKind, MatchState, Phase, Score, Team};
use herald::render::sample;
use herald::routing::{Route, Scope, Subscription};
use sink_api::{Delivery, Recipient};

use herald::store::{Next, Queued, Store};

use crate::db::TestDb;

/// What a worker of sink `sink` would take next: up to `recipients` runs of up to `run`
/// deliveries, with `held` in hand.
async fn next(
    store: &Store,
    sink: &str,
    recipients: usize,
    run: usize,
    held: &[&Queued],
) -> Vec<Vec<Queued>> {
    let sending: HashSet<String> = held.iter().map(|q| q.recipient.to_string()).collect();
    let held: Vec<i64> = held.iter().map(|q| q.id).collect();
    store
        .next(&Next {
            sink,
            after: 0,
            recipients,
            run,
            held: &held,
            sending: &sending,
        })
        .await
        .unwrap()
        .runs
}

/// The heads a worker of `chat` would take next, holding nothing.
async fn heads(store: &Store, recipients: usize) -> Vec<Queued> {
    next(store, "chat", recipients, 1, &[])
        .await
        .into_iter()
        .flatten()
        .collect()
}

fn routes() -> Vec<Route> {
    vec![
        Route::new(
            "sse",
            &RouteConfig::default(),
            vec![Recipient::broadcast()],
            "en",
        )
        .with_delivery(Delivery::Broadcast),
        Route::new(
            "chat",
            &RouteConfig {
                kinds: vec!["goals".into()],
                ..RouteConfig::default()
            },
            vec![Recipient::new("channel-1")],
            "pt-BR",
        ),
    ]
}

fn event(id: &str, kind: EventKind) -> Event {
    let mut e = sample(kind);
    e.id = id.to_owned();
    e
}

fn tracked() -> Tracked {
    let state = MatchState {
        id: "src:1".into(),
        competition: Some("Cup".into()),
        home: Team {
            id: "1".into(),
            name: "France".into(),
        },
        away: Team {
            id: "2".into(),
            name: "Croatia".into(),
        },
        kickoff: Some(1_531_666_800),
        phase: Phase::FirstHalf,
        clock: None,
        score: Score::new(1, 0),
        pens: None,
        extra_time: false,
        winner: None,
        incidents: vec![],
        venue: None,
        lineups: Default::default(),
    };
    detect(None, state).0
}

#[tokio::test]
async fn migrations_apply_once_on_both_backends() {
    for db in TestDb::all().await {
        let store = herald::store::Store::connect(&db.config()).await.unwrap();
        assert!(store.migrate().await.unwrap() >= 1, "{}", db.backend);
        assert_eq!(store.migrate().await.unwrap(), 0, "{}", db.backend);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn events_are_recorded_and_queued_once_with_state_and_cursor() {
    for db in TestDb::all().await {
        let store = db.store().await;
        assert_eq!(store.source_cursor("src").await.unwrap(), None);
        let events = vec![
            event("src:1:kick_off", EventKind::KickOff),
            event("src:1:g1", EventKind::Goal),
        ];
        let c = store
            .commit_poll("src", Some("1:3"), &[tracked()], &events, true, &routes())
            .await
            .unwrap();
        assert_eq!(c.new_events.len(), 2, "{}", db.backend);
        // sse gets both, chat only the goal.
        assert_eq!(c.deliveries, 3, "{}", db.backend);
        assert_eq!(c.sinks.len(), 2);
        assert_eq!(
            store.source_cursor("src").await.unwrap(),
            Some(Some("1:3".into()))
        );
        assert_eq!(store.tracked("src").await.unwrap(), vec![tracked()]);

        let again = store
            .commit_poll("src", None, &[], &events, true, &routes())
            .await
            .unwrap();
        assert!(again.new_events.is_empty(), "{}", db.backend);
        assert_eq!(again.deliveries, 0);
        // Broadcast rows are served by every instance, never taken by a worker: nothing pending.
        assert_eq!(store.pending("sse").await.unwrap(), 0);
        let served: Vec<String> = store
            .broadcast_after("sse", 0, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|q| q.event.id)
            .collect();
        assert_eq!(served, ["src:1:kick_off", "src:1:g1"], "{}", db.backend);
        assert_eq!(store.pending("chat").await.unwrap(), 1);

        let due = heads(&store, 10).await;
        assert_eq!(due[0].locale, "pt-BR");
        assert_eq!(due[0].event.kind, EventKind::Goal);
        let matches = store.matches(10).await.unwrap();
        assert_eq!(matches[0].home, "France");
        assert_eq!(matches[0].home_score, 1);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn skipped_backlog_is_recorded_without_deliveries() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let events = vec![event("src:1:g1", EventKind::Goal)];
        let c = store
            .commit_poll("src", None, &[tracked()], &events, false, &routes())
            .await
            .unwrap();
        assert_eq!(c.new_events.len(), 1);
        assert_eq!(c.deliveries, 0);
        // Seen once: a later poll showing it again queues nothing either.
        let c = store
            .commit_poll("src", None, &[], &events, true, &routes())
            .await
            .unwrap();
        assert_eq!(c.deliveries, 0, "{}", db.backend);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn subscribers_receive_what_they_follow_in_their_locale() {
    for db in TestDb::all().await {
        let store = db.store().await;
        store
            .subscribe(&Subscription {
                sink: "chat".into(),
                recipient: Recipient::new("user-9"),
                scope: Scope::Team("croatia".into()),
                kinds: vec!["cards".into()],
                locale: Some("en".into()),
            })
            .await
            .unwrap();
        let events = vec![
            event("e:card", EventKind::YellowCard),
            event("e:goal", EventKind::Goal),
        ];
        store
            .commit_poll("src", None, &[], &events, true, &routes())
            .await
            .unwrap();
        let due = heads(&store, 10).await;
        let mut got: Vec<(String, String, String)> = due
            .iter()
            .map(|q| {
                (
                    q.recipient.to_string(),
                    q.event.id.clone(),
                    q.locale.clone(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("channel-1".into(), "e:goal".into(), "pt-BR".into()),
                ("user-9".into(), "e:card".into(), "en".into()),
            ],
            "{}",
            db.backend
        );
        assert_eq!(store.pause_recipient("chat", "user-9").await.unwrap(), 1);
        assert!(store.subscriptions("chat").await.unwrap().is_empty());
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn each_recipient_queue_is_served_in_order_one_head_at_a_time() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let events: Vec<Event> = (0..3)
            .map(|i| event(&format!("e{i}"), EventKind::Goal))
            .collect();
        store
            .commit_poll("src", None, &[], &events, true, &routes())
            .await
            .unwrap();
        let first = heads(&store, 10).await;
        assert_eq!(
            first.len(),
            1,
            "only the head of the queue ({})",
            db.backend
        );
        assert_eq!(first[0].event.id, "e0");
        let head = first[0].id;
        assert!(
            next(&store, "chat", 10, 10, &[&first[0]]).await.is_empty(),
            "a head in hand blocks its queue ({})",
            db.backend
        );

        // A retry later keeps the order: nothing behind it overtakes.
        store
            .retry_later(head, 1, Duration::from_secs(3600), "boom")
            .await
            .unwrap();
        assert!(heads(&store, 10).await.is_empty());
        let due = store.due_sinks().await.unwrap();
        assert_eq!(
            due.len(),
            1,
            "the sweep looks at chat only ({})",
            db.backend
        );
        assert_eq!(due[0].0, "chat");

        // A dead letter leaves the queue; the next one moves up.
        store.dead(head, 1, "gave up").await.unwrap();
        let after = heads(&store, 10).await;
        assert_eq!(after[0].event.id, "e1", "{}", db.backend);
        store
            .delivered(&[(after[0].id, Some("msg-7".into()))])
            .await
            .unwrap();
        assert_eq!(
            store
                .receipt("chat", "channel-1", "e1")
                .await
                .unwrap()
                .as_deref(),
            Some("msg-7")
        );
        assert_eq!(heads(&store, 10).await[0].event.id, "e2");

        let dead = store.dead_letters(10).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].event_id, "e0");
        assert_eq!(dead[0].last_error.as_deref(), Some("gave up"));
        assert_eq!(store.requeue_dead(None).await.unwrap(), 1);
        assert!(store.dead_letters(10).await.unwrap().is_empty());

        let recent: Vec<String> = store
            .broadcast_recent("sse", 2)
            .await
            .unwrap()
            .into_iter()
            .map(|q| q.event.id)
            .collect();
        assert_eq!(recent, ["e1", "e2"], "the newest, oldest first");
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn deliveries_merged_into_one_message_count_as_one_against_the_daily_cap() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let events: Vec<Event> = (0..3)
            .map(|i| event(&format!("m{i}"), EventKind::Goal))
            .collect();
        store
            .commit_poll("src", None, &[], &events, true, &routes())
            .await
            .unwrap();
        // Two went as one merged text (one receipt); the third without a platform id.
        for receipt in [Some("SM1"), Some("SM1"), None] {
            let head = heads(&store, 10).await;
            store
                .delivered(&[(head[0].id, receipt.map(str::to_owned))])
                .await
                .unwrap();
        }
        assert_eq!(
            store.delivered_since("chat", "channel-1", 0).await.unwrap(),
            2,
            "{}",
            db.backend
        );
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_delivery_reported_failed_afterwards_becomes_a_dead_letter() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let events: Vec<Event> = (0..2)
            .map(|i| event(&format!("f{i}"), EventKind::Goal))
            .collect();
        store
            .commit_poll("src", None, &[], &events, true, &routes())
            .await
            .unwrap();
        for receipt in ["msg-0", "msg-1"] {
            let head = heads(&store, 10).await;
            store
                .delivered(&[(head[0].id, Some(receipt.into()))])
                .await
                .unwrap();
        }
        assert_eq!(
            store.delivered_since("chat", "channel-1", 0).await.unwrap(),
            2
        );
        // The report names a receipt of another recipient, or one nobody got: nothing.
        for (recipient, receipt) in [("channel-2", "msg-1"), ("channel-1", "msg-9")] {
            assert!(
                !store
                    .dead_after_delivery("chat", recipient, receipt, "failed")
                    .await
                    .unwrap(),
                "{}",
                db.backend
            );
        }
        assert!(store.dead_letters(10).await.unwrap().is_empty());
        assert!(
            store
                .dead_after_delivery("chat", "channel-1", "msg-1", "Viber could not deliver it")
                .await
                .unwrap(),
            "{}",
            db.backend
        );
        let dead = store.dead_letters(10).await.unwrap();
        assert_eq!(dead.len(), 1, "{}", db.backend);
        assert_eq!(dead[0].event_id, "f1");
        assert_eq!(dead[0].recipient, "channel-1");
        assert_eq!(
            dead[0].last_error.as_deref(),
            Some("Viber could not deliver it")
        );
        assert_eq!(
            store.delivered_since("chat", "channel-1", 0).await.unwrap(),
            1
        );
        // The same report again changes nothing.
        assert!(
            !store
                .dead_after_delivery("chat", "channel-1", "msg-1", "again")
                .await
                .unwrap()
        );
        assert_eq!(
            store.dead_letters(10).await.unwrap()[0]
                .last_error
                .as_deref(),
            Some("Viber could not deliver it")
        );
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_whatsapp_window_never_moves_back() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let (sink, phone) = ("whatsapp", "+14155552671");
        let at = herald::store::now_ms();
        let last = |store: Store| async move {
            store
                .whatsapp_session(sink, phone)
                .await
                .unwrap()
                .unwrap()
                .last_inbound_at_ms
        };
        store.set_whatsapp_opt_in(sink, phone, true).await.unwrap();
        assert_eq!(last(store.clone()).await, None, "{}", db.backend);
        store
            .record_whatsapp_inbound(sink, phone, at)
            .await
            .unwrap();
        assert_eq!(last(store.clone()).await, Some(at), "{}", db.backend);
        // An earlier time recorded later leaves the window as the later message opened it.
        store
            .record_whatsapp_inbound(sink, phone, at - 3_600_000)
            .await
            .unwrap();
        assert_eq!(last(store.clone()).await, Some(at), "{}", db.backend);
        store
            .record_whatsapp_inbound(sink, phone, at + 1)
            .await
            .unwrap();
        assert_eq!(last(store.clone()).await, Some(at + 1), "{}", db.backend);
        let session = store.whatsapp_session(sink, phone).await.unwrap().unwrap();
        assert!(session.opted_in, "recording a message keeps the opt-in");
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_long_backlog_or_a_waiting_head_does_not_hide_the_recipients_behind_it() {
    for db in TestDb::all().await {
        let store = db.store().await;
        // channel-1 (the configured recipient) gets 600 goals first; then subscriber 7 and
        // channel-1 one more.
        let events: Vec<Event> = (0..600)
            .map(|i| event(&format!("g{i}"), EventKind::Goal))
            .collect();
        store
            .commit_poll("src", None, &[], &events, true, &routes())
            .await
            .unwrap();
        store
            .subscribe(&Subscription {
                sink: "chat".into(),
                recipient: Recipient::new("7"),
                scope: Scope::All,
                kinds: vec![],
                locale: None,
            })
            .await
            .unwrap();
        store
            .commit_poll(
                "src",
                None,
                &[],
                &[event("late", EventKind::Goal)],
                true,
                &routes(),
            )
            .await
            .unwrap();
        let runs = next(&store, "chat", 10, 1_000, &[]).await;
        let got: Vec<(String, usize)> = runs
            .iter()
            .map(|r| (r[0].recipient.to_string(), r.len()))
            .collect();
        assert_eq!(got[0].0, "channel-1", "{}", db.backend);
        assert_eq!(
            got[0].1, 601,
            "the whole backlog is one run ({})",
            db.backend
        );
        assert_eq!(
            got.get(1).map(|(r, n)| (r.as_str(), *n)),
            Some(("7", 1)),
            "{}",
            db.backend
        );
        let ids: Vec<&str> = runs[0].iter().map(|q| q.event.id.as_str()).collect();
        assert_eq!(ids[..3], ["g0", "g1", "g2"], "in order ({})", db.backend);
        assert_eq!(ids[600], "late");

        // With channel-1's head in hand, or waiting for a retry, 7 is still served: the read
        // goes on past the 600 rows it cannot take.
        let head = &runs[0][0];
        let held = next(&store, "chat", 10, 1, &[head]).await;
        assert_eq!(held.len(), 1, "{}", db.backend);
        assert_eq!(held[0][0].recipient, Recipient::new("7"));
        store
            .retry_later(head.id, 1, Duration::from_secs(3600), "boom")
            .await
            .unwrap();
        let waiting = heads(&store, 10).await;
        assert_eq!(waiting.len(), 1, "{}", db.backend);
        assert_eq!(waiting[0].recipient, Recipient::new("7"));
        store.close().await;
        db.cleanup().await;
    }
}

/// Broadcast rows are read by every instance after a cursor, so a row must never become
/// visible behind one a reader has already passed. Writers commit concurrently from separate
/// pools (as separate instances would) while a reader follows; it must see every row.
#[tokio::test]
async fn a_follower_sees_every_broadcast_row_while_writers_commit_concurrently() {
    for db in TestDb::all().await {
        let reader = db.store().await;
        // Followers of the chat sink make each transaction insert many rows after the
        // broadcast one: the window between taking an id and committing it is wide.
        let users: Vec<String> = (0..300).map(|u| format!("u{u}")).collect();
        let users: Vec<&str> = users.iter().map(String::as_str).collect();
        crate::harness::subscribe_all(&reader, "chat", &users).await;
        let mut writers = Vec::new();
        for w in 0..4 {
            let store = herald::store::Store::connect(&db.config()).await.unwrap();
            writers.push(tokio::spawn(async move {
                for i in 0..40 {
                    let events = [event(&format!("w{w}-{i}"), EventKind::Goal)];
                    store.publish(&events, &routes()).await.unwrap();
                }
                store.close().await;
            }));
        }
        let mut seen = Vec::new();
        let mut cursor = 0;
        loop {
            let done = writers.iter().all(tokio::task::JoinHandle::is_finished);
            for q in reader.broadcast_after("sse", cursor, 1000).await.unwrap() {
                cursor = q.id;
                seen.push(q.event.id);
            }
            if done {
                break;
            }
            tokio::task::yield_now().await;
        }
        for writer in writers {
            writer.await.unwrap();
        }
        assert_eq!(seen.len(), 160, "every row, once ({})", db.backend);
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 160);
        reader.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_lease_has_one_holder_until_it_expires_or_is_released() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let ttl = Duration::from_millis(300);
        assert!(store.acquire_lease("poller:x", "a", ttl).await.unwrap());
        assert!(
            !store.acquire_lease("poller:x", "b", ttl).await.unwrap(),
            "{}",
            db.backend
        );
        assert!(
            store.acquire_lease("poller:x", "a", ttl).await.unwrap(),
            "the holder renews"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(
            store.acquire_lease("poller:x", "b", ttl).await.unwrap(),
            "an expired lease moves"
        );
        store.release_lease("poller:x", "b").await.unwrap();
        assert!(store.acquire_lease("poller:x", "a", ttl).await.unwrap());
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn runs_of_a_queue_are_read_in_order_and_settled() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let events: Vec<Event> = (0..3)
            .map(|i| event(&format!("g{i}"), EventKind::Goal))
            .collect();
        store
            .commit_poll("src", None, &[tracked()], &events, true, &routes())
            .await
            .unwrap();
        let mut runs = next(&store, "chat", 10, 10, &[]).await;
        assert_eq!(runs.len(), 1, "{}", db.backend);
        let run = runs.remove(0);
        let ids: Vec<&str> = run.iter().map(|q| q.event.id.as_str()).collect();
        assert_eq!(ids, ["g0", "g1", "g2"], "{}", db.backend);
        assert_eq!(run[1].recipient, Recipient::new("channel-1"));
        assert_eq!(run[1].attempts, 0);
        assert!(run[1].created_at_ms > 0);
        let short = next(&store, "chat", 10, 2, &[]).await;
        assert_eq!(
            short[0].len(),
            2,
            "runs stop at their length ({})",
            db.backend
        );

        store
            .delivered(&[(run[0].id, None), (run[1].id, Some("m-1".into()))])
            .await
            .unwrap();
        assert_eq!(
            store.delivered_since("chat", "channel-1", 0).await.unwrap(),
            2,
            "{}",
            db.backend
        );
        assert_eq!(
            store
                .receipt("chat", "channel-1", "g1")
                .await
                .unwrap()
                .as_deref(),
            Some("m-1")
        );
        assert_eq!(
            store.receipt("chat", "channel-1", "g0").await.unwrap(),
            None
        );
        let last = heads(&store, 10).await;
        assert_eq!(last[0].id, run[2].id, "the next one moved up");
        store.skip(last[0].id, "over the cap").await.unwrap();
        assert_eq!(store.pending("chat").await.unwrap(), 0);
        assert!(store.due_sinks().await.unwrap().is_empty());

        assert_eq!(
            store.event("g1").await.unwrap().map(|e| e.kind),
            Some(EventKind::Goal)
        );
        assert_eq!(store.event("nope").await.unwrap(), None);
        let (mut teams, competitions) = store.known_names().await.unwrap();
        teams.sort();
        assert_eq!(teams, ["Croatia", "France"], "{}", db.backend);
        assert_eq!(competitions, ["Cup"]);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn subscribers_locales_and_signups_read_back_as_written() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let sub = Subscription {
            sink: "chat".into(),
            recipient: Recipient::new("user-1"),
            scope: Scope::Team("France".into()),
            kinds: vec!["goals".into(), "cards".into()],
            locale: Some("fr".into()),
        };
        store.subscribe(&sub).await.unwrap();
        assert_eq!(
            store.subscriptions_of("chat", "user-1").await.unwrap(),
            std::slice::from_ref(&sub),
            "{}",
            db.backend
        );
        assert_eq!(
            store.subscriber_locale("chat", "user-1").await.unwrap(),
            Some("fr".into())
        );
        assert_eq!(store.chat_locale("chat", "user-1").await.unwrap(), None);
        store.set_chat_locale("chat", "user-1", "de").await.unwrap();
        assert_eq!(
            store.chat_locale("chat", "user-1").await.unwrap(),
            Some("de".into())
        );
        assert_eq!(store.pause_recipient("chat", "user-1").await.unwrap(), 1);
        let rows = store.subscriber_rows(Some("chat")).await.unwrap();
        assert_eq!(rows.len(), 1, "{}", db.backend);
        assert!(!rows[0].active, "paused");
        assert_eq!(rows[0].subscription.kinds, ["goals", "cards"]);
        assert_eq!(rows[0].subscription.locale.as_deref(), Some("de"));
        assert!(rows[0].created_at_ms > 0);
        assert_eq!(store.resume_recipient("chat", "user-1").await.unwrap(), 1);
        assert!(store.subscriber_rows(None).await.unwrap()[0].active);

        let signup = herald::store::PendingSignup {
            sink: "sms".into(),
            phone: "+33600000001".into(),
            code: "123456".into(),
            scopes: vec![Scope::Team("France".into())],
            kinds: vec![],
            locale: "fr".into(),
            quiet: Some(
                herald::preferences::Quiet::parse("22:30-06:00 Europe/Paris", "UTC").unwrap(),
            ),
            attempts: 0,
            expires_at_ms: herald::store::now_ms() + 60_000,
        };
        store.put_signup(&signup).await.unwrap();
        assert!(
            store
                .take_signup_attempt("sms", &signup.phone, 3)
                .await
                .unwrap()
        );
        let stored = store.signup("sms", &signup.phone).await.unwrap();
        assert_eq!(
            stored,
            Some(herald::store::PendingSignup {
                attempts: 1,
                ..signup.clone()
            }),
            "{}",
            db.backend
        );
        store.confirm_signup(&signup).await.unwrap();
        assert_eq!(store.signup("sms", &signup.phone).await.unwrap(), None);
        let subs = store.subscriptions_of("sms", &signup.phone).await.unwrap();
        assert_eq!(subs.len(), 1);
        assert_eq!(subs[0].locale.as_deref(), Some("fr"));
        // The quiet hours asked for at signup hold from the confirmation on.
        let prefs = store.prefs("sms", &signup.phone).await.unwrap();
        assert_eq!(prefs.quiet, signup.quiet, "{}", db.backend);
        store.close().await;
        db.cleanup().await;
    }
}
