//! `config.toml.example` cannot rot: it loads as shipped, every commented key is valid when
//! uncommented, the defaults it states are the code's defaults, and every key is documented.

use std::collections::BTreeMap;
use std::path::Path;

use herald::config::{Config, DispatchConfig, StoreConfig};

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
        // The example's signup.client_ip_header needs a trusted proxy; the default is none.
        ("HERALD_HTTP__TRUSTED_PROXIES", "[\"127.0.0.1\"]"),
        ("LIVESCORE_KEY", "k"),
        ("LIVESCORE_SECRET", "s"),
        ("FOOTBALL_DATA_TOKEN", "t"),
        ("API_FOOTBALL_KEY", "a"),
        ("TELEGRAM_BOT_TOKEN", "1:t"),
        ("SLACK_BOT_TOKEN", "xoxb-1"),
        ("SLACK_SIGNING_SECRET", "s"),
        ("SLACK_APP_TOKEN", "xapp-1-A1-1-t"),
        ("DISCORD_BOT_TOKEN", "d"),
        ("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"),
        ("TWILIO_AUTH_TOKEN", "t"),
        (
            "TWILIO_MESSAGING_SERVICE_SID",
            "MG0123456789abcdef0123456789abcdef",
        ),
        ("X_API_KEY", "k"),
        ("X_API_SECRET", "s"),
        ("X_ACCESS_TOKEN", "t"),
        ("X_ACCESS_TOKEN_SECRET", "s"),
        ("WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        ("VIBER_AUTH_TOKEN", "445da6az1s345z78-dazcczb2542zv51a"),
        ("NEWSROOM_TOKEN", "newsroom-token-0123456789"),
        ("HERALD_ROOMS_TOKEN", "rooms-token-0123456789"),
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
            config.store.lease_ttl,
            config.store.retention
        ),
        (
            store.url.as_str(),
            store.max_connections,
            store.lease_ttl,
            store.retention
        )
    );
    let tokens = &config.http.tokens;
    assert_eq!(tokens.len(), 1, "the [[http.tokens]] example");
    assert_eq!(tokens[0].name, "newsroom");
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(&tokens[0].token),
        "newsroom-token-0123456789"
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
            got.shutdown_grace
        ),
        (
            d.max_attempts,
            d.backoff_base,
            d.backoff_max,
            d.send_timeout,
            d.max_in_flight,
            d.shutdown_grace
        )
    );
    assert_eq!(config.render.default_locale, "en");
    assert_eq!(
        (config.log.format, config.log.level.as_str()),
        (herald::config::LogFormat::Text, "info")
    );
    assert!(config.metrics.enabled && !config.metrics.require_token);
    let Some(replay) = config.sources["demo"].settings::<herald::sources::replay::Config>() else {
        panic!("demo is a replay")
    };
    assert_eq!(*replay, herald::sources::replay::Config::default());
    assert_eq!(
        config.sources["fifa"].cadence,
        herald::sources::Cadence::default()
    );
    let Some(fd) =
        config.sources["football_data"].settings::<herald::sources::football_data::Config>()
    else {
        panic!()
    };
    assert_eq!(
        fd.requests_per_minute,
        herald::sources::football_data::DEFAULT_REQUESTS_PER_MINUTE
    );
    let Some(af) =
        config.sources["api_football"].settings::<herald::sources::api_football::Config>()
    else {
        panic!()
    };
    assert_eq!(
        af.requests_per_minute,
        herald::sources::api_football::DEFAULT_REQUESTS_PER_MINUTE
    );
    let Some(sse) = config.sinks["sse"].settings::<sink_sse::Config>() else {
        panic!()
    };
    assert_eq!(*sse, sink_sse::Config::default());
    let Some(console) = config.sinks["console"].settings::<sink_console::Config>() else {
        panic!()
    };
    assert_eq!(*console, sink_console::Config::default());
    let Some(rooms) = config.sinks["rooms"].settings::<sink_socketio::Config>() else {
        panic!("rooms is a socketio sink")
    };
    let d = sink_socketio::Config::default();
    assert_eq!(
        (rooms.max_clients, rooms.text_limit, rooms.text_window),
        (d.max_clients, d.text_limit, d.text_window)
    );
    assert!(rooms.token.is_some(), "the example sets a token");
    assert_eq!(config.sources.len(), 6);
    assert_eq!(
        config.links.linked("fifa:300331552").collect::<Vec<_>>(),
        ["football_data:200199"]
    );
    let detect = herald::config::DetectConfig::default();
    assert_eq!(
        (
            &config.detect.confirm,
            config.detect.confirm_timeout,
            config.detect.stall_after
        ),
        (&detect.confirm, detect.confirm_timeout, detect.stall_after)
    );
    assert_eq!(config.sources["newsroom"].spec.kind(), "push");
    let Some(sms) = config.sinks["sms"].settings::<sink_twilio::Config>() else {
        panic!("sms is a twilio sink")
    };
    let defaults: sink_twilio::Config = serde_json::from_value(serde_json::json!({
        "account_sid": "AC0123456789abcdef0123456789abcdef",
        "auth_token": "t",
        "messaging_service_sid": "MG0123456789abcdef0123456789abcdef",
    }))
    .unwrap();
    assert_eq!(
        (
            sms.endpoint.as_str(),
            sms.messages_per_second,
            sms.max_segments,
            sms.daily_cap,
            sms.transliterate
        ),
        (
            defaults.endpoint.as_str(),
            defaults.messages_per_second,
            defaults.max_segments,
            defaults.daily_cap,
            defaults.transliterate
        )
    );
    let (s, d) = (&sms.signup, &defaults.signup);
    assert_eq!(
        (
            s.enabled,
            &s.countries,
            s.code_ttl,
            s.max_code_attempts,
            s.lookup,
            &s.lookup_endpoint
        ),
        (
            d.enabled,
            &d.countries,
            d.code_ttl,
            d.max_code_attempts,
            d.lookup,
            &d.lookup_endpoint
        )
    );
    assert_eq!(
        (
            s.per_ip_per_hour,
            s.per_number_per_day,
            s.per_prefix_per_hour
        ),
        (
            d.per_ip_per_hour,
            d.per_number_per_day,
            d.per_prefix_per_hour
        )
    );
    let Some(wa) = config.sinks["whatsapp"].settings::<sink_twilio::WhatsAppConfig>() else {
        panic!("whatsapp is a whatsapp sink")
    };
    let defaults: sink_twilio::WhatsAppConfig = serde_json::from_value(serde_json::json!({
        "account_sid": "AC0123456789abcdef0123456789abcdef",
        "auth_token": "t",
        "from": "+14155238886",
        "content_sid": "HXb5b62575e6e4ff6129ad7c8efe1f983e",
    }))
    .unwrap();
    assert_eq!(
        (
            wa.endpoint.as_str(),
            wa.messages_per_second,
            &wa.content_variables
        ),
        (
            defaults.endpoint.as_str(),
            defaults.messages_per_second,
            &defaults.content_variables
        )
    );
    let Some(x) = config.sinks["x"].settings::<sink_x::Config>() else {
        panic!("x is an x sink")
    };
    assert_eq!(
        (x.endpoint.as_str(), x.posts_per_15_minutes, x.posts_per_day),
        ("https://api.x.com", 100, 0)
    );
    let Some(hook) = config.sinks["hook"].settings::<sink_webhook::Config>() else {
        panic!("hook is a webhook sink")
    };
    let defaults: sink_webhook::Config = serde_json::from_value(
        serde_json::json!({"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}),
    )
    .unwrap();
    assert_eq!(
        (&hook.urls, hook.timeout, hook.per_url_per_second),
        (
            &defaults.urls,
            defaults.timeout,
            defaults.per_url_per_second
        )
    );
    let Some(viber) = config.sinks["viber"].settings::<sink_viber::Config>() else {
        panic!("viber is a viber sink")
    };
    let defaults: sink_viber::Config =
        serde_json::from_value(serde_json::json!({"auth_token": "t", "sender_name": "herald"}))
            .unwrap();
    assert_eq!(
        (
            viber.endpoint.as_str(),
            viber.per_user_per_hour,
            viber.global_per_second
        ),
        (
            defaults.endpoint.as_str(),
            defaults.per_user_per_hour,
            defaults.global_per_second
        )
    );
}

#[test]
fn every_key_is_documented() {
    let text = example();
    let keys = [
        // [http] [store] [detect] [render] [dispatch]
        "enabled",
        "listen",
        "admin_token",
        "scopes",
        "retention",
        "trusted_proxies",
        "header_timeout",
        "max_pending_connections",
        "write_timeout",
        "url",
        "max_connections",
        "lease_ttl",
        "instance_timeout",
        "backlog",
        "default_locale",
        "templates_dir",
        "max_attempts",
        "backoff_base",
        "backoff_max",
        "send_timeout",
        "max_in_flight",
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
        // slack
        "app_token",
        "locale",
        "kinds",
        "teams",
        "matches",
        "history",
        "heartbeat",
        "retry",
        "max_clients",
        // twilio
        "account_sid",
        "auth_token",
        "from",
        "messaging_service_sid",
        "status_callback",
        "messages_per_second",
        "max_segments",
        "daily_cap",
        "transliterate",
        "public_url",
        "countries",
        "default_country",
        "code_ttl",
        "max_code_attempts",
        "lookup",
        "lookup_endpoint",
        "per_ip_per_hour",
        "per_number_per_day",
        "per_prefix_per_hour",
        "client_ip_header",
        "allow_costly_numbers",
        "pause_after_failures",
        // whatsapp
        "content_sid",
        "content_variables",
        // x
        "api_key",
        "api_secret",
        "access_token",
        "access_token_secret",
        "posts_per_15_minutes",
        "posts_per_day",
        // webhook
        "urls",
        "timeout",
        "per_url_per_second",
        // viber
        "sender_name",
        "sender_avatar",
        "webhook_url",
        "per_user_per_hour",
        "global_per_second",
    ];
    assert!(
        text.contains("\n# [[http.tokens]]\n"),
        "config.toml.example does not document [[http.tokens]]"
    );
    for key in keys {
        assert!(
            text.lines().any(|l| l
                .trim_start_matches(['#', ' '])
                .starts_with(&format!("{key} = "))),
            "config.toml.example does not document `{key}`"
        );
    }
}
