//! How several sources for one match are fused: the matches linked in the config, and how
//! many sources must report an incident of each group before it is notified.

use std::collections::BTreeMap;
use std::time::Duration;

use super::Links;
use crate::model::EventKind;

/// The fusion settings the store applies at each commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `[[links]]`.
    pub links: Links,
    /// Sources needed per kind group (`detect.confirm`); absent: 1.
    pub confirm: BTreeMap<String, u8>,
    /// `detect.confirm_timeout`.
    pub confirm_timeout: Duration,
    /// `detect.stall_after`.
    pub stall_after: Duration,
}

impl Policy {
    /// How many sources must report an incident of `kind` before it is notified.
    pub fn needed(&self, kind: EventKind) -> u8 {
        self.confirm.get(kind.group()).copied().unwrap_or(1).max(1)
    }

    /// `confirm_timeout` in milliseconds.
    pub fn timeout_ms(&self) -> i64 {
        millis(self.confirm_timeout)
    }

    /// `stall_after` in milliseconds.
    pub fn stall_ms(&self) -> i64 {
        millis(self.stall_after)
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Default for Policy {
    fn default() -> Self {
        let detect = crate::config::DetectConfig::default();
        Self {
            links: Links::default(),
            confirm: detect.confirm,
            confirm_timeout: detect.confirm_timeout,
            stall_after: detect.stall_after,
        }
    }
}
