-- Reordering and purchase orders (issue 10). Independent of migration 10.

-- The stock level a reorder should bring a product back up to.
ALTER TABLE products ADD COLUMN reorder_target INTEGER;

-- Purchase orders are ledger records (core/src/purchase). The order, its
-- closes and the receipts naming it also have a row in stock_records (kind
-- `purchase_order`, `purchase_order_close`, `receipt`), which gives them
-- the id checks every ledger record has (projection::id_clash).
CREATE TABLE purchase_order_lines (
    order_id   TEXT NOT NULL,
    line_no    INTEGER NOT NULL,
    product_id TEXT NOT NULL,
    qty        INTEGER NOT NULL,
    unit_cost  INTEGER,
    PRIMARY KEY (order_id, line_no)
) STRICT;
CREATE INDEX purchase_order_lines_product ON purchase_order_lines (product_id);

-- Every record about an order: the order itself (`order`, with its note),
-- a receipt against it (`receipt`), a close (`close`, with its reason).
-- A receipt or close may name an order this till has not seen yet.
CREATE TABLE purchase_order_records (
    record_id TEXT PRIMARY KEY,
    order_id  TEXT NOT NULL,
    kind      TEXT NOT NULL,
    note      TEXT
) STRICT;
CREATE INDEX purchase_order_records_order ON purchase_order_records (order_id, kind);

-- A store that already holds documents may hold what an older version kept
-- without projecting it (reorder targets, receipts naming an order, order
-- records it quarantined): the next open projects it once
-- (core/src/purchase/upgrade.rs).
INSERT OR REPLACE INTO meta (key, value)
SELECT 'projection.purchasing_due', '11-purchase-orders'
WHERE EXISTS (SELECT 1 FROM doc_changes);
