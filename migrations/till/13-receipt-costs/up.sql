-- What each receipt line cost (issue 10: receiving against an order updates
-- the cost). A product's latest received cost, by causal stamp then record
-- id, is the cost the shop works with (core/src/purchase/costs.rs): it
-- comes from the ledger, so every till converges on it and a cashier
-- receiving goods changes it without writing the catalog.
CREATE TABLE receipt_costs (
    record_id  TEXT NOT NULL,
    idx        INTEGER NOT NULL,
    product_id TEXT NOT NULL,
    hlc        INTEGER NOT NULL,
    unit_cost  INTEGER NOT NULL,
    PRIMARY KEY (record_id, idx)
) STRICT, WITHOUT ROWID;
CREATE INDEX receipt_costs_latest ON receipt_costs (product_id, hlc, record_id);

-- Receipts already projected carry their costs only in the documents: the
-- next open reads them once (core/src/purchase/upgrade.rs).
INSERT OR REPLACE INTO meta (key, value)
SELECT 'projection.receipt_costs_due', '13-receipt-costs'
WHERE EXISTS (SELECT 1 FROM stock_records WHERE kind = 'receipt');
