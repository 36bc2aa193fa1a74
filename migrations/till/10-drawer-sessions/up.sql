-- Placeholder on the `po` branch only: the drawer branch owns migration 10
-- and its content. rusqlite_migration needs consecutive ids, so 11 cannot
-- load without a 10. When merging, take the drawer branch's file.
SELECT 1;
