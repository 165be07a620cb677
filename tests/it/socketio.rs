//! The Socket.IO rooms with the reference JavaScript client, over WebSocket and HTTP
//! long-polling: who sees which `status`, `message` and `notification`; the limits; and rooms
//! spanning two herald processes on PostgreSQL.

use std::net::SocketAddr;

use serde_json::{Value, json};

use crate::db::TestDb;
use crate::harness::{Herald, push_snapshot};
use crate::process::{Process, free_port};
use crate::sio_client::SioClient;

const PRODUCER: &str = "producer-token-0123456789";
const TALK: &str = "talk-token-0123456789";

fn config(db: &TestDb, socketio: &Value) -> Value {
    json!({
        "store": { "url": db.url },
        "http": { "tokens": [{"name": "producer", "token": PRODUCER, "scopes": ["ingest"]}] },
        "sources": { "town": { "type": "push" } },
        "sinks": { "rooms": socketio },
    })
}

/// A snapshot of match `id` in the first half with `goals` for the home side.
fn snapshot(id: &str, home: &str, goals: usize) -> Value {
    let incidents: Vec<Value> = (0..goals)
        .map(|i| json!({"id": format!("g{i}"), "type": "goal", "side": "home", "player": "A. Striker", "minute": 10 + i}))
        .collect();
    json!({"match": {
        "id": id, "competition": "Town League",
        "home": {"name": home}, "away": {"name": "Southbury"},
        "kickoff": "2026-05-01T15:00:00Z", "phase": "1H", "minute": 20,
        "score": {"home": goals, "away": 0}, "incidents": incidents,
    }})
}

async fn push(addr: SocketAddr, body: &Value) {
    push_snapshot(&format!("http://{addr}"), PRODUCER, body).await;
}

/// `(kind, match id)` of each notification.
fn kinds(notifications: &[Value]) -> Vec<(String, String)> {
    notifications
        .iter()
        .map(|n| {
            (
                n["kind"].as_str().unwrap().to_owned(),
                n["match_id"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_in_a_room_and_one_in_another_see_exactly_their_rooms_over_both_transports() {
    let db = TestDb::sqlite();
    let herald = Herald::start(config(&db, &json!({"type": "socketio"})), vec![]).await;
    for transport in ["websocket", "polling"] {
        let m1 = format!("{transport}-1");
        let m2 = format!("{transport}-2");
        let mut ana = SioClient::connect(herald.addr, transport, None).await;
        let mut bo = SioClient::connect(herald.addr, transport, None).await;
        let mut cy = SioClient::connect(herald.addr, transport, None).await;
        let mut fan = SioClient::connect(herald.addr, transport, None).await;
        assert_eq!(ana.transport().as_deref(), Some(transport));

        ana.emit(
            "joined",
            json!({"room": format!("match:town:{m1}"), "name": "Ana"}),
        )
        .await;
        ana.wait_said("status: Ana has entered the room.").await;
        bo.emit(
            "joined",
            json!({"room": format!("match:town:{m1}"), "name": "Bo"}),
        )
        .await;
        ana.wait_said("status: Bo has entered the room.").await;
        cy.emit(
            "joined",
            json!({"room": format!("match:town:{m2}"), "name": "Cy"}),
        )
        .await;
        cy.wait_said("status: Cy has entered the room.").await;
        fan.emit("joined", json!({"room": "team:NORTHFIELD", "name": "Fan"}))
            .await;
        fan.wait_said("status: Fan has entered the room.").await;

        // Text is text: markup reaches the others as typed, never as HTML.
        ana.emit("text", json!({"msg": "<b>Allez</b> & go"})).await;
        bo.wait_said("message: Ana: <b>Allez</b> & go").await;
        cy.emit("text", json!({"msg": "anyone?"})).await;
        cy.wait_said("message: Cy: anyone?").await;

        // A goal in the first match reaches its room and the home team's, not the other match's.
        push(herald.addr, &snapshot(&m1, "Northfield", 1)).await;
        ana.wait_notifications(2).await;
        bo.wait_notifications(2).await;
        fan.wait_notifications(2).await;
        push(herald.addr, &snapshot(&m2, "Eastwick", 1)).await;
        cy.wait_notifications(2).await;

        bo.emit("left", json!({})).await;
        ana.wait_said("status: Bo has left the room.").await;
        // What each saw, and nothing else (the last line of each proves the earlier ones
        // came in time; a stray line would have arrived before it).
        cy.emit("text", json!({"msg": "bye"})).await;
        cy.wait_said("message: Cy: bye").await;

        let m1_kinds = vec![
            ("kick_off".to_owned(), format!("town:{m1}")),
            ("goal".to_owned(), format!("town:{m1}")),
        ];
        let m2_kinds = vec![
            ("kick_off".to_owned(), format!("town:{m2}")),
            ("goal".to_owned(), format!("town:{m2}")),
        ];
        assert_eq!(
            ana.said(),
            [
                "status: Ana has entered the room.",
                "status: Bo has entered the room.",
                "message: Ana: <b>Allez</b> & go",
                "status: Bo has left the room.",
            ],
            "{transport}"
        );
        assert_eq!(
            bo.said(),
            [
                "status: Bo has entered the room.",
                "message: Ana: <b>Allez</b> & go",
            ],
            "{transport}: the one who left does not hear it"
        );
        assert_eq!(
            cy.said(),
            [
                "status: Cy has entered the room.",
                "message: Cy: anyone?",
                "message: Cy: bye",
            ],
            "{transport}"
        );
        assert_eq!(fan.said(), ["status: Fan has entered the room."]);
        assert_eq!(kinds(&ana.notifications()), m1_kinds, "{transport}");
        assert_eq!(kinds(&bo.notifications()), m1_kinds, "{transport}");
        assert_eq!(kinds(&fan.notifications()), m1_kinds, "{transport}");
        assert_eq!(kinds(&cy.notifications()), m2_kinds, "{transport}");
        // The same JSON as the SSE stream's data.
        let goal = &ana.notifications()[1];
        assert_eq!(goal["teams"], json!(["Northfield", "Southbury"]));
        assert!(
            goal["id"].as_i64().is_some() && goal["title"].is_string(),
            "{goal}"
        );
        for client in [ana, bo, cy, fan] {
            client.close().await;
        }
    }
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_texts_rates_tokens_and_the_client_cap_are_enforced() {
    let db = TestDb::sqlite();
    let herald = Herald::start(
        config(
            &db,
            &json!({"type": "socketio", "token": TALK, "max_clients": 3}),
        ),
        vec![],
    )
    .await;
    let mut talker =
        SioClient::connect(herald.addr, "websocket", Some(json!({"token": TALK}))).await;
    let mut reader = SioClient::connect(herald.addr, "polling", None).await;
    let mut wrong =
        SioClient::connect(herald.addr, "websocket", Some(json!({"token": "guess"}))).await;

    for (who, client) in [("talker", &talker), ("reader", &reader), ("wrong", &wrong)] {
        assert_eq!(client.refusal(), None, "{who} is one of the first three");
    }
    // The fourth client is refused, saying why.
    let refused = SioClient::connect(herald.addr, "websocket", None).await;
    let why = refused.refusal().expect("refused");
    assert!(why.contains("maximum of 3 clients"), "{why}");
    refused.close().await;

    talker.emit("text", json!({"msg": "too early"})).await;
    talker.wait_said("status: Join a room first.").await;
    talker
        .emit("joined", json!({"room": "all", "name": "x".repeat(33)}))
        .await;
    talker
        .wait_said("status: Choose a name of 1 to 32 characters.")
        .await;
    talker
        .emit("joined", json!({"room": "lobby", "name": "Tal"}))
        .await;
    talker
        .wait_said("status: Cannot join: rooms are all, match:<id>, team:<name> and topic:<topic>.")
        .await;
    // One after the other: different sockets' messages are handled in parallel, so a join
    // sent at the same time as another may be handled first and not be heard by it.
    talker
        .emit("joined", json!({"room": "all", "name": "Tal"}))
        .await;
    talker.wait_said("status: Tal has entered the room.").await;
    reader
        .emit("joined", json!({"room": "all", "name": "Rea"}))
        .await;
    talker.wait_said("status: Rea has entered the room.").await;
    wrong
        .emit("joined", json!({"room": "all", "name": "Wro"}))
        .await;
    talker.wait_said("status: Wro has entered the room.").await;

    // Without the token (or with a wrong one), reading but no talking.
    reader.emit("text", json!({"msg": "hello"})).await;
    reader
        .wait_said("status: Sending messages needs a token.")
        .await;
    wrong.emit("text", json!({"msg": "hello"})).await;
    wrong
        .wait_said("status: Sending messages needs a token.")
        .await;

    talker.emit("text", json!({"msg": "y".repeat(501)})).await;
    talker
        .wait_said("status: A message is 1 to 500 characters of text.")
        .await;
    // Five texts in ten seconds; the sixth is refused, to its sender only.
    for i in 0..6 {
        talker.emit("text", json!({"msg": format!("n{i}")})).await;
    }
    talker
        .wait_said("status: Slow down: at most 5 messages per 10 s. This one was not sent.")
        .await;
    reader.wait_said("message: Tal: n4").await;
    let heard: Vec<String> = reader
        .said()
        .into_iter()
        .filter(|s| s.starts_with("message:"))
        .collect();
    assert_eq!(
        heard,
        [
            "message: Tal: n0",
            "message: Tal: n1",
            "message: Tal: n2",
            "message: Tal: n3",
            "message: Tal: n4"
        ]
    );
    assert!(
        !reader.said().iter().any(|s| s.contains("Slow down")),
        "the warning is for the sender alone"
    );
    let last = talker.said();
    assert_eq!(
        &last[last.len() - 6..],
        [
            "message: Tal: n0",
            "message: Tal: n1",
            "message: Tal: n2",
            "message: Tal: n3",
            "message: Tal: n4",
            "status: Slow down: at most 5 messages per 10 s. This one was not sent.",
        ],
        "in the order sent"
    );

    // A client gone without `left` leaves all the same, and frees its place.
    wrong.close().await;
    talker.wait_said("status: Wro has left the room.").await;
    let again = SioClient::connect(herald.addr, "websocket", None).await;
    assert_eq!(again.refusal(), None);
    for client in [talker, reader, again] {
        client.close().await;
    }
    herald.shutdown().await;
}

/// Two herald processes sharing PostgreSQL: a room's talk and its notifications reach the
/// clients of both, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_span_two_instances_on_postgresql() {
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
                "[http]\nlisten = \"127.0.0.1:{port}\"\n\n\
                 [[http.tokens]]\nname = \"producer\"\ntoken = {PRODUCER:?}\nscopes = [\"ingest\"]\n\n\
                 [store]\nurl = {url:?}\n\n[sources.town]\ntype = \"push\"\n\n\
                 [sinks.rooms]\ntype = \"socketio\"\n",
                url = db.url
            ),
        )
        .unwrap();
        let log = dir.path().join(format!("herald-{i}.log"));
        instances.push(Process::start(&path, port, &log, None).await);
    }
    let mut one = SioClient::connect(instances[0].addr(), "websocket", None).await;
    let mut two = SioClient::connect(instances[1].addr(), "polling", None).await;
    one.emit("joined", json!({"room": "match:town:derby", "name": "One"}))
        .await;
    one.wait_said("status: One has entered the room.").await;
    two.emit("joined", json!({"room": "match:town:derby", "name": "Two"}))
        .await;
    one.wait_said("status: Two has entered the room.").await;
    one.emit("text", json!({"msg": "from the first"})).await;
    two.wait_said("message: One: from the first").await;
    two.emit("text", json!({"msg": "from the second"})).await;
    one.wait_said("message: Two: from the second").await;

    push(instances[0].addr(), &snapshot("derby", "Northfield", 1)).await;
    one.wait_notifications(2).await;
    two.wait_notifications(2).await;
    let want = vec![
        ("kick_off".to_owned(), "town:derby".to_owned()),
        ("goal".to_owned(), "town:derby".to_owned()),
    ];
    assert_eq!(kinds(&one.notifications()), want);
    assert_eq!(kinds(&two.notifications()), want);
    assert_eq!(
        one.notifications()[1]["id"],
        two.notifications()[1]["id"],
        "the same id on both instances"
    );
    assert_eq!(
        two.said(),
        [
            "status: Two has entered the room.",
            "message: One: from the first",
            "message: Two: from the second",
        ],
        "each line once"
    );
    one.close().await;
    two.close().await;
    for process in instances {
        process.terminate().await;
    }
    db.cleanup().await;
}
