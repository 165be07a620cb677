//! How the core holds sink plug-ins without knowing their types: a `[sinks.<id>]` table is
//! parsed into a [`SinkSpec`] that checks, describes and builds itself into the registry.

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde_json::Value;
use sink_api::{BoxError, Commands, Context, Invalid, Plugin, Relay, Sink};

use crate::config::{Config, ConfigError, RouteConfig, typed};
use crate::registry::Registry;
use crate::render::Renderer;
use crate::store::Store;

/// One line of the plug-in list: a sink type's feature, and its plug-in when compiled in.
#[derive(Debug)]
pub struct SinkEntry {
    /// The cargo feature, which is also the sink's `type`.
    pub feature: &'static str,
    /// `None` when the feature is off.
    pub plugin: Option<&'static dyn SinkPlugin>,
}

/// A sink type, as the core holds it.
pub trait SinkPlugin: Sync + fmt::Debug {
    /// Its `type` name.
    fn kind(&self) -> &'static str;

    /// Other `type` names it answers to.
    fn aliases(&self) -> &'static [&'static str];

    /// Reads the platform keys of `[sinks.<id>]` (`prefix`), naming the key of any problem.
    ///
    /// # Errors
    /// An unknown key or a bad value.
    fn parse(&self, prefix: &str, table: Value) -> Result<Arc<dyn SinkSpec>, ConfigError>;
}

/// One configured sink's settings, typed inside, opaque outside.
pub trait SinkSpec: fmt::Debug + Send + Sync {
    /// The sink type's own name.
    fn kind(&self) -> &'static str;

    /// The typed settings, for code that knows the type (`downcast_ref`).
    fn settings(&self) -> &dyn Any;

    /// The plug-in's checks, and the core's checks of it against the whole `config`.
    ///
    /// # Errors
    /// The first problem, with its key inside the sink's table.
    fn validate(&self, config: &Config) -> Result<(), Invalid>;

    /// Fixed HTTP paths it serves.
    fn paths(&self) -> Vec<&'static str>;

    /// Its line in `check-config`.
    fn describe(&self) -> String;

    /// Checks a recipient given by hand (see [`Plugin::check_recipient`]).
    ///
    /// # Errors
    /// What is wrong with `to`.
    fn check_recipient(&self, to: &str) -> Result<(), String>;

    /// Builds the instance `id` into `registry`.
    ///
    /// # Errors
    /// A client that cannot be built.
    fn build(
        &self,
        id: &str,
        route: &RouteConfig,
        host: &Host<'_>,
        registry: &mut Registry,
    ) -> Result<(), BoxError>;
}

/// What the core adds to one sink type beyond the plug-in contract (the SMS signup of the
/// Twilio sink, which needs the store): checks against the whole config, and work once the
/// sink is built.
pub trait Extension<P: Plugin>: 'static {
    /// Checks `settings` against the rest of `config`.
    ///
    /// # Errors
    /// The first problem, with its key inside the sink's table.
    fn validate(settings: &P::Config, config: &Config) -> Result<(), Invalid> {
        let _ = (settings, config);
        Ok(())
    }

    /// Runs once the instance `id` is built, before it is added to `registry`.
    ///
    /// # Errors
    /// What cannot be set up.
    fn built(
        settings: &P::Config,
        sink: &P::Sink,
        id: &str,
        host: &Host<'_>,
        registry: &mut Registry,
    ) -> Result<(), BoxError> {
        let _ = (settings, sink, id, host, registry);
        Ok(())
    }
}

/// No extension: the plug-in is all there is.
impl<P: Plugin> Extension<P> for () {}

/// What the core lends sinks while they are built.
pub struct Host<'a> {
    /// The whole configuration.
    pub config: &'a Config,
    /// The store.
    pub store: &'a Store,
    /// The templates of every locale (replies and texts sinks' inbound sides send).
    pub renderer: &'a Arc<Renderer>,
    /// The bot command handler of a sink instance.
    pub commands: &'a dyn Fn(&str, bool) -> Commands,
    /// Messages between a sink's copies on every instance.
    pub relay: &'a Arc<dyn Relay>,
    /// Where the SMS signup is published for the bot commands that start one.
    #[cfg(feature = "twilio")]
    pub sms: &'a crate::sms::Slot,
}

impl fmt::Debug for Host<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Host").finish_non_exhaustive()
    }
}

/// A [`Plugin`] (and its core [`Extension`]) as a [`SinkPlugin`].
pub(super) struct Adapter<P, E>(PhantomData<fn() -> (P, E)>);

impl<P, E> Adapter<P, E> {
    /// The adapter (a unit value, for the static list).
    pub(super) const NEW: Self = Self(PhantomData);
}

impl<P: Plugin, E> fmt::Debug for Adapter<P, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SinkPlugin")
            .field(&<P::Sink as Sink>::KIND)
            .finish()
    }
}

impl<P: Plugin, E: Extension<P>> SinkPlugin for Adapter<P, E> {
    fn kind(&self) -> &'static str {
        <P::Sink as Sink>::KIND
    }

    fn aliases(&self) -> &'static [&'static str] {
        P::ALIASES
    }

    fn parse(&self, prefix: &str, table: Value) -> Result<Arc<dyn SinkSpec>, ConfigError> {
        let settings: P::Config = typed(prefix, table)?;
        Ok(Arc::new(Spec::<P, E> {
            settings,
            extension: PhantomData,
        }))
    }
}

struct Spec<P: Plugin, E> {
    settings: P::Config,
    extension: PhantomData<fn() -> E>,
}

impl<P: Plugin, E> fmt::Debug for Spec<P, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple(<P::Sink as Sink>::KIND)
            .field(&self.settings)
            .finish()
    }
}

impl<P: Plugin, E: Extension<P>> SinkSpec for Spec<P, E> {
    fn kind(&self) -> &'static str {
        <P::Sink as Sink>::KIND
    }

    fn settings(&self) -> &dyn Any {
        &self.settings
    }

    fn validate(&self, config: &Config) -> Result<(), Invalid> {
        P::validate(&self.settings)?;
        E::validate(&self.settings, config)
    }

    fn paths(&self) -> Vec<&'static str> {
        P::paths(&self.settings)
    }

    fn describe(&self) -> String {
        P::describe(&self.settings)
    }

    fn check_recipient(&self, to: &str) -> Result<(), String> {
        P::check_recipient(&self.settings, to)
    }

    fn build(
        &self,
        id: &str,
        route: &RouteConfig,
        host: &Host<'_>,
        registry: &mut Registry,
    ) -> Result<(), BoxError> {
        let edits = <P::Sink as sink_api::Sink>::EDITS;
        let ctx = Context::new(id, (host.commands)(id, edits)).with_relay(Arc::clone(host.relay));
        let built = P::build(&self.settings, &ctx)?;
        E::built(&self.settings, &built.sink, id, host, registry)?;
        registry.add_built(id, built, route, &host.config.render.default_locale);
        Ok(())
    }
}

/// Whether any entry is compiled in (checked at compile time).
pub(super) const fn any_compiled(entries: &[SinkEntry]) -> bool {
    let mut i = 0;
    while i < entries.len() {
        if entries[i].plugin.is_some() {
            return true;
        }
        i += 1;
    }
    false
}
