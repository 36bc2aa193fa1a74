-- A customer's device: one SQLite file holding the customer's documents
-- (its own `customer/{id}`, its order documents with shops, the public
-- catalogs it follows), this device's identity and one sync cursor per
-- followed document. Times are UTC milliseconds since the epoch.

-- local -----------------------------------------------------------------------
-- kind ('customer'), customer_id, customer_id_local ('1' until the server
-- gives the account's id), actor, and after sign-up or link: server,
-- device_id, token, account_name; sync.* for the last attempt.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- documents (the tables `DocCache` uses, as on a till) ------------------------
CREATE TABLE documents (
    doc_id  TEXT PRIMARY KEY,
    kind    TEXT NOT NULL CHECK (kind IN ('customer', 'public', 'orders')),
    till_id TEXT
) STRICT;

-- Every Automerge change, in arrival order; `acked`: the server has it.
CREATE TABLE doc_changes (
    seq    INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents (doc_id),
    hash   BLOB NOT NULL,
    bytes  BLOB NOT NULL,
    local  INTEGER NOT NULL,
    acked  INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE UNIQUE INDEX doc_changes_hash ON doc_changes (doc_id, hash);
CREATE INDEX doc_changes_doc_seq ON doc_changes (doc_id, seq);
CREATE INDEX doc_changes_unacked ON doc_changes (seq) WHERE acked = 0;

CREATE TABLE doc_snapshots (
    doc_id   TEXT PRIMARY KEY REFERENCES documents (doc_id),
    bytes    BLOB NOT NULL,
    upto_seq INTEGER NOT NULL
) STRICT;

-- Received changes this device will not store (a forked actor).
CREATE TABLE refused_changes (
    doc_id     TEXT NOT NULL,
    hash       BLOB NOT NULL,
    bytes      BLOB NOT NULL,
    reason     TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    PRIMARY KEY (doc_id, hash)
) STRICT;

-- sync ------------------------------------------------------------------------
-- The server's sequence number of the last change of each followed document
-- this device has (`since` of the next request).
CREATE TABLE doc_cursors (
    doc_id TEXT PRIMARY KEY,
    cursor INTEGER NOT NULL,
    synced_at INTEGER NOT NULL
) STRICT;

-- Shops this device knows by name: from the last `shops` search, from
-- public catalogs; `looked_at`: the customer opened its catalog (its public
-- catalog is followed from then on).
CREATE TABLE shops (
    store_id  TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    seen_at   INTEGER NOT NULL,
    looked_at INTEGER
) STRICT;
