//! Rate limits a sink declares for its platform; the core enforces them.

use std::num::NonZeroU32;
use std::time::Duration;

/// `count` messages per `per`, e.g. 1 per second or 20 per minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    /// How many messages may be sent in each period.
    pub count: NonZeroU32,
    /// The length of the period.
    pub per: Duration,
}

impl Rate {
    /// `count` messages per `per`. A zero count is raised to one.
    pub fn new(count: u32, per: Duration) -> Self {
        Self {
            count: NonZeroU32::new(count).unwrap_or(NonZeroU32::MIN),
            per,
        }
    }

    /// `count` messages per second.
    pub fn per_second(count: u32) -> Self {
        Self::new(count, Duration::from_secs(1))
    }

    /// `count` messages per minute.
    pub fn per_minute(count: u32) -> Self {
        Self::new(count, Duration::from_secs(60))
    }
}

/// The limits of one sink instance. Every rate in a list applies at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// Limits over all deliveries of the sink instance (e.g. Telegram's ~30/s per bot).
    pub global: Vec<Rate>,
    /// Limits per recipient (e.g. Telegram's 1/s per chat).
    pub per_recipient: Vec<Rate>,
    /// At most this many messages to one recipient in any 24 hours (a cost cap for SMS).
    /// Unlike the rates, which delay, the core skips what is over the cap: a goal is worth
    /// nothing the next day.
    pub daily_per_recipient: Option<NonZeroU32>,
}
