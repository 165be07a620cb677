-- Messages addressed through the messages API (`POST /api/v1/messages`): what was asked, and
-- when it is due. A message is `scheduled` (state 0) until its `send_at`; then it becomes an
-- event with its outbox rows, in one transaction that also sets state 1 (released) and
-- `event_seq`, so it is released once whatever the number of instances. Cancelling a
-- scheduled message sets state 2; cancelling a released one marks its pending outbox rows
-- cancelled (outbox status 4) and sets `cancelled_at`. What each recipient got is read from
-- the outbox rows of `event_seq`.
-- `idempotency_key` is the caller's token name and its `Idempotency-Key` header; `request` is
-- the request as accepted, in one canonical form: a repeat with the same key and the same
-- request gets the first answer.
CREATE TABLE messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    request TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    state BIGINT NOT NULL,
    send_at BIGINT NOT NULL,
    event_seq BIGINT,
    deliveries BIGINT NOT NULL,
    cancelled_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- The scheduler's one read: the next due message.
CREATE INDEX messages_due ON messages (send_at) WHERE state = 0;
-- A message's deliveries, and the retention purge's check that an event has none left. SQLite
-- has this from the unique (event_seq, sink, recipient) index that PostgreSQL dropped.
-- postgres: CREATE INDEX outbox_event ON outbox (event_seq);
