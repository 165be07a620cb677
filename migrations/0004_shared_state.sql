-- Running herald processes and when each was last heard of. An instance refreshes its row
-- every `store.heartbeat`; one silent for longer than `store.instance_timeout` is dead, and
-- any live instance then releases its delivery claims and source leases at once instead of
-- waiting for them to expire.
CREATE TABLE instances (
    id TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    seen_at BIGINT NOT NULL
);

-- Rate limits shared by every instance (SMS signup per address, number and prefix), as the
-- theoretical arrival time of the next request (GCRA): a request is admitted when `tat` is
-- at most the burst tolerance ahead of now. Rows whose `tat` is past are forgotten.
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    tat BIGINT NOT NULL
);
