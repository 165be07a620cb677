-- The outbox's indexes, one per way it is read, each holding only the rows of one status:
-- pending rows in id order per sink (claims, counts, the sweep), delivered rows in id order
-- per sink (broadcast followers and their history), delivered rows per recipient (receipts
-- for corrections, daily caps), dead letters by when they died. A delivery adds few index
-- entries over its life, and each query has one index that fits it whatever the planner's
-- statistics say (with (status, updated_at) and (sink, status, id) it walked every pending
-- row per recipient after a burst, or every delivered row per claim).
-- A claim changes only claimed_by and claimed_until, which no index covers: on PostgreSQL it
-- rewrites its row in place (a HOT update, no index entries) when the page has room, which a
-- fill factor of 50 leaves for most rows (measured on 10,000 claims: 100: 0 in place, 180 ms;
-- 70: 37 %, 150 ms; 50: 84 %, 54 ms).
DROP INDEX outbox_status;
DROP INDEX outbox_queue;
DROP INDEX outbox_sink_order;
CREATE INDEX outbox_pending ON outbox (sink, id) WHERE status = 0;
CREATE INDEX outbox_delivered ON outbox (sink, id) WHERE status = 1;
CREATE INDEX outbox_delivered_to ON outbox (sink, recipient, event_seq) WHERE status = 1;
CREATE INDEX outbox_dead ON outbox (updated_at) WHERE status = 2;
-- PostgreSQL, where the outbox takes every delivery's writes, leaves out two checks that the
-- store's one writing path already guarantees (outbox rows are inserted with their event, in
-- its transaction, once per recipient) and that cost more than a third of each row's writes
-- there (measured: 10,000 rows inserted in 142 ms with the foreign key, 83 ms without; settled
-- in 176 ms with the unique index, 115 ms without). Events stay unique by event_id: the guard
-- against notifying anything twice.
-- postgres: ALTER TABLE outbox DROP CONSTRAINT outbox_event_seq_fkey;
-- postgres: ALTER TABLE outbox DROP CONSTRAINT outbox_event_seq_sink_recipient_key;
-- postgres: ALTER TABLE outbox SET (fillfactor = 50);
