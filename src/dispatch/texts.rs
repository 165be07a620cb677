//! Each (event, locale) rendered once per worker: a fan-out to thousands of recipients renders
//! its template and encodes its data once, not once per recipient.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use sink_api::Notification;

use crate::render::{RenderError, Renderer};
use crate::store::Queued;

/// Most notifications kept; past it the cache starts over.
const CAPACITY: usize = 256;

/// Rendered notifications by (event id, locale).
#[derive(Debug, Default)]
pub(super) struct Texts {
    by_event: Mutex<HashMap<(String, String), Arc<Notification>>>,
}

impl Texts {
    /// The notification of `queued` (without `replaces`: that one is per recipient).
    pub(super) fn notification(
        &self,
        renderer: &Renderer,
        queued: &Queued,
    ) -> Result<Notification, RenderError> {
        let key = (queued.event.id.clone(), queued.locale.clone());
        let cached = self.lock().get(&key).cloned();
        let base = match cached {
            Some(base) => base,
            None => {
                let rendered = renderer.render(&queued.event, &queued.locale)?;
                let base = Arc::new(super::notification(queued, rendered, None));
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Arc<Notification>>> {
        self.by_event.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
