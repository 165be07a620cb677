//! The checks types cannot express, run on every config before anything starts.

use std::collections::BTreeMap;
use std::time::Duration;

use sink_api::Invalid;

use super::{ApiScope, Config, ConfigError, invalid};
use crate::model::EventKind;
use crate::render;

impl Config {
    /// Checks values that types cannot; pure (no files, no network).
    ///
    /// # Errors
    /// The first problem found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let url = &self.store.url;
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "store.url",
                "must start with sqlite:, postgres:// or postgresql://",
            ));
        }
        if self.store.max_connections == 0 {
            return Err(invalid("store.max_connections", "must be at least 1"));
        }
        if self.store.lease_ttl < Duration::from_secs(1) {
            return Err(invalid("store.lease_ttl", "must be at least 1s"));
        }
        if self.store.heartbeat < Duration::from_millis(100) {
            return Err(invalid("store.heartbeat", "must be at least 100ms"));
        }
        if self.store.instance_timeout < self.store.heartbeat * 3 {
            return Err(invalid(
                "store.instance_timeout",
                "must be at least three times store.heartbeat (one slow heartbeat is not a crash)",
            ));
        }
        if self.store.retention < Duration::from_secs(3_600) {
            return Err(invalid(
                "store.retention",
                "must be at least 1h (delivery history is read back for corrections and streams)",
            ));
        }
        if self
            .http
            .admin_token
            .as_ref()
            .is_some_and(|t| secrecy::ExposeSecret::expose_secret(t).len() < 16)
        {
            return Err(invalid(
                "http.admin_token",
                "must be at least 16 characters",
            ));
        }
        self.check_tokens()?;
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return Err(invalid(
                "log.level",
                format!("not a level or filter ({e}); e.g. info, debug, herald=debug,sqlx=warn"),
            ));
        }
        let can_read = self.http.admin_token.is_some()
            || self.http.tokens.iter().any(|t| {
                t.scopes
                    .iter()
                    .any(|s| matches!(s, ApiScope::Read | ApiScope::Admin))
            });
        if self.metrics.require_token && !can_read {
            return Err(invalid(
                "metrics.require_token",
                "no token can read: set http.admin_token or add [[http.tokens]] with scope read",
            ));
        }
        for (key, zero) in [
            ("http.header_timeout", self.http.header_timeout.is_zero()),
            ("http.write_timeout", self.http.write_timeout.is_zero()),
        ] {
            if zero {
                return Err(invalid(key, "must be greater than 0"));
            }
        }
        if self.http.max_pending_connections == 0 {
            return Err(invalid(
                "http.max_pending_connections",
                "must be at least 1",
            ));
        }
        let locales_open = self.render.templates_dir.is_some();
        check_locale(
            "render.default_locale",
            &self.render.default_locale,
            locales_open,
        )?;
        if jiff::tz::TimeZone::get(&self.render.time_zone).is_err() {
            return Err(invalid(
                "render.time_zone",
                "is not a time zone of the IANA database (like Europe/Lisbon or UTC)",
            ));
        }
        let d = &self.dispatch;
        for (key, zero) in [
            ("dispatch.max_attempts", d.max_attempts == 0),
            ("dispatch.backoff_base", d.backoff_base.is_zero()),
            ("dispatch.send_timeout", d.send_timeout.is_zero()),
            ("dispatch.max_in_flight", d.max_in_flight == 0),
        ] {
            if zero {
                return Err(invalid(key, "must be greater than 0"));
            }
        }
        if d.backoff_max < d.backoff_base {
            return Err(invalid(
                "dispatch.backoff_max",
                "must not be shorter than dispatch.backoff_base",
            ));
        }
        if d.ticker_interval < std::time::Duration::from_secs(1) {
            // Telegram allows about one edit of a message per second, Discord five per five
            // seconds per channel: faster tickers would only be throttled.
            return Err(invalid("dispatch.ticker_interval", "must be at least 1s"));
        }
        for (group, needed) in &self.detect.confirm {
            if !["goals", "cards", "penalties"].contains(&group.as_str()) {
                return Err(invalid(
                    format!("detect.confirm.{group}"),
                    "is not a group of incidents (goals, cards, penalties)",
                ));
            }
            if *needed == 0 {
                return Err(invalid(
                    format!("detect.confirm.{group}"),
                    "must be at least 1",
                ));
            }
        }
        for (i, source) in self.links.sources() {
            if !self.sources.contains_key(source) {
                return Err(invalid(
                    format!("links[{i}].matches"),
                    format!("no source `{source}` (a match is named <source id>:<match id>)"),
                ));
            }
        }
        for (id, source) in &self.sources {
            let key = |k: &str| format!("sources.{id}.{k}");
            source
                .cadence
                .validate()
                .map_err(|(k, m)| invalid(key(k), m))?;
            source
                .spec
                .validate()
                .map_err(|e| in_table(&format!("sources.{id}"), e))?;
        }
        if self.sinks.is_empty() {
            return Err(invalid(
                "sinks",
                "no sink is configured: notifications would go nowhere",
            ));
        }
        let mut served: BTreeMap<&str, &str> = BTreeMap::new();
        for (id, sink) in &self.sinks {
            if id.is_empty() || id.starts_with('#') || id.chars().any(char::is_whitespace) {
                return Err(invalid(
                    format!("sinks.{id}"),
                    "a sink id is a name without spaces, not starting with #",
                ));
            }
            let key = |k: &str| format!("sinks.{id}.{k}");
            if let Some(locale) = &sink.route.locale {
                check_locale(&key("locale"), locale, locales_open)?;
            }
            for kind in &sink.route.kinds {
                if EventKind::parse(kind).is_none() && !EventKind::GROUPS.contains(&kind.as_str()) {
                    return Err(invalid(
                        key("kinds"),
                        format!(
                            "unknown kind `{kind}` (use a group: {}, or a kind such as goal, full_time)",
                            EventKind::GROUPS.join(", ")
                        ),
                    ));
                }
            }
            sink.spec
                .validate(self)
                .map_err(|e| in_table(&format!("sinks.{id}"), e))?;
            for path in sink.spec.paths() {
                if let Some(other) = served.insert(path, id) {
                    return Err(invalid(
                        format!("sinks.{id}"),
                        format!(
                            "serves {path}, as sinks.{other} does: only one {} sink can serve it",
                            sink.kind()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Config {
    /// `[[http.tokens]]`: named once each, long enough, distinct, each granting something.
    fn check_tokens(&self) -> Result<(), ConfigError> {
        use secrecy::ExposeSecret;
        let mut names = std::collections::BTreeSet::new();
        let mut secrets: Vec<&str> = self
            .http
            .admin_token
            .iter()
            .map(|t| t.expose_secret())
            .collect();
        for (i, token) in self.http.tokens.iter().enumerate() {
            let key = |k: &str| format!("http.tokens[{i}].{k}");
            let name = token.name.trim();
            if name.is_empty()
                || name.len() > 64
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(invalid(
                    key("name"),
                    "must be 1 to 64 letters, digits, `-`, `_` or `.`",
                ));
            }
            if name == crate::http::auth::ADMIN || !names.insert(name) {
                return Err(invalid(
                    key("name"),
                    format!("`{name}` is already the name of another token"),
                ));
            }
            let secret = token.token.expose_secret();
            if secret.chars().count() < 16 {
                return Err(invalid(key("token"), "must be at least 16 characters"));
            }
            if secrets.contains(&secret) {
                return Err(invalid(
                    key("token"),
                    "is the same as another token: give each holder its own",
                ));
            }
            secrets.push(secret);
            if token.scopes.is_empty() {
                return Err(invalid(
                    key("scopes"),
                    "must name at least one of publish, read, admin, ingest",
                ));
            }
        }
        Ok(())
    }
}

fn check_locale(key: &str, locale: &str, open: bool) -> Result<(), ConfigError> {
    if render::LOCALES.contains(&locale) {
        return Ok(());
    }
    let well_formed = !locale.is_empty()
        && locale
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if open && well_formed {
        // Validated against the template directory at startup.
        return Ok(());
    }
    Err(invalid(
        key,
        format!(
            "unknown locale `{locale}` (available: {})",
            render::LOCALES.join(", ")
        ),
    ))
}

/// A plug-in's problem, its key placed inside the table `prefix`.
fn in_table(prefix: &str, problem: Invalid) -> ConfigError {
    if problem.key.is_empty() {
        invalid(prefix, problem.message)
    } else {
        invalid(format!("{prefix}.{}", problem.key), problem.message)
    }
}
