//! `config.toml.example` cannot rot: it loads as shipped, every commented key is valid when
//! uncommented, the defaults it states are the code's defaults, and every key is documented.

use std::collections::BTreeMap;
use std::path::Path;

use herald::config::{Config, DispatchConfig, SinkKind, SourceKind, StoreConfig};

fn example() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml.example"))
        .unwrap()
}

/// Every `# key = value` and `# [table]` line made live.
fn uncommented(text: &str) -> String {
    text.lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest)
                if rest.starts_with('[')
                    || rest.split_once(" = ").is_some_and(|(k, _)| {
                        k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    }) =>
            {
                rest
            }
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn env() -> BTreeMap<String, String> {
    [
        ("HERALD_ADMIN_TOKEN", "an-admin-token-of-some-length"),
        ("LIVESCORE_KEY", "k"),
        ("LIVESCORE_SECRET", "s"),
        ("FOOTBALL_DATA_TOKEN", "t"),
        ("API_FOOTBALL_KEY", "a"),
        ("TELEGRAM_BOT_TOKEN", "1:t"),
        ("SLACK_BOT_TOKEN", "xoxb-1"),
        ("SLACK_SIGNING_SECRET", "s"),
        ("DISCORD_BOT_TOKEN", "d"),
        (
            "DISCORD_PUBLIC_KEY",
            "2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn load(text: &str) -> Config {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("herald.toml");
    std::fs::write(&path, text).unwrap();
    Config::load(Some(&path), env()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_example_loads_as_shipped() {
    let config = load(&example());
    assert!(config.sources.contains_key("demo"));
    assert!(config.sinks.contains_key("sse"));
}

#[test]
fn every_documented_key_is_valid_and_states_the_real_default() {
    let config = load(&uncommented(&example()));
    assert_eq!(
        config.http.listen,
        herald::config::HttpConfig::default().listen
    );
    assert!(config.http.enabled);
    let store = StoreConfig::default();
    assert_eq!(
        (
            config.store.url.as_str(),
            config.store.max_connections,
            config.store.lease_ttl
        ),
        (store.url.as_str(), store.max_connections, store.lease_ttl)
    );
    let d = DispatchConfig::default();
    let got = &config.dispatch;
    assert_eq!(
        (
            got.max_attempts,
            got.backoff_base,
            got.backoff_max,
            got.send_timeout,
            got.max_in_flight,
            got.claim_ttl,
            got.shutdown_grace
        ),
        (
            d.max_attempts,
            d.backoff_base,
            d.backoff_max,
            d.send_timeout,
            d.max_in_flight,
            d.claim_ttl,
            d.shutdown_grace
        )
    );
    assert_eq!(config.render.default_locale, "en");
    let SourceKind::Replay(replay) = &config.sources["demo"].kind else {
        panic!("demo is a replay")
    };
    assert_eq!(*replay, herald::sources::replay::Config::default());
    assert_eq!(
        config.sources["fifa"].cadence,
        herald::sources::Cadence::default()
    );
    let SourceKind::FootballData(fd) = &config.sources["football_data"].kind else {
        panic!()
    };
    assert_eq!(
        fd.requests_per_minute,
        herald::sources::football_data::DEFAULT_REQUESTS_PER_MINUTE
    );
    let SourceKind::ApiFootball(af) = &config.sources["api_football"].kind else {
        panic!()
    };
    assert_eq!(
        af.requests_per_minute,
        herald::sources::api_football::DEFAULT_REQUESTS_PER_MINUTE
    );
    let SinkKind::Sse(sse) = &config.sinks["sse"].kind else {
        panic!()
    };
    assert_eq!(*sse, sink_sse::Config::default());
    let SinkKind::Console(console) = &config.sinks["console"].kind else {
        panic!()
    };
    assert_eq!(*console, sink_console::Config::default());
    assert_eq!(config.sources.len(), 5);
}

#[test]
fn every_key_is_documented() {
    let text = example();
    let keys = [
        // [http] [store] [detect] [render] [dispatch]
        "enabled",
        "listen",
        "admin_token",
        "url",
        "max_connections",
        "lease_ttl",
        "backlog",
        "default_locale",
        "templates_dir",
        "max_attempts",
        "backoff_base",
        "backoff_max",
        "send_timeout",
        "max_in_flight",
        "claim_ttl",
        "shutdown_grace",
        // sources
        "interval_live",
        "interval_break",
        "interval_idle",
        "pre_match",
        "path",
        "speed",
        "max_gap",
        "loop",
        "endpoint",
        "competition",
        "season",
        "language",
        "key",
        "secret",
        "competition_id",
        "token",
        "competitions",
        "requests_per_minute",
        "leagues",
        "fixtures",
        // sinks
        "type",
        "format",
        "locale",
        "kinds",
        "teams",
        "matches",
        "history",
        "heartbeat",
        "retry",
        "max_clients",
    ];
    for key in keys {
        assert!(
            text.lines().any(|l| l
                .trim_start_matches(['#', ' '])
                .starts_with(&format!("{key} = "))),
            "config.toml.example does not document `{key}`"
        );
    }
}
