//! herald turns live football data into notifications delivered everywhere at once.
//!
//! # Layout
//!
//! Data flows top to bottom:
//!
//! | module | what it does |
//! |---|---|
//! | [`sources`] | one module per provider (FIFA, LiveScore, football-data.org, API-Football), the replay and pushed snapshots; each turns what it reads into [`model::MatchState`]s |
//! | [`ingest`] | producers' pushed snapshots (checked, stored, the push source woken) and polls on demand |
//! | [`poller`] | one task per source: poll, detect, commit, wake the sinks; adaptive cadence |
//! | [`detect`] | pure: stored state + new snapshot → [`model::Event`]s with stable ids |
//! | [`store`] | the only SQL: match states, events, the outbox, subscriptions, leases |
//! | [`routing`] | pure: which sink instances and recipients get an event |
//! | [`preferences`] | how each recipient wants delivery: quiet hours, spoiler-free, ticker |
//! | [`render`] | minijinja templates per kind and locale |
//! | [`dispatch`] | one worker per sink instance: order, limits, retries, dead letters |
//! | [`plugins`] | the one list of sink and source plug-ins: config, checks, `check-config` and building go through it |
//! | [`registry`] | configured sinks built into running ones, with their routes and tasks |
//! | [`http`] | the live page, the JSON API, the publish and messages endpoints, sinks' routes (SSE) |
//! | [`messages`] | addressed, scheduled and tracked messages: checks, scheduling, status |
//! | [`retention`] | deletes settled deliveries, old events and finished messages after `store.retention` |
//! | [`config`] | figment: TOML + `HERALD_*` env, typed, validated, secrets redacted |
//! | [`app`] | builds everything from a config; startup and shutdown order |
//! | [`commands`] | what the CLI subcommands do |
//! | [`logging`] | text or JSON logs; what log lines never show (Socket Mode tickets) |
//!
//! The sink contract lives in the `sink-api` crate; sinks are crates under `sinks/`.

pub mod app;
pub mod broadcast;
pub mod clock;
pub mod commands;
pub mod config;
pub mod detect;
pub mod dispatch;
pub mod exclusive;
pub mod fusion;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod ingest;
pub mod liveness;
pub mod logging;
pub mod messages;
pub mod model;
pub mod outbox;
pub mod plugins;
pub mod poller;
pub mod preferences;
pub mod registry;
pub mod relay;
pub mod render;
pub mod retention;
pub mod routing;
pub mod signal;
#[cfg(feature = "twilio")]
pub mod sms;
pub mod sources;
pub mod store;
pub mod subscriptions;
pub mod targets;
pub mod teams;
pub mod telemetry;
#[cfg(feature = "viber")]
pub mod viber;
#[cfg(feature = "whatsapp")]
pub mod whatsapp;

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
