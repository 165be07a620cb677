//! How several sources for one match are fused: the matches linked in the config, and how
//! many sources must report an incident of each group before it is notified.

use std::collections::BTreeMap;
use std::time::Duration;

use super::Links;
use crate::model::EventKind;

/// The fusion settings the store applies at each commit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// `[[links]]`.
    pub links: Links,
    /// Sources needed per kind group (`detect.confirm`); absent: 1.
    pub confirm: BTreeMap<String, u8>,
    /// `detect.confirm_timeout`.
    pub confirm_timeout: Duration,
}

impl Policy {
    /// How many sources must report an incident of `kind` before it is notified.
    pub fn needed(&self, kind: EventKind) -> u8 {
        self.confirm.get(kind.group()).copied().unwrap_or(1).max(1)
    }

    /// `confirm_timeout` in milliseconds.
    pub fn timeout_ms(&self) -> i64 {
        i64::try_from(self.confirm_timeout.as_millis()).unwrap_or(i64::MAX)
    }
}
