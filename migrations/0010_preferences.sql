-- How each chat or SMS subscriber wants notifications delivered (issue 15): quiet hours as
-- JSON (`{"start": "23:00", "end": "07:00", "zone": "Europe/Lisbon", "drop": ["cards"]}`) or
-- NULL, whether texts may give the score away, and `messages` or `ticker`.
ALTER TABLE chats ADD COLUMN quiet TEXT;
ALTER TABLE chats ADD COLUMN spoilers BIGINT NOT NULL DEFAULT 1;
ALTER TABLE chats ADD COLUMN mode TEXT NOT NULL DEFAULT 'messages';

-- One live ticker message per (sink, chat, match): the platform's id of the message to edit,
-- what it shows (JSON: the score, whether the match is over, the latest event lines) and when
-- it was last edited (edits are paced).
CREATE TABLE tickers (
    sink TEXT NOT NULL,
    recipient TEXT NOT NULL,
    match_id TEXT NOT NULL,
    receipt TEXT,
    state TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (sink, recipient, match_id)
);
