-- Events for other systems (docs/EVENTS.md), as in SQLite's 06-outbox and
-- 07-dead-letters: written in the transaction that stores the changes they
-- come from, published to NATS JetStream in `id` order and deleted one by
-- one once acknowledged (ids are taken before commit: with several writers
-- a lower id may commit later, so nothing is deleted by range).
CREATE TABLE event_outbox (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id   TEXT COLLATE "C" NOT NULL UNIQUE,
    subject    TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);

CREATE TABLE event_dead_letters (
    id         BIGINT PRIMARY KEY,
    event_id   TEXT NOT NULL,
    subject    TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    error      TEXT NOT NULL,
    failed_ms  BIGINT NOT NULL
);
