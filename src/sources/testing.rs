//! A scripted transport for the providers' unit tests: canned bodies per request, the
//! provider's clock, and a log of what was asked.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;

use super::{Response, SourceError, Transport};

/// Answers each request from a table keyed by `path?k=v&…` (query in the order the provider
/// sends it); anything else gets a 404.
#[derive(Debug, Default)]
pub(crate) struct Scripted {
    bodies: Mutex<HashMap<String, serde_json::Value>>,
    now: Mutex<i64>,
    log: Mutex<Vec<String>>,
}

impl Scripted {
    /// Answers `request` with `body` from now on.
    pub(crate) fn answer(&self, request: &str, body: serde_json::Value) {
        self.bodies.lock().unwrap().insert(request.to_owned(), body);
    }

    /// Sets the provider's clock (its `Date` header), Unix seconds.
    pub(crate) fn set_now(&self, now: i64) {
        *self.now.lock().unwrap() = now;
    }

    /// The requests made so far, and forgets them.
    pub(crate) fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

impl Transport for Scripted {
    async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Response, SourceError> {
        let mut key = path.to_owned();
        for (i, (k, v)) in query.iter().enumerate() {
            key.push(if i == 0 { '?' } else { '&' });
            key.push_str(&format!("{k}={v}"));
        }
        self.log.lock().unwrap().push(key.clone());
        let body = self.bodies.lock().unwrap().get(&key).cloned();
        Ok(Response {
            status: if body.is_some() { 200 } else { 404 },
            headers: reqwest::header::HeaderMap::new(),
            body: Bytes::from(serde_json::to_vec(&body.unwrap_or_default()).unwrap()),
            now: *self.now.lock().unwrap(),
        })
    }
}
