-- An outbox of references (docs/EVENTS.md "Delivery guarantees"): a sync
-- no longer writes a sale's or an order's events, only one row naming each
-- new ledger or order change (`change_seq`, the change's `changes.seq`);
-- the publisher derives the events from the stored change when it
-- publishes. Events derived on the replicas (catalog, stock) are still
-- written whole. One table for both, so one id order holds for all of a
-- store's entries. Rebuilt, as SQLite cannot drop NOT NULL; rows waiting
-- from before keep their ids and are published first.
CREATE TABLE event_outbox_refs (
    id         INTEGER PRIMARY KEY,
    -- An event, whole: its id (JetStream's Nats-Msg-Id), subject and JSON.
    -- UNIQUE as before (NULLs are distinct: references have none).
    event_id   TEXT UNIQUE,
    subject    TEXT,
    payload    TEXT,
    -- Or a change whose events are derived when published.
    store_pk   INTEGER,
    change_seq INTEGER,
    -- Events of the change already handled (acknowledged, or set aside as
    -- dead letters), in the order they are derived: published from there.
    handled    INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    CHECK ((change_seq IS NULL AND payload IS NOT NULL AND event_id IS NOT NULL
            AND subject IS NOT NULL)
        OR (change_seq IS NOT NULL AND store_pk IS NOT NULL AND payload IS NULL))
) STRICT;
INSERT INTO event_outbox_refs (id, event_id, subject, payload, created_ms)
    SELECT id, event_id, subject, payload, created_ms FROM event_outbox ORDER BY id;
DROP TABLE event_outbox;
ALTER TABLE event_outbox_refs RENAME TO event_outbox;

-- From here on `event_dead_letters.id` is the dead letter's own number
-- (07-dead-letters' comment, "the event's id in event_outbox", held before;
-- 07 is released and stays as it was): several dead letters may now come
-- from one outbox row, the events of one change.

-- A change whose events cannot be derived when published (its bytes do not
-- decode, a record does not read, the change is gone): set aside here with
-- the reason so the entries behind it are published; the events that could
-- be derived from it were published.
CREATE TABLE event_change_dead_letters (
    id         INTEGER PRIMARY KEY,
    store_pk   INTEGER NOT NULL,
    change_seq INTEGER NOT NULL,
    -- The change's document and hash; NULL if the change was not found.
    doc_id     TEXT,
    hash       BLOB,
    error      TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    failed_ms  INTEGER NOT NULL
) STRICT;
