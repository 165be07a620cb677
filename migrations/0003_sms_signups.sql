-- SMS signups waiting for the subscriber's confirmation (double opt-in): one row per number,
-- replaced by a new signup of the same number, deleted when confirmed or given up. What the
-- subscriber asked for is kept as JSON (`{"scopes": [["team", "France"]], "kinds": [],
-- "locale": "en"}`) and becomes subscriptions rows on confirmation.
CREATE TABLE sms_signups (
    sink TEXT NOT NULL,
    phone TEXT NOT NULL,
    code TEXT NOT NULL,
    request TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (sink, phone)
);
