-- Customer accounts (docs/PROTOCOL.md, "Customer accounts"). Times are UTC
-- milliseconds. A customer has one or more devices; each device has its own
-- token (`{device_id}.{secret}`, only SHA-256(secret) kept), like a till.

CREATE TABLE customers (
    customer_id TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    email       TEXT,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE customer_devices (
    device_id   TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (customer_id),
    device_name TEXT NOT NULL,
    token_hash  BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) STRICT;
CREATE INDEX customer_devices_customer ON customer_devices (customer_id);

-- One-time codes that link another device to a customer, stored hashed
-- (SHA-256 of the normalised code), like enrolment codes.
CREATE TABLE customer_link_codes (
    code_hash   BLOB PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (customer_id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    used_by     TEXT
) STRICT;

-- A document's changes in order (reading one document's changes no longer
-- scans its whole store).
CREATE INDEX changes_doc_seq ON changes (doc_pk, seq);

-- The reserved store that owns customers' documents. `~` is not valid in a
-- real store id, so no till can ever claim it; admin listings and the store
-- count hide it.
INSERT INTO stores (store_id, name, created_at) VALUES ('~customers', 'customer documents', 0);
