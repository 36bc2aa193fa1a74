-- Events derived from the server's replicas of shops (catalog.updated,
-- stock.low; docs/EVENTS.md): per store, the sequence number up to which
-- they were derived, set in the transaction that queues them, so a replica
-- rebuilt from nothing does not queue a shop's history again. A store
-- without a row starts at server_meta 'events_from_seq' (the head when the
-- server last started with --nats after a start without it).
CREATE TABLE event_cursors (
    store_pk INTEGER PRIMARY KEY REFERENCES stores (pk),
    upto     INTEGER NOT NULL
) STRICT;
