//! The one list of plug-ins: every sink type (behind its cargo feature) and every source type
//! herald knows. Config parsing, validation, `check-config`, the registry and startup all go
//! through these lists; adding a sink or a source is one line here.

mod sink;
mod source;

/// One entry of [`SINKS`]: the sink type's plug-in when its feature is compiled in.
macro_rules! sink {
    ($feature:tt, $plugin:ty) => {
        sink!($feature, $plugin, ())
    };
    ($feature:tt, $plugin:ty, $extension:ty) => {
        SinkEntry {
            feature: $feature,
            plugin: {
                #[cfg(feature = $feature)]
                const PLUGIN: Option<&'static dyn SinkPlugin> =
                    Some(&sink::Adapter::<$plugin, $extension>::NEW);
                #[cfg(not(feature = $feature))]
                const PLUGIN: Option<&'static dyn SinkPlugin> = None;
                PLUGIN
            },
        }
    };
}

pub use sink::{Extension, Host, SinkEntry, SinkPlugin, SinkSpec};
pub use source::{SourcePlugin, SourceSpec, SourceType, spec as source_spec};

use crate::sources::{api_football, fifa, football_data, livescore, push, replay};

/// Every sink type, in the order `check-config` and error messages list them. One line per
/// sink: `sink!("<feature and type>", <crate>::Plugin)`, with an optional core extension.
pub static SINKS: &[SinkEntry] = &[
    sink!("console", sink_console::Plugin),
    sink!("sse", sink_sse::Plugin),
    sink!("telegram", sink_telegram::Plugin),
    sink!("slack", sink_slack::Plugin),
    sink!("discord", sink_discord::Plugin),
    sink!("twilio", sink_twilio::Plugin, crate::sms::Extension),
    sink!(
        "whatsapp",
        sink_twilio::WhatsAppPlugin,
        crate::whatsapp::Extension
    ),
    sink!("x", sink_x::Plugin),
    sink!("webhook", sink_webhook::Plugin),
    sink!("viber", sink_viber::Plugin, crate::viber::Extension),
    sink!("socketio", sink_socketio::Plugin),
];

/// Every source type, in the order error messages list them.
pub static SOURCES: &[&dyn SourceType] = &[
    &source::Adapter::<replay::Plugin>::NEW,
    &source::Adapter::<fifa::Plugin>::NEW,
    &source::Adapter::<livescore::Plugin>::NEW,
    &source::Adapter::<football_data::Plugin>::NEW,
    &source::Adapter::<api_football::Plugin>::NEW,
    &source::Adapter::<push::Plugin>::NEW,
];

/// The compiled-in sink type called `name` (or one of its aliases).
pub fn sink_type(name: &str) -> Option<&'static dyn SinkPlugin> {
    SINKS
        .iter()
        .filter_map(|entry| entry.plugin)
        .find(|plugin| plugin.kind() == name || plugin.aliases().contains(&name))
}

/// The source type called `name`.
pub fn source_type(name: &str) -> Option<&'static dyn SourceType> {
    SOURCES.iter().copied().find(|s| s.kind() == name)
}

const _: () = assert!(
    sink::any_compiled(SINKS),
    "herald needs at least one sink: enable a sink feature (see [features] in Cargo.toml)"
);
