-- Events JetStream refused for good (docs/EVENTS.md "Dead letters"): moved
-- here from event_outbox by the publisher after a few refusals, so the
-- events behind them flow on. Kept for an operator to inspect and replay.
CREATE TABLE event_dead_letters (
    -- The event's id in event_outbox.
    id         INTEGER PRIMARY KEY,
    event_id   TEXT NOT NULL,
    subject    TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    -- JetStream's refusal, as the publisher saw it last.
    error      TEXT NOT NULL,
    failed_ms  INTEGER NOT NULL
) STRICT;
