//! What the core adds to the Viber sink's plug-in: the record its callbacks update (the store).
//! A user who unsubscribes has their subscriptions paused, not deleted, and resumed when they
//! come back; a `failed` callback turns its delivery into a dead letter.

use std::sync::Arc;

use sink_api::BoxError;
use sink_viber::{Config, Plugin, Users, UsersFuture, ViberSink};

use crate::plugins::{self, Host};
use crate::registry::Registry;
use crate::store::Store;

/// The store behind [`sink_viber::Plugin`]'s callbacks.
#[derive(Debug)]
pub struct Extension;

impl plugins::Extension<Plugin> for Extension {
    fn built(
        _settings: &Config,
        sink: &ViberSink,
        id: &str,
        host: &Host<'_>,
        _registry: &mut Registry,
    ) -> Result<(), BoxError> {
        sink.attach(Arc::new(StoreUsers {
            store: host.store.clone(),
            sink: id.to_owned(),
        }))?;
        Ok(())
    }
}

/// The store's subscriptions and outbox of one Viber sink instance, as its callbacks change
/// them.
#[derive(Debug)]
struct StoreUsers {
    store: Store,
    sink: String,
}

impl Users for StoreUsers {
    fn pause<'a>(&'a self, user: &'a str) -> UsersFuture<'a, u64> {
        Box::pin(async move { Ok(self.store.pause_recipient(&self.sink, user).await?) })
    }

    fn resume<'a>(&'a self, user: &'a str) -> UsersFuture<'a, u64> {
        Box::pin(async move { Ok(self.store.resume_recipient(&self.sink, user).await?) })
    }

    fn failed<'a>(
        &'a self,
        user: &'a str,
        message_token: &'a str,
        error: &'a str,
    ) -> UsersFuture<'a, bool> {
        Box::pin(async move {
            Ok(self
                .store
                .dead_after_delivery(&self.sink, user, message_token, error)
                .await?)
        })
    }
}
