-- Several sources for one match (issue 16). A match another source reported first is stored
-- with `fused_into`, the id of that match: its events are recorded under it, and the lists
-- show the fused match once.
ALTER TABLE matches ADD COLUMN fused_into TEXT;
CREATE INDEX matches_fused_into ON matches (fused_into);

-- Reports of a fused match's events by the sources that were not first: the id the source's
-- detection gave it, the fused event it is, and when it came (the source's lag). A source that
-- took a goal back has a row with `retracted` = 1 and the correction to send (`payload`) once
-- the other sources agree.
CREATE TABLE event_sources (
    source_event_id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    match_id TEXT NOT NULL,
    source TEXT NOT NULL,
    retracted BIGINT NOT NULL DEFAULT 0,
    payload TEXT,
    seen_at BIGINT NOT NULL
);
CREATE INDEX event_sources_match ON event_sources (match_id);
CREATE INDEX event_sources_event ON event_sources (event_id);

-- Incidents waiting for a second source (`detect.confirm`): notified when another source
-- reports them too, or when `detect.confirm_timeout` passes.
CREATE TABLE held_events (
    event_id TEXT PRIMARY KEY,
    match_id TEXT NOT NULL,
    source TEXT NOT NULL,
    payload TEXT NOT NULL,
    held_at BIGINT NOT NULL
);
CREATE INDEX held_events_match ON held_events (match_id);
