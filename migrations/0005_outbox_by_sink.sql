-- Each sink's rows in id order: a worker claims the oldest due heads of its queue without
-- grouping the whole queue, and a broadcast sink's follower on every instance reads what is
-- new after its cursor (broadcast rows are recorded as delivered at once).
CREATE INDEX outbox_sink_order ON outbox (sink, status, id);
