-- The sync server's database (SQLite). Times are UTC milliseconds.
-- Stores have an internal key (pk) so that an empty store can adopt the id
-- of the first till's existing store (see docs/PROTOCOL.md, "Enrolment").

CREATE TABLE stores (
    pk         INTEGER PRIMARY KEY,
    store_id   TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- One-time enrolment codes, stored hashed (SHA-256 of the normalised code).
CREATE TABLE enrol_codes (
    code_hash  BLOB PRIMARY KEY,
    store_pk   INTEGER NOT NULL REFERENCES stores (pk),
    role       TEXT NOT NULL CHECK (role IN ('manager', 'till')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    used_by    TEXT
) STRICT;

-- Enrolled devices. The token is `{device_id}.{secret}`; only SHA-256(secret)
-- is kept.
CREATE TABLE devices (
    device_id  TEXT PRIMARY KEY,
    store_pk   INTEGER NOT NULL REFERENCES stores (pk),
    role       TEXT NOT NULL CHECK (role IN ('manager', 'till')),
    till_id    TEXT NOT NULL,
    till_name  TEXT NOT NULL,
    token_hash BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
CREATE UNIQUE INDEX devices_store_till ON devices (store_pk, till_id);

-- Documents and their current heads (concatenated 32-byte change hashes).
CREATE TABLE documents (
    pk       INTEGER PRIMARY KEY,
    store_pk INTEGER NOT NULL REFERENCES stores (pk),
    doc_id   TEXT NOT NULL UNIQUE,
    heads    BLOB NOT NULL,
    changes  INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX documents_store ON documents (store_pk);

-- Every change, once per document (deduplicated by hash). `seq` is the
-- server's sequence number: it only grows, so a device's cursor is the
-- highest seq it has received.
CREATE TABLE changes (
    seq      INTEGER PRIMARY KEY,
    store_pk INTEGER NOT NULL,
    doc_pk   INTEGER NOT NULL REFERENCES documents (pk),
    hash     BLOB NOT NULL,
    bytes    BLOB NOT NULL
) STRICT;
CREATE UNIQUE INDEX changes_doc_hash ON changes (doc_pk, hash);
CREATE INDEX changes_store_seq ON changes (store_pk, seq);
