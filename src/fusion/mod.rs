//! Several sources for one match. The same real match reported by different providers is
//! recognised ([`identity`]) or linked in the config ([`Links`]) and becomes one fused match,
//! named after the first source that reported it; an incident reported by one source and then
//! by another ([`incidents`]) is notified once, when the first one has it. The store applies
//! this inside each poll's commit (`store::fusion`), so every instance agrees.

pub mod identity;
pub mod incidents;
mod links;
mod policy;

pub use links::{Links, LinksError};
pub use policy::Policy;

use crate::model::EventKind;

/// The id an event detected on `source`'s match `own` takes in the fused match `fused`.
///
/// A match's own events keep their ids. Another source's phase events (`…:half_time`) and
/// goals known only from the score (`…:score:home:2`) take the fused match's ids, so the
/// store's unique event ids drop them when the first source already has them; its incidents
/// keep their provider keys under the source's name (`fifa:1:football_data/goal:18:…`),
/// since providers' keys mean nothing to each other: those are told apart by
/// [`incidents::same_incident`].
pub fn fused_event_id(id: &str, own: &str, fused: &str, source: &str, kind: EventKind) -> String {
    if own == fused {
        return id.to_owned();
    }
    let Some(rest) = id.strip_prefix(own).and_then(|r| r.strip_prefix(':')) else {
        return id.to_owned();
    };
    if kind.group() == "periods" || rest.starts_with("score:") {
        format!("{fused}:{rest}")
    } else {
        format!("{fused}:{source}/{rest}")
    }
}

/// The source that first reported event `event_id` of fused match `fused`: named in another
/// source's ids (`fifa:1:fd/goal:…`), else the fused match's own source (its id's prefix).
pub fn first_source<'a>(event_id: &'a str, fused: &'a str) -> &'a str {
    let rest = event_id
        .strip_prefix(fused)
        .and_then(|r| r.strip_prefix(':'))
        .unwrap_or_default();
    match rest.split_once('/') {
        Some((source, _)) if !source.contains(':') => source,
        _ => fused.split_once(':').map_or(fused, |(source, _)| source),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_another_source_move_under_the_fused_match() {
        let id = |id, kind| fused_event_id(id, "fd:9", "fifa:1", "fd", kind);
        assert_eq!(
            id("fd:9:half_time", EventKind::HalfTime),
            "fifa:1:half_time"
        );
        assert_eq!(
            id("fd:9:score:home:2", EventKind::Goal),
            "fifa:1:score:home:2"
        );
        assert_eq!(
            id("fd:9:goal:18:0:7", EventKind::Goal),
            "fifa:1:fd/goal:18:0:7"
        );
        assert_eq!(
            fused_event_id("fifa:1:ev:5", "fifa:1", "fifa:1", "fifa", EventKind::Goal),
            "fifa:1:ev:5"
        );
        // An id that is not the match's own is left alone.
        assert_eq!(id("other:1:x", EventKind::Goal), "other:1:x");
    }

    #[test]
    fn the_first_source_is_read_from_the_id() {
        assert_eq!(first_source("fifa:1:fd/goal:18:0:7", "fifa:1"), "fd");
        assert_eq!(first_source("fifa:1:ev:5", "fifa:1"), "fifa");
        assert_eq!(first_source("fifa:1:half_time", "fifa:1"), "fifa");
    }
}
