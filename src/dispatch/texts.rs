//! Each (event, locale) rendered once per worker: a fan-out to thousands of recipients renders
//! its template and encodes its data once, not once per recipient.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use sink_api::Notification;

use crate::render::{RenderError, Renderer};
use crate::store::Queued;

/// Most notifications kept; past it the cache starts over.
const CAPACITY: usize = 256;

/// Rendered notifications by (event id, locale, spoilers shown).
type Key = (String, String, bool);

/// Rendered notifications by [`Key`].
#[derive(Debug, Default)]
pub(super) struct Texts {
    by_event: Mutex<HashMap<Key, Arc<Notification>>>,
}

impl Texts {
    /// The notification of `queued` (without `replaces`: that one is per recipient), with
    /// the score or without it (`spoilers` false: its data loses the score too).
    pub(super) fn notification(
        &self,
        renderer: &Renderer,
        queued: &Queued,
        spoilers: bool,
    ) -> Result<Notification, RenderError> {
        let key = (queued.event.id.clone(), queued.locale.clone(), spoilers);
        let cached = self.lock().get(&key).cloned();
        let base = match cached {
            Some(base) => base,
            None => {
                let rendered = renderer.render_for(&queued.event, &queued.locale, spoilers)?;
                let mut base = super::notification(queued, rendered, None);
                if !spoilers {
                    base.data =
                        serde_json::to_value(queued.event.without_spoilers()).unwrap_or_default();
                }
                let base = Arc::new(base);
                let mut by_event = self.lock();
                if by_event.len() >= CAPACITY {
                    by_event.clear();
                }
                by_event.insert(key, Arc::clone(&base));
                base
            }
        };
        let mut notification = (*base).clone();
        notification.id = queued.id;
        Ok(notification)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Arc<Notification>>> {
        self.by_event.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
