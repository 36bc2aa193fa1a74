-- Events derived from an instance's replica of a shop (catalog.updated,
-- stock.low; docs/EVENTS.md), as SQLite's 08-event-cursors: per store, the
-- sequence number up to which they were derived, moved in the transaction
-- that queues them. Sequence numbers are per store here, so there is no
-- server-wide starting point: turning events on writes a row at each
-- store's head, and a store without a row (made since) starts at 0.
--
-- Several instances keep replicas of their own: one at a time derives a
-- store's events, holding a lease (`leased_by`, an instance id, until
-- `lease_until`) that it renews with every page and gives back when done;
-- an instance that stops without giving it back loses it when it expires.
CREATE TABLE event_cursors (
    store_pk    BIGINT PRIMARY KEY REFERENCES stores (pk) ON DELETE CASCADE,
    upto        BIGINT NOT NULL,
    leased_by   TEXT,
    lease_until TIMESTAMPTZ
);
