//! `herald status`: the running herald's readiness and metrics at a glance.

use anyhow::{Context as _, anyhow};

use super::Remote;
use crate::telemetry::status;

/// Reads `/readyz` and `/metrics` of the herald at `remote` and summarizes them.
///
/// # Errors
/// herald cannot be reached, or refuses the metrics (a token is needed, or they are off).
pub async fn status(remote: &Remote) -> anyhow::Result<String> {
    let client = remote.client()?;
    let ready = remote
        .send(client.get(format!("{}/readyz", remote.url)))
        .await?;
    let ready: serde_json::Value = ready
        .json()
        .await
        .context("/readyz did not answer JSON: is this herald?")?;
    let metrics = remote
        .send(client.get(format!("{}/metrics", remote.url)))
        .await?;
    let code = metrics.status();
    let text = metrics.text().await.context("cannot read /metrics")?;
    if !code.is_success() {
        let message = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or_else(|| code.to_string());
        return Err(anyhow!("/metrics refused ({code}): {message}"));
    }
    Ok(status::summary(&remote.url, &status::parse(&text), &ready))
}
