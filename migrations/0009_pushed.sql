-- Match snapshots pushed by producers (`POST /api/v1/ingest`, sources of type `push`): an
-- inbox the push source's poller reads in `seq` order, through the same detection and commit
-- as a polled source. `state` is the validated snapshot (model::MatchState as JSON), `sequence`
-- the producer's own version of it, if given. Rows are deleted once a poll has committed them
-- (the source's cursor is past them).
CREATE TABLE pushed (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    match_id TEXT NOT NULL,
    sequence BIGINT,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX pushed_source ON pushed (source, seq);
