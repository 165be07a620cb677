//! The messages API (`/api/v1/messages`): scheduling on time across restarts, cancelling,
//! idempotent repeats, every bad input refused with nothing stored, the token matrix, purges
//! that leave pending messages alone, and the retention purge. On SQLite and PostgreSQL where
//! the store matters.

use std::time::{Duration, Instant, SystemTime};

use herald::routing::{Scope, Subscription};
use serde_json::{Value, json};
use sink_api::Recipient;
use sink_api::testing::{Behaviour, MemorySink};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::db::TestDb;
use crate::harness::{Herald, client};

const ADMIN: &str = "messages-admin-0123456789";
const SENDER: &str = "messages-sender-012345";
const READER: &str = "messages-reader-012345";

fn config(db: &TestDb, extra_sinks: Value) -> Value {
    let mut sinks = json!({ "sse": {} });
    if let (Some(s), Value::Object(extra)) = (sinks.as_object_mut(), extra_sinks) {
        s.extend(extra);
    }
    json!({
        "store": { "url": db.url },
        "http": {
            "admin_token": ADMIN,
            "tokens": [
                { "name": "sender", "token": SENDER, "scopes": ["publish"] },
                { "name": "reader", "token": READER, "scopes": ["read"] },
            ],
        },
        "dispatch": { "backoff_base": "20s" },
        "sources": {},
        "sinks": sinks,
    })
}

async fn start(db: &TestDb, chat: &MemorySink) -> Herald {
    Herald::start(config(db, json!({})), vec![("chat", chat.clone())]).await
}

/// `POST /api/v1/messages` as `token`: status and body.
async fn post(herald: &Herald, token: &str, key: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = client()
        .post(herald.url("/api/v1/messages"))
        .bearer_auth(token)
        .json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let r = request.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn get(herald: &Herald, token: &str, path: &str) -> (u16, Value) {
    let r = client()
        .get(herald.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn delete(herald: &Herald, token: &str, path: &str) -> (u16, Value) {
    let r = client()
        .delete(herald.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// `in_ms` from now, RFC 3339, and the same instant as a `SystemTime`.
fn at(in_ms: u64) -> (String, SystemTime) {
    let when = SystemTime::now() + Duration::from_millis(in_ms);
    let text = OffsetDateTime::from(when).format(&Rfc3339).unwrap();
    (text, when)
}

/// Waits until `sink` holds `n` deliveries; returns when that was seen (polled every 5 ms).
async fn arrival(sink: &MemorySink, n: usize, timeout: Duration) -> SystemTime {
    let deadline = Instant::now() + timeout;
    while sink.delivered().len() < n {
        assert!(
            Instant::now() < deadline,
            "only {} of {n} deliveries arrived",
            sink.delivered().len()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    SystemTime::now()
}

async fn status_of(herald: &Herald, id: &str) -> String {
    let (code, detail) = get(herald, READER, &format!("/api/v1/messages/{id}")).await;
    assert_eq!(code, 200, "{detail}");
    detail["status"].as_str().unwrap().to_owned()
}

/// Waits until message `id` has `status`.
async fn wait_status(herald: &Herald, id: &str, status: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = status_of(herald, id).await;
        if now == status {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{id} stayed {now}, never {status}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_message_arrives_within_a_second_of_its_time() {
    for db in TestDb::all().await {
        let chat = MemorySink::new();
        let herald = start(&db, &chat).await;
        let (send_at, due) = at(2_000);
        let (code, answer) = post(
            &herald,
            SENDER,
            None,
            &json!({
                "title": "Gates",
                "body": "Gates open in one hour.",
                "send_at": send_at,
                "recipients": [{"sink": "chat", "to": "alice"}, {"sink": "chat", "to": "bob"}, {"sink": "sse"}],
            }),
        )
        .await;
        assert_eq!(code, 202, "{}: {answer}", db.backend);
        assert_eq!(answer["status"], "scheduled");
        assert_eq!(answer["deliveries"], 3);
        let id = answer["id"].as_str().unwrap().to_owned();
        assert_eq!(status_of(&herald, &id).await, "scheduled");
        let arrived = arrival(&chat, 2, Duration::from_secs(10)).await;
        let late = arrived
            .duration_since(due)
            .unwrap_or_else(|early| panic!("{}: sent {:?} early", db.backend, early.duration()));
        assert!(
            late < Duration::from_secs(1),
            "{}: {late:?} late",
            db.backend
        );
        let mut to: Vec<String> = chat
            .delivered()
            .iter()
            .map(|(r, n)| {
                assert_eq!(n.title, "📣 Gates");
                assert_eq!(n.body, "Gates open in one hour.");
                r.as_str().to_owned()
            })
            .collect();
        to.sort();
        assert_eq!(to, ["alice", "bob"]);
        wait_status(&herald, &id, "delivered").await;
        let (_, detail) = get(&herald, READER, &format!("/api/v1/messages/{id}")).await;
        let recipients = detail["recipients"].as_array().unwrap();
        assert_eq!(recipients.len(), 3, "{detail}");
        for r in recipients {
            assert_eq!(r["status"], "delivered", "{detail}");
        }
        assert!(
            recipients.iter().any(|r| r["sink"] == "chat"
                && r["receipt"].as_str().is_some_and(|s| s.starts_with("mem-")))
        );
        herald.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_between_scheduling_and_the_due_time_still_sends_once_on_time() {
    for db in TestDb::all().await {
        let chat = MemorySink::new();
        let herald = start(&db, &chat).await;
        let (send_at, due) = at(3_000);
        let (code, answer) = post(
            &herald,
            ADMIN,
            None,
            &json!({"body": "Kick-off soon", "send_at": send_at, "recipients": [{"sink": "chat", "to": "carol"}]}),
        )
        .await;
        assert_eq!(code, 202, "{answer}");
        herald.shutdown().await;
        let again = start(&db, &chat).await;
        let arrived = arrival(&chat, 1, Duration::from_secs(10)).await;
        let late = arrived.duration_since(due).expect("not before its time");
        assert!(
            late < Duration::from_secs(1),
            "{}: {late:?} late",
            db.backend
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(chat.delivered().len(), 1, "sent once");
        again.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_message_is_never_sent() {
    for db in TestDb::all().await {
        let chat = MemorySink::new();
        let herald = start(&db, &chat).await;
        let (send_at, _) = at(1_500);
        let (_, answer) = post(
            &herald,
            SENDER,
            None,
            &json!({"body": "Never", "send_at": send_at, "recipients": [{"sink": "chat", "to": "dave"}]}),
        )
        .await;
        let id = answer["id"].as_str().unwrap().to_owned();
        let (code, cancelled) = delete(&herald, SENDER, &format!("/api/v1/messages/{id}")).await;
        assert_eq!(code, 200, "{cancelled}");
        assert_eq!(cancelled["status"], "cancelled");
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        assert!(
            chat.delivered().is_empty(),
            "{}: a cancelled message was sent",
            db.backend
        );
        assert_eq!(status_of(&herald, &id).await, "cancelled");
        let (code, _) = delete(&herald, SENDER, &format!("/api/v1/messages/{id}")).await;
        assert_eq!(code, 409, "nothing left to cancel");

        // A message already queued, its delivery waiting for a retry: cancelled, never sent.
        chat.script([Behaviour::Transient]);
        let (code, answer) = post(
            &herald,
            SENDER,
            None,
            &json!({"body": "Retry me", "recipients": [{"sink": "chat", "to": "erin"}]}),
        )
        .await;
        assert_eq!(code, 202, "{answer}");
        assert_eq!(answer["status"], "queued");
        let id = answer["id"].as_str().unwrap().to_owned();
        wait_status(&herald, &id, "sending").await;
        let (code, cancelled) = delete(&herald, SENDER, &format!("/api/v1/messages/{id}")).await;
        assert_eq!(code, 200, "{cancelled}");
        assert_eq!(cancelled["cancelled"], 1);
        let (_, detail) = get(&herald, READER, &format!("/api/v1/messages/{id}")).await;
        assert_eq!(detail["status"], "cancelled");
        assert_eq!(detail["recipients"][0]["status"], "cancelled");
        assert_eq!(detail["recipients"][0]["attempts"], 1);

        // Everything delivered: 409.
        let (_, answer) = post(
            &herald,
            SENDER,
            None,
            &json!({"body": "Done", "recipients": [{"sink": "chat", "to": "frank"}]}),
        )
        .await;
        let id = answer["id"].as_str().unwrap().to_owned();
        wait_status(&herald, &id, "delivered").await;
        let (code, _) = delete(&herald, SENDER, &format!("/api/v1/messages/{id}")).await;
        assert_eq!(code, 409);
        assert_eq!(
            delete(&herald, SENDER, "/api/v1/messages/msg_nope").await.0,
            404
        );
        herald.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotent_repeat_gets_the_first_answer_and_queues_nothing() {
    for db in TestDb::all().await {
        let chat = MemorySink::new();
        let herald = start(&db, &chat).await;
        let body = json!({"body": "Once", "recipients": [{"sink": "chat", "to": "gina"}]});
        let (code, first) = post(&herald, SENDER, Some("order-42"), &body).await;
        assert_eq!(code, 202, "{first}");
        // The same request, spaced differently.
        let same = json!({"recipients": [{"to": "gina", "sink": "chat"}], "body": " Once "});
        let (code, again) = post(&herald, SENDER, Some("order-42"), &same).await;
        assert_eq!(code, 200, "{again}");
        assert_eq!(again, first);
        let (code, conflict) = post(
            &herald,
            SENDER,
            Some("order-42"),
            &json!({"body": "Twice", "recipients": [{"sink": "chat", "to": "gina"}]}),
        )
        .await;
        assert_eq!(code, 422, "{conflict}");
        assert_eq!(conflict["field"], "Idempotency-Key");
        // Keys belong to their token: another caller's same key is another message.
        let (code, other) = post(&herald, ADMIN, Some("order-42"), &body).await;
        assert_eq!(code, 202, "{other}");
        assert_ne!(other["id"], first["id"]);
        arrival(&chat, 2, Duration::from_secs(5)).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(chat.delivered().len(), 2);
        herald.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_is_a_400_naming_the_field_and_stores_nothing() {
    for db in TestDb::all().await {
        let chat = MemorySink::new();
        let closed = "http://127.0.0.1:1";
        let herald = Herald::start(
            config(
                &db,
                json!({
                    "tg": {"type": "telegram", "token": "123:abc", "endpoint": closed, "commands": false},
                    "sms": {"type": "twilio", "account_sid": "AC0123456789abcdef0123456789abcdef",
                            "auth_token": "twilio-token", "from": "+14155550100", "endpoint": closed},
                    "slack": {"bot_token": "xoxb-1", "signing_secret": "s", "endpoint": format!("{closed}/api")},
                }),
            ),
            vec![("chat", chat.clone())],
        )
        .await;
        let (past, _) = (
            OffsetDateTime::from(SystemTime::now() - Duration::from_secs(60))
                .format(&Rfc3339)
                .unwrap(),
            (),
        );
        let (next_year, _) = at(367 * 24 * 3_600 * 1_000);
        let to =
            |sink: &str, to: &str| json!({"body": "x", "recipients": [{"sink": sink, "to": to}]});
        let cases = [
            (
                json!({"body": "x", "send_at": past, "recipients": [{"sink": "chat", "to": "a"}]}),
                "send_at",
                "future",
            ),
            (
                json!({"body": "x", "send_at": next_year, "recipients": [{"sink": "chat", "to": "a"}]}),
                "send_at",
                "year",
            ),
            (
                json!({"body": "x", "send_at": "soon", "recipients": [{"sink": "chat", "to": "a"}]}),
                "send_at",
                "RFC 3339",
            ),
            (to("pigeon", "a"), "recipients[0].sink", "unknown sink"),
            (to("sms", "4155552671x"), "recipients[0].to", "phone"),
            (to("sms", "+1 415 555 2671"), "recipients[0].to", "E.164"),
            (to("tg", "@someone"), "recipients[0].to", "chat id"),
            (to("slack", "#general"), "recipients[0].to", "channel id"),
            (to("sse", "someone"), "recipients[0].to", "leave `to` out"),
            (
                json!({"body": "x", "recipients": [{"sink": "tg"}]}),
                "recipients[0].to",
                "required",
            ),
            (
                json!({"body": "  ", "recipients": [{"sink": "chat", "to": "a"}]}),
                "body",
                "empty",
            ),
            (
                json!({"body": "é".repeat(2_100), "recipients": [{"sink": "chat", "to": "a"}]}),
                "body",
                "4 KiB",
            ),
            (json!({"body": "x"}), "recipients", "routing"),
            (
                json!({"body": "x", "topic": "France", "recipients": [{"sink": "chat", "to": "a"}]}),
                "recipients",
                "not several",
            ),
            (
                json!({"body": "x", "topic": "France", "kinds": ["naps"]}),
                "kinds[0]",
                "unknown kind",
            ),
            (
                json!({"body": "x", "topic": "France", "locale": "tlh"}),
                "locale",
                "unknown locale",
            ),
            (
                json!({"body": "x", "topic": "France", "urgent": true}),
                "urgent",
                "unknown field",
            ),
        ];
        for (body, field, words) in cases {
            let (code, error) = post(&herald, SENDER, None, &body).await;
            assert_eq!(code, 400, "{body}: {error}");
            assert_eq!(error["field"], field, "{body}: {error}");
            assert!(
                error["error"].as_str().unwrap().contains(words),
                "{body}: {error}"
            );
        }
        let r = client()
            .post(herald.url("/api/v1/messages"))
            .bearer_auth(SENDER)
            .header("content-type", "text/plain")
            .body("hello")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 415);
        // Good ones of each sink pass the same checks.
        for (sink, recipient) in [
            ("sms", "+14155552671"),
            ("tg", "-1001234567890"),
            ("slack", "C0123456789"),
        ] {
            let (code, answer) = post(
                &herald,
                SENDER,
                None,
                &json!({"body": "x", "send_at": at(3_600_000).0, "recipients": [{"sink": sink, "to": recipient}]}),
            )
            .await;
            assert_eq!(code, 202, "{sink}: {answer}");
            let (code, _) = delete(
                &herald,
                SENDER,
                &format!("/api/v1/messages/{}", answer["id"].as_str().unwrap()),
            )
            .await;
            assert_eq!(code, 200);
        }
        let (_, list) = get(&herald, READER, "/api/v1/messages?status=scheduled").await;
        assert_eq!(list["messages"].as_array().unwrap().len(), 0, "{list}");
        let (_, all) = get(&herald, READER, "/api/v1/messages").await;
        assert_eq!(
            all["messages"].as_array().unwrap().len(),
            3,
            "only the good ones: {all}"
        );
        assert_eq!(herald.store.dead_letters(10).await.unwrap().len(), 0);
        herald.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_need_their_scope_bearer_or_basic() {
    let db = TestDb::sqlite();
    let chat = MemorySink::new();
    let herald = start(&db, &chat).await;
    let url = herald.url("/api/v1/messages");
    let body = json!({"body": "x", "recipients": [{"sink": "chat", "to": "a"}]});
    let missing = client().post(&url).json(&body).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    let challenge = missing.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains("Bearer") && challenge.contains("Basic"),
        "{challenge}"
    );
    assert_eq!(
        post(&herald, "messages-sender-01234X", None, &body).await.0,
        401
    );
    let basic = client()
        .post(&url)
        .basic_auth("sender", Some(SENDER))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 202);
    let wrong_name = client()
        .post(&url)
        .basic_auth("reader", Some(SENDER))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_name.status(), 401);
    // Scopes: the reader cannot send, the sender cannot read, only admin purges.
    let (code, error) = post(&herald, READER, None, &body).await;
    assert_eq!(code, 403, "{error}");
    assert!(error["error"].as_str().unwrap().contains("publish"));
    assert_eq!(get(&herald, SENDER, "/api/v1/messages").await.0, 403);
    assert_eq!(get(&herald, READER, "/api/v1/messages").await.0, 200);
    assert_eq!(
        delete(&herald, SENDER, "/api/v1/messages?status=delivered")
            .await
            .0,
        403
    );
    assert_eq!(
        delete(&herald, ADMIN, "/api/v1/messages?status=delivered")
            .await
            .0,
        200
    );
    // The publish API takes the same tokens and scopes.
    let publish = |token: &'static str| {
        client()
            .post(herald.url("/api/v1/publish"))
            .bearer_auth(token)
            .json(&json!({"topic": "t", "title": "t", "body": "b"}))
            .send()
    };
    assert_eq!(publish(SENDER).await.unwrap().status(), 202);
    assert_eq!(publish(READER).await.unwrap().status(), 403);
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purge_deletes_finished_messages_and_leaves_pending_ones_alone() {
    for db in TestDb::all().await {
        let chat = MemorySink::new();
        chat.fail_recipient("stuck", Behaviour::Transient);
        let herald = start(&db, &chat).await;
        let (_, done) = post(
            &herald,
            SENDER,
            None,
            &json!({"body": "done", "recipients": [{"sink": "chat", "to": "ok"}]}),
        )
        .await;
        let (_, stuck) = post(
            &herald,
            SENDER,
            None,
            &json!({"body": "stuck", "recipients": [{"sink": "chat", "to": "stuck"}]}),
        )
        .await;
        let (_, later) = post(&herald, SENDER, None, &json!({"body": "later", "send_at": at(3_600_000).0, "recipients": [{"sink": "chat", "to": "ok"}]})).await;
        let id = |v: &Value| v["id"].as_str().unwrap().to_owned();
        wait_status(&herald, &id(&done), "delivered").await;
        wait_status(&herald, &id(&stuck), "sending").await;
        let (code, error) = delete(&herald, ADMIN, "/api/v1/messages?status=queued").await;
        assert_eq!(code, 400, "{error}");
        assert_eq!(error["field"], "status");
        let (code, purged) = delete(&herald, ADMIN, "/api/v1/messages?status=delivered").await;
        assert_eq!(code, 200, "{purged}");
        assert_eq!(purged["purged"], 1, "{}: {purged}", db.backend);
        assert_eq!(
            get(&herald, READER, &format!("/api/v1/messages/{}", id(&done)))
                .await
                .0,
            404
        );
        assert_eq!(status_of(&herald, &id(&stuck)).await, "sending");
        assert_eq!(status_of(&herald, &id(&later)).await, "scheduled");
        let (_, list) = get(&herald, READER, "/api/v1/messages?limit=1").await;
        assert_eq!(list["messages"][0]["id"], id(&later));
        let cursor = list["next_cursor"].as_str().unwrap().to_owned();
        let (_, next) = get(
            &herald,
            READER,
            &format!("/api/v1/messages?limit=1&cursor={cursor}"),
        )
        .await;
        assert_eq!(next["messages"][0]["id"], id(&stuck));
        for bad in ["status=lost", "limit=0", "cursor=x", "colour=red"] {
            assert_eq!(
                get(&herald, READER, &format!("/api/v1/messages?{bad}"))
                    .await
                    .0,
                400,
                "{bad}"
            );
        }
        herald.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_keys_reach_the_followers_of_a_team_and_the_stream() {
    let db = TestDb::sqlite();
    let chat = MemorySink::new();
    chat.set_recipients(vec![]);
    let store = db.store().await;
    for (who, team) in [("fan-fr", "France"), ("fan-es", "Spain")] {
        store
            .subscribe(&Subscription {
                sink: "chat".into(),
                recipient: Recipient::new(who),
                scope: Scope::Team(team.into()),
                kinds: vec![],
                locale: Some("fr".into()),
            })
            .await
            .unwrap();
    }
    let herald = start(&db, &chat).await;
    let (code, answer) = post(
        &herald,
        SENDER,
        None,
        &json!({"title": "Team news", "body": "Training moved", "teams": ["France"], "locale": "en"}),
    )
    .await;
    assert_eq!(code, 202, "{answer}");
    // The fan of France and the stream.
    assert_eq!(answer["deliveries"], 2, "{answer}");
    let got = chat.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got[0].0.as_str(), "fan-fr");
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_settled_history_but_never_pending_deliveries() {
    for db in TestDb::all().await {
        let chat = MemorySink::new();
        chat.fail_recipient("stuck", Behaviour::Transient);
        let herald = start(&db, &chat).await;
        for to in ["ok", "stuck"] {
            post(
                &herald,
                SENDER,
                None,
                &json!({"body": "b", "recipients": [{"sink": "chat", "to": to}]}),
            )
            .await;
        }
        chat.wait_for(1, Duration::from_secs(5)).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let cancel = tokio_util::sync::CancellationToken::new();
        // Everything is older than a retention of zero.
        tokio::time::sleep(Duration::from_millis(5)).await;
        let purged = herald::retention::pass(&herald.store, Duration::ZERO, &cancel)
            .await
            .unwrap();
        assert_eq!(purged.deliveries, 1, "{}: {purged:?}", db.backend);
        assert_eq!(purged.events, 1, "{}: {purged:?}", db.backend);
        assert_eq!(
            purged.messages, 1,
            "{}: the delivered message: {purged:?}",
            db.backend
        );
        let (_, list) = get(&herald, READER, "/api/v1/messages").await;
        let left = list["messages"].as_array().unwrap();
        assert_eq!(left.len(), 1, "{list}");
        assert_eq!(left[0]["status"], "sending");
        assert_eq!(herald.store.pending("chat").await.unwrap(), 1);
        herald.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_sends_lists_shows_cancels_and_purges() {
    let db = TestDb::sqlite();
    let chat = MemorySink::new();
    let herald = start(&db, &chat).await;
    let url = format!("http://{}", herald.addr);
    let cli = move |args: Vec<String>| {
        let url = url.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
                    .args(["messages", "--url", &url])
                    .args(&args)
                    .env("HERALD_TOKEN", ADMIN)
                    .output()
                    .unwrap()
            })
            .await
            .unwrap()
        }
    };
    let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let (later, _) = at(3_600_000);
    let sent = cli(args(&[
        "send",
        "Doors open at six",
        "--title",
        "Doors",
        "--to",
        "chat:zoe",
        "--to",
        "sse",
        "--at",
        &later,
    ]))
    .await;
    let stdout = String::from_utf8_lossy(&sent.stdout).to_string();
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert!(stdout.contains("scheduled (2 deliveries)"), "{stdout}");
    let id = stdout.split_whitespace().next().unwrap().to_owned();
    let listed = cli(args(&["list", "--status", "scheduled"])).await;
    let listing = String::from_utf8_lossy(&listed.stdout).to_string();
    assert!(
        listing.contains(&id) && listing.contains("Doors"),
        "{listing}"
    );
    let shown = cli(args(&["show", &id])).await;
    let detail: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(detail["status"], "scheduled");
    assert_eq!(detail["request"]["recipients"][0]["to"], "zoe");
    let cancelled = cli(args(&["cancel", &id])).await;
    assert!(cancelled.status.success());
    let purged = cli(args(&["purge", "--status", "cancelled"])).await;
    assert_eq!(
        String::from_utf8_lossy(&purged.stdout),
        "1 cancelled message(s) purged\n"
    );
    let refused = cli(args(&["send", "x", "--to", "chat:a", "--at", "yesterday"])).await;
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("send_at"), "{stderr}");
    // Sent now: delivered.
    let now = cli(args(&["send", "Now", "--to", "chat:zoe"])).await;
    assert!(String::from_utf8_lossy(&now.stdout).contains("queued (1 deliveries)"));
    chat.wait_for(1, Duration::from_secs(5)).await;
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgresql_send_a_scheduled_message_once_on_time() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let (one, two) = (MemorySink::new(), MemorySink::new());
    let first = start(&db, &one).await;
    let second = start(&db, &two).await;
    let mut due = Vec::new();
    for (i, herald) in [&first, &second, &first, &second].into_iter().enumerate() {
        let (send_at, at_time) = at(1_500 + 300 * u64::try_from(i).unwrap());
        let (code, answer) = post(
            herald,
            SENDER,
            None,
            &json!({"body": format!("m{i}"), "send_at": send_at, "recipients": [{"sink": "chat", "to": "x"}]}),
        )
        .await;
        assert_eq!(code, 202, "{answer}");
        due.push(at_time);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while one.delivered().len() + two.delivered().len() < 4 {
        assert!(Instant::now() < deadline, "not all sent");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let last = SystemTime::now();
    assert!(
        last.duration_since(due[3]).unwrap() < Duration::from_secs(1),
        "the last one was late"
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut bodies: Vec<String> = one
        .delivered()
        .into_iter()
        .chain(two.delivered())
        .map(|(_, n)| n.title)
        .collect();
    bodies.sort();
    // A message without a title is its own headline.
    assert_eq!(bodies, ["📣 m0", "📣 m1", "📣 m2", "📣 m3"], "each once");
    first.shutdown().await;
    second.shutdown().await;
}
