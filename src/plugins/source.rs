//! How the core holds source types without knowing them: a `[sources.<id>]` table is parsed
//! into a [`SourceSpec`] that checks, describes and builds its poller.

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;
use sink_api::Invalid;

use crate::config::{ConfigError, typed};
use crate::poller::PollerEntry;
use crate::sources::{Cadence, Source, SourceError};
use crate::store::Store;

/// A provider of match data, implemented once per module under `sources/`.
pub trait SourcePlugin: 'static {
    /// The `type` name in config.
    const KIND: &'static str;

    /// The provider keys of a `[sources.<id>]` table (cadence keys are the core's), with
    /// `#[serde(deny_unknown_fields)]`.
    type Config: DeserializeOwned + fmt::Debug + Send + Sync + 'static;

    /// The source it builds.
    type Source: Source;

    /// Checks what types cannot; pure.
    ///
    /// # Errors
    /// The first problem, with the key it is about.
    fn validate(config: &Self::Config) -> Result<(), Invalid> {
        let _ = config;
        Ok(())
    }

    /// What `check-config` prints after the source's id and type.
    fn describe(config: &Self::Config) -> String;

    /// Builds the source (`store` for those that read from it: pushed snapshots).
    ///
    /// # Errors
    /// A replay that cannot be read, or an HTTP client that cannot be built.
    fn build(config: &Self::Config, id: &str, store: &Store) -> Result<Self::Source, SourceError>;
}

/// A source type, as the core holds it.
pub trait SourceType: Sync + fmt::Debug {
    /// The `type` name.
    fn kind(&self) -> &'static str;

    /// Reads the provider keys of `[sources.<id>]` (`prefix`).
    ///
    /// # Errors
    /// An unknown key or a bad value.
    fn parse(&self, prefix: &str, table: Value) -> Result<Arc<dyn SourceSpec>, ConfigError>;
}

/// One configured source's settings, typed inside, opaque outside.
pub trait SourceSpec: fmt::Debug + Send + Sync {
    /// The source type's name.
    fn kind(&self) -> &'static str;

    /// The typed settings, for code that knows the type (`downcast_ref`).
    fn settings(&self) -> &dyn Any;

    /// The source type's checks.
    ///
    /// # Errors
    /// The first problem, with its key inside the source's table.
    fn validate(&self) -> Result<(), Invalid>;

    /// Its line in `check-config`.
    fn describe(&self) -> String;

    /// The poller of the instance `id`.
    ///
    /// # Errors
    /// A replay that cannot be read, or an HTTP client that cannot be built.
    fn build(&self, id: &str, cadence: Cadence, store: &Store) -> Result<PollerEntry, SourceError>;
}

/// A [`SourcePlugin`] as a [`SourceType`].
pub(super) struct Adapter<P>(PhantomData<fn() -> P>);

impl<P> Adapter<P> {
    /// The adapter (a unit value, for the static list).
    pub(super) const NEW: Self = Self(PhantomData);
}

impl<P: SourcePlugin> fmt::Debug for Adapter<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SourceType").field(&P::KIND).finish()
    }
}

impl<P: SourcePlugin> SourceType for Adapter<P> {
    fn kind(&self) -> &'static str {
        P::KIND
    }

    fn parse(&self, prefix: &str, table: Value) -> Result<Arc<dyn SourceSpec>, ConfigError> {
        let settings: P::Config = typed(prefix, table)?;
        Ok(Arc::new(Spec::<P>(settings)))
    }
}

/// The settings of a source built in code (the demo's replay).
pub fn spec<P: SourcePlugin>(settings: P::Config) -> Arc<dyn SourceSpec> {
    Arc::new(Spec::<P>(settings))
}

/// A source's typed settings.
struct Spec<P: SourcePlugin>(P::Config);

impl<P: SourcePlugin> fmt::Debug for Spec<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple(P::KIND).field(&self.0).finish()
    }
}

impl<P: SourcePlugin> SourceSpec for Spec<P> {
    fn kind(&self) -> &'static str {
        P::KIND
    }

    fn settings(&self) -> &dyn Any {
        &self.0
    }

    fn validate(&self) -> Result<(), Invalid> {
        P::validate(&self.0)
    }

    fn describe(&self) -> String {
        P::describe(&self.0)
    }

    fn build(&self, id: &str, cadence: Cadence, store: &Store) -> Result<PollerEntry, SourceError> {
        Ok(PollerEntry::new(id, P::build(&self.0, id, store)?, cadence))
    }
}
