-- A shop without staff accounts records sales without a staff id: an
-- index entry per sale for nothing was a page of every sale's commit
-- (docs/PERFORMANCE.md, issue 13). A look-up by staff member still uses it.
DROP INDEX sales_staff;
CREATE INDEX sales_staff ON sales (staff_id, at) WHERE staff_id IS NOT NULL;
