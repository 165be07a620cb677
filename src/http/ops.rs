//! What operators and orchestrators call: `GET /metrics` (Prometheus) and `GET /readyz`
//! (ready to take traffic: store, migrations, sources). `/healthz` (liveness) is in `api`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::answers::{Check, Readiness, SourceCheck};
use super::{AppState, error};
use crate::config::ApiScope;
use crate::dispatch::error_chain;
use crate::telemetry::health::Role;

/// A store check that takes longer than this fails: a probe must answer quickly.
const STORE_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// What `/metrics` and `/readyz` need.
#[derive(Debug, Clone)]
pub struct Ops {
    /// Renders `/metrics`; `None` when `metrics.enabled` is false.
    pub scraper: Option<crate::telemetry::Scraper>,
    /// Whether `/metrics` asks for a token with the `read` scope.
    pub metrics_require_token: bool,
    /// The sources' polling health.
    pub sources: crate::telemetry::Sources,
}

/// `GET /metrics`: Prometheus' text format.
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses(
        (status = 200, description = "Every metric, in Prometheus' text format 0.0.4: delivery latency per sink (`herald_delivery_latency_seconds`), deliveries and polls by outcome, poll and detection durations, provider quota left, outbox depth and age, dead letters, stream clients, process figures.", content_type = "text/plain", body = String),
        (status = 401, description = "`metrics.require_token` is set and no valid token was given.", body = super::answers::ErrorBody),
        (status = 404, description = "`metrics.enabled` is false.", body = super::answers::ErrorBody),
        (status = 503, description = "The store does not answer (its gauges would be wrong).", body = super::answers::ErrorBody),
    ),
    security((), ("token" = []), ("basic" = [])))]
pub(super) async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(scraper) = &state.ops.scraper else {
        return error(
            StatusCode::NOT_FOUND,
            "metrics are disabled (metrics.enabled = false)",
            None,
        );
    };
    if state.ops.metrics_require_token
        && let Err(refused) = state.auth.authorize(&headers, ApiScope::Read)
    {
        return refused;
    }
    match scraper.render().await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %error_chain(&e), "metrics: the store does not answer");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the store is unavailable",
                None,
            )
        }
    }
}

/// `GET /readyz`: 200 when the store answers, every migration is applied and every source
/// this instance polls had a successful poll within three of its intervals; else 503, with
/// each check's result either way.
#[utoipa::path(get, path = "/readyz", tag = "service",
    responses(
        (status = 200, description = "Ready.", body = Readiness),
        (status = 503, description = "Not ready: the failing checks say why.", body = Readiness),
    ))]
pub(super) async fn ready(State(state): State<AppState>) -> Response {
    let (store, migrations) =
        match tokio::time::timeout(STORE_CHECK_TIMEOUT, state.store.pending_migrations()).await {
            Ok(Ok(0)) => (Check::ok(), Check::ok()),
            Ok(Ok(n)) => (
                Check::ok(),
                Check::failed(format!(
                    "{n} migration(s) not applied: run `herald migrate`"
                )),
            ),
            Ok(Err(e)) => {
                let why = error_chain(&e);
                (
                    Check::failed(why),
                    Check::failed("unknown: the store does not answer".into()),
                )
            }
            Err(_) => (
                Check::failed(format!(
                    "no answer within {} s",
                    STORE_CHECK_TIMEOUT.as_secs()
                )),
                Check::failed("unknown: the store does not answer".into()),
            ),
        };
    let now = Instant::now();
    let sources: BTreeMap<String, SourceCheck> = state
        .ops
        .sources
        .snapshot()
        .into_iter()
        .map(|(id, h)| {
            let check = SourceCheck {
                ok: h.healthy(now),
                state: match h.role {
                    Role::Polling => "polling",
                    Role::Standby => "standby",
                    Role::Finished => "finished",
                },
                last_ok_seconds_ago: h.last_ok_ago(now),
                interval_seconds: h.interval.as_secs_f64(),
                error: h.last_error,
            };
            (id, check)
        })
        .collect();
    let ready = store.ok && migrations.ok && sources.values().all(|s| s.ok);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Readiness {
        status: if ready { "ready" } else { "not_ready" },
        checks: super::answers::Checks {
            store,
            migrations,
            sources,
        },
    };
    (status, Json(body)).into_response()
}
