-- local ----------------------------------------------------------------------
-- Changes received that this till will not store: Automerge refuses them
-- (a forked actor: an actor and sequence number already held, with other
-- content). Stored, such a change makes its document fail to load. Kept for
-- inspection and reported by `sync status`; never replicated or projected.
CREATE TABLE refused_changes (
    doc_id     TEXT NOT NULL,
    hash       BLOB NOT NULL,
    bytes      BLOB NOT NULL,
    reason     TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    PRIMARY KEY (doc_id, hash)
) STRICT;
