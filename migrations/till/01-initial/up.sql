-- The till's local store. Tables fall in three groups:
--   documents  - the replicated Automerge state (change log = outbox, snapshots)
--   projections - rebuildable views of the documents (`shopsync rebuild --verify`)
--   local      - this device's own working state, never replicated
-- Times are UTC milliseconds since the epoch; money is integer minor units.

-- local -----------------------------------------------------------------------
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- documents -------------------------------------------------------------------
CREATE TABLE documents (
    doc_id  TEXT PRIMARY KEY,
    kind    TEXT NOT NULL CHECK (kind IN ('catalog', 'ledger', 'customer', 'public', 'orders')),
    till_id TEXT
) STRICT;

-- Every Automerge change, in arrival order. A business write and the change
-- that replicates it commit in the same transaction; `acked` marks the changes
-- a sync server has confirmed.
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

-- A saved document holding every change of that document with seq <= upto_seq.
CREATE TABLE doc_snapshots (
    doc_id   TEXT PRIMARY KEY REFERENCES documents (doc_id),
    bytes    BLOB NOT NULL,
    upto_seq INTEGER NOT NULL
) STRICT;

-- projections: catalog --------------------------------------------------------
CREATE TABLE products (
    pk            INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    sku           TEXT NOT NULL COLLATE NOCASE,
    name          TEXT NOT NULL,
    price         INTEGER NOT NULL,
    cost          INTEGER,
    barcodes      TEXT NOT NULL DEFAULT '',
    tax_class     TEXT,
    supplier_id   TEXT,
    category      TEXT,
    reorder_point INTEGER,
    active        INTEGER NOT NULL,
    conflicts     TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX products_sku ON products (sku);

CREATE TABLE product_barcodes (
    barcode    TEXT NOT NULL COLLATE NOCASE,
    product_id TEXT NOT NULL,
    PRIMARY KEY (barcode, product_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX product_barcodes_product ON product_barcodes (product_id);

CREATE VIRTUAL TABLE products_fts USING fts5 (
    name,
    content = 'products',
    content_rowid = 'pk',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3'
);
CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN
    INSERT INTO products_fts (rowid, name) VALUES (new.pk, new.name);
END;
CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, name) VALUES ('delete', old.pk, old.name);
END;
CREATE TRIGGER products_fts_update AFTER UPDATE OF name ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, name) VALUES ('delete', old.pk, old.name);
    INSERT INTO products_fts (rowid, name) VALUES (new.pk, new.name);
END;

CREATE TABLE suppliers (
    id    TEXT PRIMARY KEY,
    name  TEXT NOT NULL,
    phone TEXT,
    email TEXT,
    notes TEXT
) STRICT;

CREATE TABLE tax_classes (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    rate_bp   INTEGER NOT NULL,
    inclusive INTEGER NOT NULL
) STRICT;

CREATE TABLE categories (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL
) STRICT;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- projections: ledgers --------------------------------------------------------
CREATE TABLE sales (
    id       TEXT PRIMARY KEY,
    number   TEXT NOT NULL,
    till_id  TEXT NOT NULL,
    at       INTEGER NOT NULL,
    items    INTEGER NOT NULL,
    subtotal INTEGER NOT NULL,
    discount INTEGER NOT NULL,
    tax      INTEGER NOT NULL,
    total    INTEGER NOT NULL,
    paid     INTEGER NOT NULL,
    change   INTEGER NOT NULL
) STRICT;
CREATE INDEX sales_at ON sales (at);

CREATE TABLE sale_lines (
    sale_id         TEXT NOT NULL,
    line_no         INTEGER NOT NULL,
    product_id      TEXT NOT NULL,
    sku             TEXT NOT NULL,
    name            TEXT NOT NULL,
    qty             INTEGER NOT NULL,
    unit_price      INTEGER NOT NULL,
    override_reason TEXT,
    discount        INTEGER NOT NULL,
    tax_class       TEXT,
    tax_rate_bp     INTEGER NOT NULL,
    tax_inclusive   INTEGER NOT NULL,
    tax             INTEGER NOT NULL,
    total           INTEGER NOT NULL,
    PRIMARY KEY (sale_id, line_no)
) STRICT, WITHOUT ROWID;

CREATE TABLE sale_tenders (
    sale_id TEXT NOT NULL,
    idx     INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    amount  INTEGER NOT NULL,
    PRIMARY KEY (sale_id, idx)
) STRICT, WITHOUT ROWID;

CREATE TABLE refunds (
    id      TEXT PRIMARY KEY,
    sale_id TEXT NOT NULL,
    till_id TEXT NOT NULL,
    at      INTEGER NOT NULL,
    amount  INTEGER NOT NULL,
    tax     INTEGER NOT NULL,
    tender  TEXT NOT NULL
) STRICT;
CREATE INDEX refunds_sale ON refunds (sale_id);
CREATE INDEX refunds_at ON refunds (at);

CREATE TABLE refund_lines (
    refund_id TEXT NOT NULL,
    sale_id   TEXT NOT NULL,
    line_no   INTEGER NOT NULL,
    qty       INTEGER NOT NULL,
    amount    INTEGER NOT NULL,
    tax       INTEGER NOT NULL,
    PRIMARY KEY (refund_id, line_no)
) STRICT, WITHOUT ROWID;
CREATE INDEX refund_lines_sale ON refund_lines (sale_id, line_no);

-- Receipts, adjustments and posted counts, for history.
CREATE TABLE stock_records (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    till_id     TEXT NOT NULL,
    at          INTEGER NOT NULL,
    supplier_id TEXT,
    reason      TEXT
) STRICT;

-- Every movement of stock: sale lines (negative), refunds, receipts, adjustments.
CREATE TABLE stock_movements (
    record_id  TEXT NOT NULL,
    idx        INTEGER NOT NULL,
    product_id TEXT NOT NULL,
    at         INTEGER NOT NULL,
    delta      INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    PRIMARY KEY (record_id, idx)
) STRICT, WITHOUT ROWID;
CREATE INDEX stock_movements_product_at ON stock_movements (product_id, at);

-- Posted count lines: "stock of product_id at `at` was `counted`".
CREATE TABLE stock_counts (
    record_id  TEXT NOT NULL,
    product_id TEXT NOT NULL,
    at         INTEGER NOT NULL,
    counted    INTEGER NOT NULL,
    expected   INTEGER NOT NULL,
    PRIMARY KEY (record_id, product_id)
) STRICT, WITHOUT ROWID;

-- Stock on hand = the latest count (by count time) + movements dated after it.
CREATE TABLE stock_levels (
    product_id      TEXT PRIMARY KEY,
    on_hand         INTEGER NOT NULL,
    count_at        INTEGER,
    count_record_id TEXT
) STRICT;
CREATE INDEX stock_levels_on_hand ON stock_levels (on_hand);

-- local: counts in progress ---------------------------------------------------
CREATE TABLE count_sessions (
    id          TEXT PRIMARY KEY,
    started_at  INTEGER NOT NULL,
    whole_store INTEGER NOT NULL,
    posted_at   INTEGER,
    record_id   TEXT
) STRICT;

CREATE TABLE count_session_lines (
    count_id   TEXT NOT NULL REFERENCES count_sessions (id),
    product_id TEXT NOT NULL,
    counted    INTEGER,
    counted_at INTEGER,
    PRIMARY KEY (count_id, product_id)
) STRICT, WITHOUT ROWID;

-- local: carts parked at the till ---------------------------------------------
CREATE TABLE parked_carts (
    id        TEXT PRIMARY KEY,
    parked_at INTEGER NOT NULL,
    label     TEXT NOT NULL,
    cart_json TEXT NOT NULL
) STRICT;
