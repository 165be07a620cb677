//! The rate limiters of one sink worker: the platform's global rates and, per recipient, the
//! rates that recipient gets.

use std::collections::HashMap;
use std::sync::Arc;

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use sink_api::{Limits, Rate};

/// The sink's declared rates, enforced before each send.
pub(super) struct Limiters {
    global: Vec<DefaultDirectRateLimiter>,
    /// One keyed limiter per distinct per-recipient rate, created when first needed.
    per_recipient: std::sync::Mutex<HashMap<Rate, Arc<DefaultKeyedRateLimiter<String>>>>,
}

pub(super) fn quota(rate: Rate) -> Option<Quota> {
    let period = rate.per.checked_div(rate.count.get())?;
    Quota::with_period(period).map(|q| q.allow_burst(rate.count))
}

impl Limiters {
    pub(super) fn new(limits: &Limits) -> Self {
        Self {
            global: limits
                .global
                .iter()
                .filter_map(|r| quota(*r))
                .map(RateLimiter::direct)
                .collect(),
            per_recipient: std::sync::Mutex::default(),
        }
    }

    pub(super) fn keyed(&self, rate: Rate) -> Option<Arc<DefaultKeyedRateLimiter<String>>> {
        let mut limiters = self
            .per_recipient
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(limiter) = limiters.get(&rate) {
            return Some(Arc::clone(limiter));
        }
        let limiter = Arc::new(RateLimiter::keyed(quota(rate)?));
        limiters.insert(rate, Arc::clone(&limiter));
        Some(limiter)
    }

    /// Waits for the recipient's rates, then for `cost` units of every global rate (one cell
    /// at a time, so a cost above a rate's burst still passes, spread out).
    pub(super) async fn wait(&self, recipient_rates: &[Rate], recipient: &str, cost: u32) {
        let key = recipient.to_owned();
        for rate in recipient_rates {
            if let Some(limiter) = self.keyed(*rate) {
                limiter.until_key_ready(&key).await;
            }
        }
        for limiter in &self.global {
            for _ in 0..cost.max(1) {
                limiter.until_ready().await;
            }
        }
    }
}
