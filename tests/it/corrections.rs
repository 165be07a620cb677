//! A goal that VAR takes back: Telegram and Slack edit the message they sent for it, sinks
//! that cannot edit (SSE) post the correction.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald::app::App;
use herald::config::{Config, RouteConfig};
use herald::model::{Clock, Incident, IncidentKind, MatchState, Phase, Score, Side, Team};
use herald::sources::{Cadence, Poll, Source, SourceError};
use serde_json::json;
use sink_api::Recipient;
use sink_api::testing::MemorySink;
use sink_slack::testing::FakeSlack;
use sink_telegram::testing::FakeTelegram;

use crate::db::TestDb;

/// Plays snapshots one poll at a time, then repeats the last one.
struct Scripted {
    states: Arc<Mutex<Vec<MatchState>>>,
}

impl Source for Scripted {
    async fn poll(&mut self) -> Result<Poll, SourceError> {
        let mut states = self.states.lock().unwrap();
        let state = if states.len() > 1 {
            states.remove(0)
        } else {
            states[0].clone()
        };
        Ok(Poll::on_cadence(vec![state]))
    }
}

fn state(minute: u16, score: (u16, u16), goal: bool) -> MatchState {
    MatchState {
        id: "var".into(),
        competition: Some("Friendly".into()),
        home: Team {
            id: "1".into(),
            name: "France".into(),
        },
        away: Team {
            id: "2".into(),
            name: "Croatia".into(),
        },
        kickoff: None,
        phase: Phase::FirstHalf,
        clock: Some(Clock::at(minute)),
        score: Score::new(score.0, score.1),
        pens: None,
        extra_time: false,
        winner: None,
        incidents: if goal {
            vec![Incident {
                at: None,
                key: "g1".into(),
                kind: IncidentKind::Goal,
                side: Some(Side::Home),
                player: Some("GIROUD".into()),
                period: Some(Phase::FirstHalf),
                clock: Some(Clock::at(20)),
                score_after: Some(Score::new(1, 0)),
                pens_after: None,
                detail: None,
                order: 1,
            }]
        } else {
            vec![]
        },
        venue: None,
        lineups: Default::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disallowed_goal_edits_chat_messages_and_is_posted_elsewhere() {
    let db = TestDb::sqlite();
    let telegram = FakeTelegram::start("1:tg").await;
    let slack = FakeSlack::start("xoxb-1").await;
    let config = Config::from_value(json!({
        "store": { "url": db.url },
        "http": { "enabled": false },
        "detect": { "backlog": "notify" },
        "sources": {},
        "sinks": {
            "telegram": {"token": "1:tg", "endpoint": telegram.endpoint(), "chats": ["42"], "commands": false, "per_chat_per_second": 100},
            "slack": {"bot_token": "xoxb-1", "signing_secret": "s", "endpoint": slack.endpoint(), "channels": ["C1"], "per_channel_per_second": 100},
        },
    }))
    .unwrap();
    let steps = Arc::new(Mutex::new(vec![
        state(10, (0, 0), false),
        state(21, (1, 0), true),
        state(24, (0, 0), false),
    ]));
    let memory = MemorySink::new();
    let cadence = Cadence {
        interval_live: Duration::from_millis(300),
        ..Cadence::default()
    };
    let app = App::builder(config)
        .source(
            "script",
            Scripted {
                states: Arc::clone(&steps),
            },
            cadence,
        )
        .sink("memory", memory.clone(), &RouteConfig::default())
        .build()
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run(async move {
        let _stopped = stopped.await;
    }));

    // kick-off, goal, disallowed
    let delivered = memory.wait_for(3, Duration::from_secs(10)).await;
    let kinds: Vec<&str> = delivered.iter().map(|(_, n)| n.kind.as_str()).collect();
    assert_eq!(kinds, ["kick_off", "goal", "goal_disallowed"]);
    let correction = &delivered[2].1;
    let replaces = correction.replaces.as_ref().unwrap();
    assert_eq!(replaces.event_id, "script:var:g1");
    assert_eq!(
        replaces.original_title.as_deref(),
        Some("⚽ GOAL! France 1-0 Croatia")
    );

    let sent = telegram.wait_sent(3, Duration::from_secs(10)).await;
    assert_eq!(
        sent.iter().map(|s| s.method.as_str()).collect::<Vec<_>>(),
        ["sendMessage", "sendMessage", "editMessageText"]
    );
    assert_eq!(
        sent[2].message_id, sent[1].message_id,
        "the goal's message is the one edited"
    );
    assert!(
        sent[2].text.starts_with(
            "<s>⚽ GOAL! France 1-0 Croatia</s>\n<b>🚫 Goal disallowed: France (GIROUD)</b>"
        ),
        "{}",
        sent[2].text
    );

    let posted = slack.wait_posted(3, Duration::from_secs(10)).await;
    assert_eq!(
        posted.iter().map(|p| p.method.as_str()).collect::<Vec<_>>(),
        ["chat.postMessage", "chat.postMessage", "chat.update"]
    );
    assert_eq!(posted[2].ts, posted[1].ts);
    assert_eq!(posted[2].channel, "C1");

    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
    assert_eq!(delivered[0].0, Recipient::broadcast());
}
