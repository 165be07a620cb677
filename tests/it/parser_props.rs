//! Properties of the provider parsers and the push schema: whatever JSON a provider (or a
//! producer) sends, they never panic. Two kinds of input: a real fixture step whose bodies
//! have random values put at random places (the real keys with wrong, missing, huge,
//! negative or mistyped values), and bodies that are random JSON trees whose keys are mostly
//! the provider's real ones. Both go through the entry points the fuzz targets use.

use std::sync::LazyLock;

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value, json};

/// A fixture's steps, parsed.
fn steps(format: &str, fixture: &str) -> Vec<Value> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(format)
        .join(fixture)
        .join("steps");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
        .collect()
}

/// Every key used anywhere in `values`: the provider's vocabulary.
fn keys(values: &[Value]) -> Vec<String> {
    fn walk(value: &Value, out: &mut std::collections::BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    out.insert(k.clone());
                    walk(v, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = std::collections::BTreeSet::new();
    values.iter().for_each(|v| walk(v, &mut out));
    out.into_iter().collect()
}

/// One provider: its fixture steps, its keys and its fuzz entry point.
struct Provider {
    steps: Vec<Value>,
    keys: Vec<String>,
    entry: fn(&[u8]),
}

fn provider(format: &str, fixture: &str, entry: fn(&[u8])) -> Provider {
    let steps = steps(format, fixture);
    let keys = keys(&steps);
    Provider { steps, keys, entry }
}

static FIFA: LazyLock<Provider> =
    LazyLock::new(|| provider("fifa", "2018-wc-final-fra-cro", herald::fuzzing::fifa));
static LIVESCORE: LazyLock<Provider> = LazyLock::new(|| {
    provider(
        "livescore",
        "2014-wc-sf-bra-ger",
        herald::fuzzing::livescore,
    )
});
static FOOTBALL_DATA: LazyLock<Provider> = LazyLock::new(|| {
    provider(
        "football-data",
        "2018-wc-final-fra-cro",
        herald::fuzzing::football_data,
    )
});
static API_FOOTBALL: LazyLock<Provider> = LazyLock::new(|| {
    provider(
        "api-football",
        "2014-wc-sf-bra-ger",
        herald::fuzzing::api_football,
    )
});

/// Numbers at the edges of every integer type, codes the providers use, and fractions.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec![
            0_i64,
            1,
            -1,
            2,
            3,
            7,
            11,
            26,
            34,
            45,
            90,
            120,
            255,
            256,
            65_535,
            65_536,
            i64::from(i32::MAX),
            i64::MAX,
            i64::MIN,
        ])
        .prop_map(|n| json!(n)),
        any::<i64>().prop_map(|n| json!(n)),
        Just(json!(u64::MAX)),
        prop::num::f64::NORMAL.prop_map(|f| json!(f)),
    ]
}

/// Texts the providers send (statuses, clocks, scores, dates) and ones they should not.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            "0",
            "-1",
            "90+4",
            "45'",
            "90'+5'",
            "120+",
            "+",
            "'",
            "? - ?",
            "2 - 1",
            "1-",
            "99999999999999999999",
            "FT",
            "HT",
            "NS",
            "ET",
            "PEN",
            "AET",
            "2H",
            "P",
            "BT",
            "IN_PLAY",
            "PAUSED",
            "FINISHED",
            "LIVE",
            "GOAL",
            "OWN_GOAL",
            "h",
            "a",
            "HOME_TEAM",
            "AWAY_TEAM",
            "REGULAR",
            "PENALTY",
            "OWN",
            "Goal",
            "Card",
            "Yellow Card",
            "Red Card",
            "Penalty",
            "Missed Penalty",
            "Own Goal",
            "2018-07-15T15:00:00Z",
            "2018-07-15T15:00:00.123+02:00",
            "9999-12-31T23:59:59Z",
            "0000-01-01T00:00:00Z",
            "not a date",
            "ü",
            "日本",
            "👨‍👩‍👧‍👦",
            "\u{0}",
        ])
        .prop_map(str::to_owned),
        ".{0,12}",
    ]
}

/// Any JSON value but a container.
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        2 => number(),
        2 => text().prop_map(Value::String),
    ]
}

/// A JSON tree whose object keys are mostly `keys` (the provider's own).
fn tree(keys: Vec<String>) -> impl Strategy<Value = Value> {
    let key = prop_oneof![4 => prop::sample::select(keys), 1 => "[A-Za-z_]{1,10}"];
    leaf().prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A change to a JSON document, at a node picked uniformly among all of its nodes: give it
/// another value of its own type (so the body still decodes and the code behind the decoding
/// runs: most changes), replace it with any value or a tree, remove it, or make it a string or
/// an array of itself.
#[derive(Debug, Clone)]
enum Change {
    Like {
        text: String,
        number: Value,
        flag: bool,
    },
    Replace(Value),
    Remove,
    Stringify,
    Wrap,
}

fn change(keys: Vec<String>) -> impl Strategy<Value = (Index, Change)> {
    (
        any::<Index>(),
        prop_oneof![
            8 => (text(), number(), any::<bool>())
                .prop_map(|(text, number, flag)| Change::Like { text, number, flag }),
            4 => leaf().prop_map(Change::Replace),
            2 => tree(keys).prop_map(Change::Replace),
            2 => Just(Change::Remove),
            1 => Just(Change::Stringify),
            1 => Just(Change::Wrap),
        ],
    )
}

/// The JSON pointers of every node under `value` (the root excepted).
fn pointers(value: &Value, at: &str, out: &mut Vec<String>) {
    let children: Vec<(String, &Value)> = match value {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| (k.replace('~', "~0").replace('/', "~1"), v))
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => Vec::new(),
    };
    for (key, child) in children {
        let pointer = format!("{at}/{key}");
        pointers(child, &pointer, out);
        out.push(pointer);
    }
}

/// Applies `change` at the node `which` picks.
fn apply(value: &mut Value, which: Index, change: &Change) {
    let mut all = Vec::new();
    pointers(value, "", &mut all);
    if all.is_empty() {
        if let Change::Replace(with) = change {
            *value = with.clone();
        }
        return;
    }
    let pointer = &all[which.index(all.len())];
    if let Change::Remove = change {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let key = key.replace("~1", "/").replace("~0", "~");
        match value.pointer_mut(parent).unwrap() {
            Value::Object(map) => {
                map.remove(&key);
            }
            Value::Array(items) => {
                items.remove(key.parse().unwrap());
            }
            _ => unreachable!("a parent holds children"),
        }
        return;
    }
    let node = value.pointer_mut(pointer).unwrap();
    *node = match change {
        Change::Like { text, number, flag } => match node {
            Value::String(_) => Value::String(text.clone()),
            Value::Number(_) => number.clone(),
            Value::Bool(_) => Value::Bool(*flag),
            _ => return,
        },
        Change::Replace(with) => with.clone(),
        Change::Remove => unreachable!("removed above"),
        Change::Stringify => Value::String(node.to_string()),
        Change::Wrap => Value::Array(vec![node.take()]),
    };
}

/// A step of `provider` with changes made inside its response bodies.
fn mutated_step(provider: &'static Provider) -> impl Strategy<Value = Vec<u8>> {
    (
        any::<Index>(),
        prop::collection::vec((any::<Index>(), change(provider.keys.clone())), 1..24),
    )
        .prop_map(move |(step, changes)| {
            let mut step = provider.steps[step.index(provider.steps.len())].clone();
            if let Some(responses) = step["responses"].as_object_mut() {
                let requests: Vec<String> = responses.keys().cloned().collect();
                for (response, (node, change)) in &changes {
                    let request = &requests[response.index(requests.len())];
                    apply(&mut responses[request]["body"], *node, change);
                }
            }
            serde_json::to_vec(&step).unwrap()
        })
}

/// A step of `provider` whose bodies are replaced by random trees of its keys.
fn random_step(provider: &'static Provider) -> impl Strategy<Value = Vec<u8>> {
    (
        any::<Index>(),
        prop::collection::vec(tree(provider.keys.clone()), 1..4),
    )
        .prop_map(move |(step, bodies)| {
            let mut step = provider.steps[step.index(provider.steps.len())].clone();
            if let Some(responses) = step["responses"].as_object_mut() {
                for (response, body) in responses.values_mut().zip(bodies) {
                    response["body"] = body;
                }
            }
            serde_json::to_vec(&step).unwrap()
        })
}

/// The README's pushed snapshot, with every optional part filled in.
fn push_example() -> Value {
    json!({"source": "newsroom", "match": {
        "id": "derby-1", "sequence": 7, "competition": "Town League",
        "home": {"id": "nf", "name": "Northfield", "lineup": {"formation": "4-4-2", "coach": "C",
            "starting": [{"name": "A", "number": 1, "position": "goalkeeper", "captain": true}],
            "bench": [{"name": "B", "number": 12}]}},
        "away": {"name": "Southbury"}, "venue": {"name": "Ground", "city": "Town"},
        "kickoff": "2026-05-01T15:00:00Z", "phase": "2H", "minute": 63, "extra": 2,
        "score": {"home": 1, "away": 0}, "penalties": {"home": 0, "away": 0},
        "extra_time": false, "winner": "home",
        "incidents": [{"id": "e-17", "type": "goal", "side": "home", "player": "A. Striker",
            "minute": 58, "extra": 1, "period": "2H", "score": {"home": 1, "away": 0},
            "penalties": {"home": 0, "away": 0}, "detail": "saved"}]}})
}

fn push_keys() -> Vec<String> {
    keys(&[push_example()])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn fifa_never_panics_on_changed_steps(step in mutated_step(&FIFA)) {
        (FIFA.entry)(&step);
    }

    #[test]
    fn fifa_never_panics_on_random_bodies(step in random_step(&FIFA)) {
        (FIFA.entry)(&step);
    }

    #[test]
    fn livescore_never_panics_on_changed_steps(step in mutated_step(&LIVESCORE)) {
        (LIVESCORE.entry)(&step);
    }

    #[test]
    fn livescore_never_panics_on_random_bodies(step in random_step(&LIVESCORE)) {
        (LIVESCORE.entry)(&step);
    }

    #[test]
    fn football_data_never_panics_on_changed_steps(step in mutated_step(&FOOTBALL_DATA)) {
        (FOOTBALL_DATA.entry)(&step);
    }

    #[test]
    fn football_data_never_panics_on_random_bodies(step in random_step(&FOOTBALL_DATA)) {
        (FOOTBALL_DATA.entry)(&step);
    }

    #[test]
    fn api_football_never_panics_on_changed_steps(step in mutated_step(&API_FOOTBALL)) {
        (API_FOOTBALL.entry)(&step);
    }

    #[test]
    fn api_football_never_panics_on_random_bodies(step in random_step(&API_FOOTBALL)) {
        (API_FOOTBALL.entry)(&step);
    }

    #[test]
    fn the_push_schema_never_panics_on_changed_snapshots(
        changes in prop::collection::vec(change(push_keys()), 1..12),
    ) {
        let mut push = push_example();
        for (node, change) in &changes {
            apply(&mut push, *node, change);
        }
        herald::fuzzing::push_schema(&serde_json::to_vec(&push).unwrap());
    }

    #[test]
    fn the_push_schema_never_panics_on_random_trees(push in tree(push_keys())) {
        herald::fuzzing::push_schema(&serde_json::to_vec(&push).unwrap());
    }
}
