-- herald's schema. Portable between SQLite and PostgreSQL: integers are BIGINT, flags are
-- BIGINT 0/1, times are Unix milliseconds, JSON is TEXT. The one construct that differs,
-- `INTEGER PRIMARY KEY AUTOINCREMENT`, is rewritten to `BIGSERIAL PRIMARY KEY` for PostgreSQL
-- by src/store/migrate.rs.

-- Sources that have polled at least once, and where resumable ones stand.
CREATE TABLE sources (
    name TEXT PRIMARY KEY,
    cursor TEXT,
    first_polled_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The last known state of every match, as detection needs it (detect::Tracked as JSON), plus
-- the columns the web page lists.
CREATE TABLE matches (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    competition TEXT,
    home TEXT NOT NULL,
    away TEXT NOT NULL,
    phase TEXT NOT NULL,
    clock TEXT,
    home_score BIGINT NOT NULL,
    away_score BIGINT NOT NULL,
    kickoff BIGINT,
    state TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX matches_source ON matches (source);

-- Every event ever detected or published. `event_id` is the stable id: the unique index is
-- the last guard against notifying anything twice.
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    match_id TEXT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- One row per (event, sink instance, recipient): the outbox the dispatcher works from, and the
-- ledger of what was delivered (receipt) or given up on (status 2, dead letter).
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_seq BIGINT NOT NULL REFERENCES events (seq),
    sink TEXT NOT NULL,
    recipient TEXT NOT NULL,
    locale TEXT NOT NULL,
    status BIGINT NOT NULL DEFAULT 0,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_by TEXT,
    claimed_until BIGINT,
    last_error TEXT,
    receipt TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (event_seq, sink, recipient)
);
CREATE INDEX outbox_queue ON outbox (sink, status, recipient, id);
CREATE INDEX outbox_status ON outbox (status, updated_at);

-- Who follows what on which sink (filled by bot commands and signups). `scope` is all, team,
-- competition or match; `kinds` a comma-separated list of kinds or groups, empty for all.
CREATE TABLE subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sink TEXT NOT NULL,
    recipient TEXT NOT NULL,
    scope TEXT NOT NULL,
    value TEXT NOT NULL,
    kinds TEXT NOT NULL DEFAULT '',
    locale TEXT,
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (sink, recipient, scope, value)
);
CREATE INDEX subscriptions_sink ON subscriptions (sink, active);

-- Leases: which instance polls which source (one poller per source across instances).
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
