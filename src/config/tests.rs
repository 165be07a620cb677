//! Config loading and validation tests: defaults, overrides, interpolation, and one clear line
//! per mistake.

use super::*;
use crate::sources::football_data;
use std::time::Duration;

fn load(toml: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("herald.toml");
    std::fs::write(&path, toml).unwrap();
    Config::load(
        Some(&path),
        env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    )
}

fn error(toml: &str) -> String {
    let err = load(toml, &[]).unwrap_err().to_string();
    assert!(!err.contains('\n'), "error must be one line: {err}");
    err
}

#[test]
fn no_config_gives_the_demo() {
    let c = Config::load(None, Vec::new()).unwrap();
    assert_eq!(c.http.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.store.url, "sqlite://herald.db");
    assert!(
        c.sources["demo"]
            .settings::<replay::Config>()
            .is_some_and(|r| r.repeat)
    );
    assert!(c.sinks.contains_key("console"));
    assert!(c.sinks.contains_key("sse"));
    assert!(c.sinks.contains_key("socketio"));
}

#[test]
fn a_full_config_parses() {
    let c = load(
        r#"
        [http]
        listen = "0.0.0.0:9000"
        admin_token = "0123456789abcdef"

        [store]
        url = "postgres://herald:pw@db/herald"

        [dispatch]
        send_timeout = "10s"

        [sources.fd]
        type = "football_data"
        token = "abc"
        competitions = ["WC"]
        interval_live = "20s"

        [sinks.console]
        format = "json"
        locale = "pt-BR"
        kinds = ["goals", "full_time"]
        teams = ["Brazil"]
        "#,
        &[],
    )
    .unwrap();
    assert_eq!(c.http.listen.to_string(), "0.0.0.0:9000");
    assert_eq!(c.dispatch.send_timeout, Duration::from_secs(10));
    assert_eq!(
        c.sources["fd"].cadence.interval_live,
        Duration::from_secs(20)
    );
    assert!(
        c.sources["fd"]
            .settings::<football_data::Config>()
            .is_some_and(|f| f.competitions == ["WC"])
    );
    let console = &c.sinks["console"];
    assert_eq!(console.route.locale.as_deref(), Some("pt-BR"));
    assert_eq!(console.route.kinds, vec!["goals", "full_time"]);
    assert!(
        !c.sinks.contains_key("sse"),
        "a [sinks] table replaces the demo sinks"
    );
    assert_eq!(c.store.redacted_url(), "postgres://herald:***@db/herald");
}

#[test]
fn unknown_keys_are_named() {
    assert_eq!(
        error("nope = 1"),
        "nope: unknown field `nope`, expected one of `http`, `store`, `detect`, `render`, `dispatch`, `log`, `metrics`, `sources`, `sinks`, `links`"
    );
}

#[test]
fn unknown_nested_keys_are_named() {
    let err = error("[http]\nlisten = \"127.0.0.1:1\"\nlsten = 1");
    assert!(err.starts_with("http"), "{err}");
    assert!(err.contains("`lsten`"), "{err}");
    let err = error("[sinks.console]\nformt = \"json\"");
    assert!(err.starts_with("sinks.console"), "{err}");
    assert!(err.contains("`formt`"), "{err}");
    let err = error("[sources.x]\ntype = \"replay\"\nspede = 2");
    assert!(err.starts_with("sources.x"), "{err}");
    assert!(err.contains("`spede`"), "{err}");
}

#[test]
fn log_and_metrics_settings_are_checked() {
    let err = error("[log]\nformat = \"xml\"");
    assert!(err.starts_with("log.format:"), "{err}");
    let err = error("[log]\nlevel = \"herald=loud\"");
    assert!(err.starts_with("log.level: not a level or filter"), "{err}");
    let err = error("[metrics]\nrequire_token = true");
    assert!(
        err.starts_with("metrics.require_token: no token can read"),
        "{err}"
    );
}

#[test]
fn bad_values_are_named() {
    let err = error("[dispatch]\nsend_timeout = \"soon\"");
    assert!(err.starts_with("dispatch.send_timeout:"), "{err}");
    let err = error("[http]\nlisten = \"localhost\"");
    assert!(err.starts_with("http.listen:"), "{err}");
    let err = error("[sinks.console]\nformat = \"xml\"");
    assert!(err.starts_with("sinks.console"), "{err}");
    assert!(err.contains("xml"), "{err}");
    let err = error("[store]\nurl = \"mysql://x\"");
    assert!(err.starts_with("store.url:"), "{err}");
    let err = error("[sinks.console]\nlocale = \"de\"");
    assert_eq!(
        err,
        "sinks.console.locale: unknown locale `de` (available: en, es, fr, pt-BR)"
    );
    let err = error("[sinks.console]\nkinds = [\"goalz\"]");
    assert!(
        err.starts_with("sinks.console.kinds: unknown kind `goalz`"),
        "{err}"
    );
    let err = error(
        "[sources.f]\ntype = \"fifa\"\ncompetition = \"17\"\nseason = \"1\"\nendpoint = \"ftp://x\"",
    );
    assert!(err.starts_with("sources.f.endpoint:"), "{err}");
    let err = error(
        "[sources.f]\ntype = \"fifa\"\ncompetition = \"17\"\nseason = \"1\"\ninterval_live = \"0s\"",
    );
    assert!(err.starts_with("sources.f.interval_live:"), "{err}");
    let err = error("[sources.f]\ntype = \"fifa\"\ncompetition = \"17\"");
    assert!(err.starts_with("sources.f"), "{err}");
    assert!(err.contains("season"), "{err}");
    let err = error("[render]\ntime_zone = \"Mars/Olympus\"");
    assert!(
        err.starts_with("render.time_zone: is not a time zone"),
        "{err}"
    );
    let err = error("[dispatch]\nticker_interval = \"200ms\"");
    assert_eq!(err, "dispatch.ticker_interval: must be at least 1s");
    let err = error("[[links]]\nmatches = [\"fifa:1\"]");
    assert_eq!(err, "links[0].matches: name at least two matches");
    let err =
        error("[sources.fd]\ntype = \"push\"\n[[links]]\nmatches = [\"fd:1\", \"nowhere:2\"]");
    assert_eq!(
        err,
        "links[0].matches: no source `nowhere` (a match is named <source id>:<match id>)"
    );
}

#[test]
fn sink_and_source_types_are_checked() {
    // Every compiled-in type, in the plug-in list's order.
    let known: Vec<&str> = crate::plugins::SINKS
        .iter()
        .filter_map(|e| e.plugin.map(|p| p.kind()))
        .collect();
    assert!(known.starts_with(&[
        "console", "sse", "telegram", "slack", "discord", "twilio", "whatsapp", "x"
    ]));
    assert_eq!(
        error("[sinks.pager]\ntype = \"pager\""),
        format!(
            "sinks.pager.type: unknown sink type `pager` (expected one of: {})",
            known.join(", ")
        )
    );
    assert_eq!(
        error("[sinks.sms]\ntype = \"twilio\""),
        "sinks.sms: missing field `account_sid`"
    );
    let sms = "[sinks.sms]\ntype = \"twilio\"\naccount_sid = \"AC0123456789abcdef0123456789abcdef\"\nauth_token = \"t\"\n";
    assert_eq!(
        error(sms),
        "sinks.sms.messaging_service_sid: set messaging_service_sid (MG…) or from (a number)"
    );
    assert_eq!(
        error(&format!("{sms}from = \"555-1234\"")),
        "sinks.sms.from: not a phone number in E.164 form: 555-1234"
    );
    assert_eq!(
        error(&format!(
            "{sms}from = \"+14155550100\"\n[sinks.sms.signup]\ncountries = [\"XX\"]"
        )),
        "sinks.sms.signup.countries: `XX` is not an ISO country code"
    );
    assert_eq!(
        error(&format!("{sms}from = \"+14155550100\"\nmax_segments = 0")),
        "sinks.sms.max_segments: must be between 1 and 10"
    );
    assert_eq!(
        error(
            "[sinks.tw]\ntype = \"twitter\"\napi_key = \"k\"\napi_secret = \"\"\naccess_token = \"t\"\naccess_token_secret = \"s\""
        ),
        "sinks.tw.api_secret: must not be empty"
    );
    assert!(
        error("[sources.s]\ntype = \"espn\"")
            .starts_with("sources.s.type: unknown source type `espn`")
    );
    assert_eq!(
        error("[sinks]"),
        "sinks: no sink is configured: notifications would go nowhere"
    );
}

#[test]
fn env_overrides_keys_with_double_underscores_only() {
    let c = load(
        "",
        &[
            ("HERALD_HTTP__LISTEN", "0.0.0.0:7000"),
            ("HERALD_DISPATCH__MAX_ATTEMPTS", "3"),
            // Not a config key: left for ${…} interpolation.
            ("HERALD_ADMIN_TOKEN", "x"),
        ],
    )
    .unwrap();
    assert_eq!(c.http.listen.to_string(), "0.0.0.0:7000");
    assert_eq!(c.dispatch.max_attempts, 3);
    let err = load("", &[("HERALD_HTTP__LISTN", "x")])
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("http"), "{err}");
    assert!(err.contains("`listn`"), "{err}");
}

#[test]
fn secrets_are_interpolated_from_the_environment_and_never_printed() {
    let c = load(
        "[http]\nadmin_token = \"${HERALD_ADMIN_TOKEN}\"\n[sources.fd]\ntype = \"football_data\"\ntoken = \"tok-${FD}\"",
        &[("HERALD_ADMIN_TOKEN", "s3cret-s3cret-s3cret"), ("FD", "abc123")],
    )
    .unwrap();
    let token = c.http.admin_token.as_ref().unwrap();
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(token),
        "s3cret-s3cret-s3cret"
    );
    let Some(fd) = c.sources["fd"].settings::<football_data::Config>() else {
        panic!()
    };
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(&fd.token),
        "tok-abc123"
    );
    let printed = format!("{c:?}");
    assert!(!printed.contains("s3cret"), "{printed}");
    assert!(!printed.contains("abc123"), "{printed}");
}

#[test]
fn a_missing_environment_variable_is_named_with_its_key() {
    let err = error("[http]\nadmin_token = \"${NOT_SET_ANYWHERE}\"");
    assert_eq!(
        err,
        "http.admin_token: environment variable `NOT_SET_ANYWHERE` is not set"
    );
}

#[test]
fn a_short_admin_token_is_refused() {
    assert_eq!(
        error("[http]\nadmin_token = \"short\""),
        "http.admin_token: must be at least 16 characters"
    );
}

#[test]
fn a_missing_file_and_bad_toml_are_one_line_errors() {
    let err = Config::load(Some(Path::new("/nonexistent/herald.toml")), Vec::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "/nonexistent/herald.toml: no such config file"
    );
    let err = error("[http\nlisten = 1");
    assert!(err.contains("herald.toml"), "{err}");
}

#[test]
fn passwords_in_database_urls_are_redacted() {
    assert_eq!(
        redact_url("postgres://u:p@h:5432/d"),
        "postgres://u:***@h:5432/d"
    );
    assert_eq!(redact_url("postgres://u@h/d"), "postgres://u@h/d");
    assert_eq!(redact_url("sqlite://herald.db"), "sqlite://herald.db");
}

#[test]
fn passwords_in_url_queries_and_odd_user_infos_are_redacted() {
    assert_eq!(
        redact_url("postgres://u@h/d?sslmode=require&password=pw&sslpassword=x&Token=t"),
        "postgres://u@h/d?sslmode=require&password=***&sslpassword=***&Token=***"
    );
    for url in [
        "postgres://u:p@ss@h/d",
        "postgres://u:pa/ss@h/d",
        "postgres://u:pa?ss@h/d",
    ] {
        assert_eq!(redact_url(url), "postgres://u:***@h/d", "{url}");
    }
}

#[test]
fn environment_values_are_numbers_only_when_they_are_plain_numbers() {
    use figment::value::Value as F;
    assert!(matches!(env_value("8"), F::Num(..)));
    assert!(matches!(env_value("0.5"), F::Num(..)));
    assert!(matches!(env_value("1.0"), F::Num(..)));
    assert!(matches!(env_value("true"), F::Bool(..)));
    for text in [
        "0123",
        "1e5",
        "98765432109876543210987",
        "+1",
        " 7x",
        "1.",
        ".5",
    ] {
        assert!(matches!(env_value(text), F::String(..)), "{text}");
    }
    assert!(matches!(env_value("[\"a\", \"b\"]"), F::Array(..)));
}

#[test]
fn type_errors_name_the_kind_of_value_not_the_value() {
    assert_eq!(
        without_values("invalid type: integer `98765`, expected a string"),
        "invalid type: integer, expected a string"
    );
    assert_eq!(
        without_values("invalid type: string \"s3cr3t, expected\", expected u32"),
        "invalid type: string, expected u32"
    );
    assert_eq!(
        without_values("invalid type: floating point `1.5`, expected a string"),
        "invalid type: floating point, expected a string"
    );
    assert_eq!(
        without_values("invalid type: sequence, expected a string"),
        "invalid type: sequence, expected a string"
    );
    let err = load("", &[("HERALD_DISPATCH__MAX_ATTEMPTS", "hunter2")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("dispatch.max_attempts"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn trusted_proxies_take_addresses_and_networks() {
    let config = load(
        "[http]\ntrusted_proxies = [\"10.0.0.0/8\", \"127.0.0.1\", \"fd00::/8\"]\n",
        &[],
    )
    .unwrap();
    let nets: Vec<String> = config
        .http
        .trusted_proxies
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(nets, ["10.0.0.0/8", "127.0.0.1/32", "fd00::/8"]);
    let err = error("[http]\ntrusted_proxies = [\"proxy.local\"]\n");
    assert!(err.starts_with("http.trusted_proxies: "), "{err}");
}

#[test]
fn instance_liveness_timings_are_checked() {
    let err = error("[store]\nheartbeat = \"2s\"\ninstance_timeout = \"3s\"\n");
    assert!(err.starts_with("store.instance_timeout: "), "{err}");
}

#[test]
fn two_sinks_cannot_serve_the_same_path() {
    assert_eq!(
        error("[sinks.a]\ntype = \"sse\"\n[sinks.b]\ntype = \"sse\""),
        "sinks.b: serves /stream, as sinks.a does: only one sse sink can serve it"
    );
    let sms = |id: &str| {
        format!(
            "[sinks.{id}]\ntype = \"twilio\"\naccount_sid = \"AC0123456789abcdef0123456789abcdef\"\n\
             auth_token = \"t\"\nfrom = \"+14155550100\"\n[sinks.{id}.signup]\nenabled = true\n"
        )
    };
    let err = error(&format!("{}{}", sms("one"), sms("two")));
    assert!(
        err.starts_with("sinks.two: serves /webhooks/twilio/"),
        "{err}"
    );
    // Without signup a Twilio sink serves nothing, so several are fine.
    let plain = format!(
        "{}{}",
        sms("a"),
        sms("b").replace("enabled = true", "enabled = false")
    );
    let config = load(&plain, &[]).unwrap();
    assert_eq!(config.sinks["a"].kind(), "twilio");
    assert!(
        config.sinks["b"]
            .settings::<sink_twilio::Config>()
            .is_some()
    );
    assert!(config.sinks["b"].settings::<sink_sse::Config>().is_none());
}

#[test]
fn source_types_come_from_the_plugin_list() {
    assert_eq!(
        error("[sources.s]\ntype = \"espn\""),
        "sources.s.type: unknown source type `espn` (expected one of: replay, fifa, livescore, football_data, api_football, push)"
    );
    let config = load(
        "[sources.fd]\ntype = \"football_data\"\ntoken = \"t\"\ninterval_live = \"5s\"",
        &[],
    )
    .unwrap();
    assert_eq!(config.sources["fd"].kind(), "football_data");
    assert_eq!(
        config.sources["fd"].spec.describe(),
        "https://api.football-data.org/v4 (10 req/min)"
    );
}
