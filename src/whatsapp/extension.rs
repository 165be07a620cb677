//! What the core adds to the WhatsApp sink's plug-in: the record of who opted in and when each
//! number last wrote (the store, attached to the sink), and the inbound webhook that keeps it.

use std::sync::Arc;

use sink_api::BoxError;
use sink_twilio::{WhatsAppConfig, WhatsAppPlugin, WhatsAppSink, webhook};

use super::{Inbound, StoreSessions, router};
use crate::plugins::{self, Host};
use crate::registry::Registry;

/// The opt-in record and the inbound webhook on top of [`sink_twilio::WhatsAppPlugin`].
#[derive(Debug)]
pub struct Extension;

impl plugins::Extension<WhatsAppPlugin> for Extension {
    fn built(
        _settings: &WhatsAppConfig,
        sink: &WhatsAppSink,
        id: &str,
        host: &Host<'_>,
        registry: &mut Registry,
    ) -> Result<(), BoxError> {
        sink.attach(Arc::new(StoreSessions {
            store: host.store.clone(),
            sink: id.to_owned(),
        }))?;
        let inbound = Inbound::new(
            host.store.clone(),
            id,
            sink.clone(),
            (host.commands)(id, false),
            Arc::clone(host.renderer),
        );
        tracing::info!(sink = %id, "WhatsApp inbound at {}", webhook::WHATSAPP_PATH);
        registry.routers.push(router(Arc::new(inbound)));
        Ok(())
    }
}
