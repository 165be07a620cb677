//! The webhook sink's plug-in: `type = "webhook"`.

use sink_api::{BoxError, Built, Context, Invalid};

use crate::{Config, WebhookSink};

/// The webhook sink, as the core's plugin list names it.
#[derive(Debug)]
pub struct Plugin;

impl sink_api::Plugin for Plugin {
    type Config = Config;
    type Sink = WebhookSink;

    fn validate(config: &Config) -> Result<(), Invalid> {
        config.validate()
    }

    /// Hosts only: a URL's path or query may hold a token.
    fn describe(config: &Config) -> String {
        let hosts: Vec<String> = config
            .urls
            .iter()
            .filter_map(|u| crate::config::check_url(u).ok())
            .map(|u| match (u.host_str(), u.port()) {
                (Some(host), Some(port)) => format!("{}://{host}:{port}", u.scheme()),
                (Some(host), None) => format!("{}://{host}", u.scheme()),
                _ => String::new(),
            })
            .collect();
        format!(
            "{} URL(s) [{}], timeout {}, at most {} per second per URL",
            config.urls.len(),
            hosts.join(", "),
            humantime::format_duration(config.timeout),
            config.per_url_per_second
        )
    }

    fn check_recipient(config: &Config, to: &str) -> Result<(), String> {
        // Only the configured endpoints: a caller never makes herald post to a URL of its own.
        if config.urls.iter().any(|u| u == to) {
            Ok(())
        } else {
            Err("not one of this sink's configured urls".to_owned())
        }
    }

    fn build(config: &Config, ctx: &Context) -> Result<Built<WebhookSink>, BoxError> {
        Ok(Built::new(WebhookSink::new(ctx.id(), config.clone())?))
    }
}

#[cfg(test)]
mod tests {
    use sink_api::Plugin as _;

    use super::*;

    #[test]
    fn describe_shows_hosts_never_paths_or_queries() {
        let config: Config = serde_json::from_value(serde_json::json!({
            "secret": "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "urls": ["https://crm.example/hooks/s3cr3t?token=t0k", "http://127.0.0.1:9000/in"],
        }))
        .unwrap();
        assert_eq!(
            Plugin::describe(&config),
            "2 URL(s) [https://crm.example, http://127.0.0.1:9000], timeout 15s, at most 10 per second per URL"
        );
    }
}
