-- Per-chat preferences of chat sinks (the locale chosen with `lang`), kept apart from
-- subscriptions so that a chat's choice outlives unsubscribing and applies to what it follows
-- next.
CREATE TABLE chats (
    sink TEXT NOT NULL,
    recipient TEXT NOT NULL,
    locale TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (sink, recipient)
);
