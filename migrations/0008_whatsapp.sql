-- WhatsApp numbers that wrote to a WhatsApp sink, one row per (sink, number E.164). Shared by
-- every instance, as WhatsApp's rules are per number whichever instance sends:
-- - `last_inbound_at` (ms) is when the number last wrote: free-form messages are allowed for
--   24 hours after it (the customer-service window), a template otherwise;
-- - `opted_in` (BIGINT 0/1) is whether it asked for notifications (subscribed from WhatsApp, or
--   START) and has not sent STOP since: nothing is sent to a number without it.
CREATE TABLE whatsapp_sessions (
    sink TEXT NOT NULL,
    phone TEXT NOT NULL,
    last_inbound_at BIGINT,
    opted_in BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (sink, phone)
);
