//! Reads a fixture's `expected.json` and checks emitted notifications against it: every
//! required entry exactly once, nothing extra, nothing forbidden.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

/// The fixtures to replay: the shared set when present (the source of truth), else the copy
/// in this repository.
pub(crate) fn fixture_dirs() -> Vec<PathBuf> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures");
    let root = if shared.is_dir() {
        shared
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
    };
    let mut dirs = Vec::new();
    for format in std::fs::read_dir(&root).unwrap() {
        let format = format.unwrap().path();
        if !format.is_dir() {
            continue;
        }
        for fixture in std::fs::read_dir(&format).unwrap() {
            let fixture = fixture.unwrap().path();
            if fixture.join("expected.json").is_file() {
                dirs.push(fixture);
            }
        }
    }
    dirs.sort();
    assert!(!dirs.is_empty(), "no fixtures under {}", root.display());
    dirs
}

#[derive(Debug, Deserialize)]
pub(crate) struct Expected {
    pub(crate) notifications: Vec<ExpectedNotification>,
    #[serde(default)]
    pub(crate) forbidden: Vec<Forbidden>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ExpectedNotification {
    pub(crate) id: String,
    pub(crate) kind: String,
    pub(crate) minute: Option<i64>,
    pub(crate) team: Option<String>,
    pub(crate) player: Option<String>,
    pub(crate) player_feed_name: Option<String>,
    pub(crate) score: Score,
    pub(crate) first_observable_step: usize,
    pub(crate) required: bool,
    #[serde(default)]
    pub(crate) winner: Option<String>,
    /// How other feeds of the same match spell the player (several sources replayed as one).
    #[serde(skip)]
    pub(crate) also_spelled: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) struct Score {
    pub(crate) home: i64,
    pub(crate) away: i64,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Forbidden {
    pub(crate) kind: String,
    pub(crate) player: Option<String>,
    pub(crate) team: Option<String>,
    pub(crate) minute: Option<i64>,
    pub(crate) reason: String,
}

impl Expected {
    pub(crate) fn load(dir: &Path) -> Self {
        let text = std::fs::read_to_string(dir.join("expected.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// The expectations of one match recorded in several formats (the same entries, in the
    /// same order), with every format's spelling of each player.
    pub(crate) fn merged(dirs: &[PathBuf]) -> Self {
        let mut all = dirs.iter().map(|d| Self::load(d));
        let mut merged = all.next().unwrap();
        for other in all {
            assert_eq!(other.notifications.len(), merged.notifications.len());
            for (mine, theirs) in merged.notifications.iter_mut().zip(other.notifications) {
                assert_eq!((&mine.kind, mine.minute), (&theirs.kind, theirs.minute));
                mine.also_spelled.extend(theirs.player_feed_name);
            }
        }
        merged
    }
}

/// A notification as emitted: the `data` of an SSE event, or a detected event.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Got {
    pub(crate) id: String,
    pub(crate) kind: String,
    pub(crate) minute: Option<i64>,
    pub(crate) team: Option<String>,
    pub(crate) player: Option<String>,
    pub(crate) score: Option<Score>,
    #[serde(default)]
    pub(crate) winner: Option<String>,
}

/// Lower-case ASCII letters and digits only, accents removed: `Mandžukić` → `mandzukic`.
fn fold(name: &str) -> String {
    name.nfd()
        .filter(char::is_ascii)
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase()
}

fn same_player(got: Option<&str>, want: &ExpectedNotification) -> bool {
    match (got, &want.player) {
        (None, None) => true,
        (Some(got), Some(_)) => {
            let got = fold(got);
            [&want.player, &want.player_feed_name]
                .into_iter()
                .flatten()
                .chain(&want.also_spelled)
                .any(|name| fold(name) == got)
        }
        _ => false,
    }
}

fn matches(got: &Got, want: &ExpectedNotification) -> bool {
    got.kind == want.kind
        && got.team == want.team
        && same_player(got.player.as_deref(), want)
        && got.score == Some(want.score)
        && match (got.minute, want.minute) {
            (Some(g), Some(w)) => (g - w).abs() <= 1,
            (None, None) => true,
            _ => false,
        }
        && (want.winner.is_none() || got.winner == want.winner)
}

/// Checks `got` against the fixture. Returns the problems found, empty when all is right.
pub(crate) fn check(expected: &Expected, got: &[Got]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut used = vec![false; got.len()];
    for want in &expected.notifications {
        let hits: Vec<usize> = (0..got.len()).filter(|&i| matches(&got[i], want)).collect();
        match hits.len() {
            0 if want.required => problems.push(format!("missing {} {:?}", want.id, want)),
            0 => {}
            1 => used[hits[0]] = true,
            _ => {
                problems.push(format!(
                    "{} emitted {} times: {:?}",
                    want.id,
                    hits.len(),
                    hits.iter().map(|&i| &got[i]).collect::<Vec<_>>()
                ));
                for i in hits {
                    used[i] = true;
                }
            }
        }
    }
    for (i, g) in got.iter().enumerate() {
        if used[i] {
            continue;
        }
        problems.push(format!("unexpected notification {g:?}"));
        for f in &expected.forbidden {
            let hit = g.kind == f.kind
                && f.player.as_deref().is_none_or(|p| {
                    g.player
                        .as_deref()
                        .is_some_and(|gp| fold(gp) == fold(p) || fold(p).ends_with(&fold(gp)))
                })
                && f.team.as_ref().is_none_or(|t| g.team.as_ref() == Some(t))
                && f.minute.is_none_or(|m| g.minute == Some(m));
            if hit {
                problems.push(format!("forbidden notification {g:?}: {}", f.reason));
            }
        }
    }
    let mut ids: Vec<&str> = got.iter().map(|g| g.id.as_str()).collect();
    ids.sort_unstable();
    for pair in ids.windows(2) {
        if pair[0] == pair[1] {
            problems.push(format!("event id {} delivered twice", pair[0]));
        }
    }
    problems
}

/// Whether every required entry observable by `step` has been emitted.
pub(crate) fn observed_by(expected: &Expected, got: &[Got], step: usize) -> bool {
    expected
        .notifications
        .iter()
        .filter(|w| w.required && w.first_observable_step <= step)
        .all(|w| got.iter().any(|g| matches(g, w)))
}
