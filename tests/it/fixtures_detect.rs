//! Every fixture, replayed through its provider parser and detection (no store, no HTTP):
//! the events are exactly the fixture's expected notifications, each at the step where it
//! first becomes observable.

use std::collections::HashMap;
use std::time::Duration;

use herald::detect::{Tracked, detect};
use herald::sources::Source;
use herald::sources::replay::{Config, ReplaySource};

use crate::expected::{Expected, Got, check, fixture_dirs};

#[tokio::test]
async fn every_fixture_detects_exactly_its_expected_notifications() {
    for dir in fixture_dirs() {
        let expected = Expected::load(&dir);
        let mut replay = ReplaySource::open(Config {
            path: dir.clone(),
            speed: 1e9,
            max_gap: Duration::ZERO,
            repeat: false,
        })
        .unwrap();
        let mut tracked: HashMap<String, Tracked> = HashMap::new();
        let mut got = Vec::new();
        let mut at_step = HashMap::new();
        for step in 0..replay.steps() {
            let poll = replay.poll().await.unwrap();
            for state in poll.snapshot.matches {
                let (next, events) = detect(tracked.get(&state.id), state);
                for event in events {
                    at_step.insert(event.id.clone(), step);
                    got.push(
                        serde_json::from_value::<Got>(serde_json::to_value(&event).unwrap())
                            .unwrap(),
                    );
                }
                tracked.insert(next.state.id.clone(), next);
            }
        }
        let problems = check(&expected, &got);
        assert!(
            problems.is_empty(),
            "{}:\n{}",
            dir.display(),
            problems.join("\n")
        );
        for want in &expected.notifications {
            let hit = got
                .iter()
                .find(|g| g.kind == want.kind && g.score == Some(want.score) && g.team == want.team)
                .unwrap();
            assert_eq!(
                at_step[&hit.id],
                want.first_observable_step,
                "{}: {} notified late or early",
                dir.display(),
                want.id
            );
        }
    }
}
