-- Staff, PINs and permissions (issue 10): see core/src/staff/ and
-- docs/DOCUMENTS.md "Staff".

-- projection of the catalog's `staff/{id}` entities. The PIN hash is an
-- argon2id PHC string, never the PIN.
CREATE TABLE staff (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    role      TEXT NOT NULL,
    pin_hash  TEXT NOT NULL,
    active    INTEGER NOT NULL,
    conflicts TEXT NOT NULL DEFAULT ''
) STRICT;

-- Who made each record and who approved it (records' `staff_id`,
-- `approver_id`; NULL in records of older versions and stores without staff).
ALTER TABLE sales ADD COLUMN staff_id TEXT;
ALTER TABLE sales ADD COLUMN approver_id TEXT;
CREATE INDEX sales_staff ON sales (staff_id, at);

ALTER TABLE refunds ADD COLUMN staff_id TEXT;
ALTER TABLE refunds ADD COLUMN approver_id TEXT;
CREATE INDEX refunds_staff ON refunds (staff_id, at);

ALTER TABLE stock_records ADD COLUMN staff_id TEXT;
ALTER TABLE stock_records ADD COLUMN approver_id TEXT;

-- local: a store that already holds documents may hold staff entities and
-- records with staff ids that an older version kept but did not project
-- (synced from an upgraded device): the next open projects those once
-- (`Store::open`, core/src/staff/backfill.rs).
INSERT INTO meta (key, value)
SELECT 'projection.rebuild_due', '08-staff'
WHERE EXISTS (SELECT 1 FROM doc_changes);
