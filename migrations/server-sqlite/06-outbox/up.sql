-- Events for other systems (docs/EVENTS.md): written in the same
-- transaction as the changes they come from, published to NATS JetStream
-- in `id` order by the publisher (sync-server/src/publisher.rs) and deleted
-- once JetStream acknowledged them. Without --nats nothing is written here.
CREATE TABLE event_outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The event's id (also its JetStream Nats-Msg-Id): the same record
    -- uploaded again never queues a second event while the first waits.
    event_id   TEXT NOT NULL UNIQUE,
    subject    TEXT NOT NULL,
    -- The event as JSON, exactly as published.
    payload    TEXT NOT NULL,
    created_ms INTEGER NOT NULL
) STRICT;
