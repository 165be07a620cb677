//! Where the running herald is and how the CLI calls its API: `http.listen` of the config,
//! or `--url`, with `http.admin_token`, or `--token` / `HERALD_TOKEN`.

use anyhow::{Context as _, anyhow};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::config::Config;

/// Where the running herald is, and the token to call it with.
#[derive(Debug, Clone)]
pub struct Remote {
    /// The base URL (`http://127.0.0.1:8080`).
    pub url: String,
    token: Option<SecretString>,
}

impl Remote {
    /// `url` and `token` when given, else the config's `http.listen` and `http.admin_token`.
    ///
    /// # Errors
    /// No token anywhere.
    pub fn new(
        config: &Config,
        url: Option<String>,
        token: Option<SecretString>,
    ) -> anyhow::Result<Self> {
        let remote = Self::maybe_with_token(config, url, token);
        anyhow::ensure!(
            remote.token.is_some(),
            "no token: pass --token (or set HERALD_TOKEN), or set http.admin_token"
        );
        Ok(remote)
    }

    /// Like [`Remote::new`], for calls that need no token unless herald asks for one
    /// (`/metrics`, `/readyz`).
    pub fn maybe_with_token(
        config: &Config,
        url: Option<String>,
        token: Option<SecretString>,
    ) -> Self {
        let url = url.unwrap_or_else(|| {
            let mut addr = config.http.listen;
            if addr.ip().is_unspecified() {
                addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            format!("http://{addr}")
        });
        Self {
            url: url.trim_end_matches('/').to_owned(),
            token: token.or_else(|| config.http.admin_token.clone()),
        }
    }
}

impl Remote {
    /// An HTTP client for the calls.
    ///
    /// # Errors
    /// The client cannot be built (no TLS roots).
    pub fn client(&self) -> anyhow::Result<reqwest::Client> {
        sink_api::http::client().context("cannot build an HTTP client")
    }

    /// Sends `request` with the token; the status and the JSON answer of a success.
    ///
    /// # Errors
    /// herald cannot be reached, or refused the request (its message and field).
    pub async fn call(
        &self,
        request: reqwest::RequestBuilder,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let response = self.send(request).await?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let message = body["error"].as_str().unwrap_or("no details");
            return Err(match body["field"].as_str() {
                Some(field) => anyhow!("herald refused ({status}): {field}: {message}"),
                None => anyhow!("herald refused ({status}): {message}"),
            });
        }
        Ok((status, body))
    }

    /// Sends `request`, with the token when there is one.
    ///
    /// # Errors
    /// herald cannot be reached.
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> anyhow::Result<reqwest::Response> {
        let request = match &self.token {
            Some(token) => request.bearer_auth(token.expose_secret()),
            None => request,
        };
        request
            .send()
            .await
            .with_context(|| format!("cannot reach herald at {}", self.url))
    }
}
