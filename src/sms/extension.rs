//! What the core adds to the Twilio sink's plug-in: the SMS signup (it needs the store), its
//! routes, and the check of its settings against the rest of the config.

use std::sync::{Arc, OnceLock};

use sink_api::{BoxError, Invalid};
use sink_twilio::{TwilioSink, webhook};

use super::{Signup, router};
use crate::config::Config;
use crate::http::client_ip::ClientIp;
use crate::plugins::{self, Host};
use crate::registry::Registry;

/// Where the SMS signup is published once the Twilio sink that has it is built, for the bot
/// commands that start signups (`subscribe +15551234567` in a chat).
pub type Slot = Arc<OnceLock<Arc<Signup>>>;

/// The SMS signup on top of [`sink_twilio::Plugin`].
#[derive(Debug)]
pub struct Extension;

impl plugins::Extension<sink_twilio::Plugin> for Extension {
    fn validate(settings: &sink_twilio::Config, config: &Config) -> Result<(), Invalid> {
        if settings.signup.client_ip_header.is_some() && config.http.trusted_proxies.is_empty() {
            return Err(Invalid::new(
                "signup.client_ip_header",
                "needs http.trusted_proxies: the header is believed only from your proxies",
            ));
        }
        Ok(())
    }

    fn built(
        settings: &sink_twilio::Config,
        sink: &TwilioSink,
        id: &str,
        host: &Host<'_>,
        registry: &mut Registry,
    ) -> Result<(), BoxError> {
        if !settings.signup.enabled {
            return Ok(());
        }
        let client_ip = ClientIp::new(
            settings.signup.client_ip_header.as_deref(),
            &host.config.http.trusted_proxies,
        );
        let signup = Arc::new(
            Signup::new(
                host.store.clone(),
                id,
                sink.clone(),
                Arc::clone(host.renderer),
                client_ip,
            )
            .with_time_zone(&host.config.render.time_zone),
        );
        tracing::info!(sink = %id, "SMS signup at POST /api/v1/sms/subscribe, inbound at {}", webhook::INBOUND_PATH);
        registry.routers.push(router(Arc::clone(&signup)));
        // Config validation lets one sink serve the signup's paths, so the slot is empty.
        host.sms
            .set(signup)
            .map_err(|_| format!("sinks.{id}: a second SMS signup"))?;
        Ok(())
    }
}
