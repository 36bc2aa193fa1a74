-- Counts and movements ordered by causal stamp (hybrid logical clock), not by
-- date: see core/src/clock.rs and docs/DOCUMENTS.md "Counts and causality".
-- Rows projected before this migration come from records without a stamp,
-- which are ordered by their date: their stamp is their date.

ALTER TABLE stock_movements ADD COLUMN hlc INTEGER;
UPDATE stock_movements SET hlc = at;
CREATE INDEX stock_movements_product_hlc ON stock_movements (product_id, hlc);

ALTER TABLE stock_counts ADD COLUMN hlc INTEGER;
UPDATE stock_counts SET hlc = at;

-- The causal stamp of the count that set `on_hand` (`count_at` stays its date).
ALTER TABLE stock_levels ADD COLUMN count_hlc INTEGER;
UPDATE stock_levels SET count_hlc = count_at;

-- local: the stamp a count line took when it was counted.
ALTER TABLE count_session_lines ADD COLUMN counted_hlc INTEGER;
UPDATE count_session_lines SET counted_hlc = counted_at;

-- local: the highest stamp seen so far.
INSERT INTO meta (key, value)
SELECT 'clock.hlc_seen', CAST(m AS TEXT) FROM (
    SELECT MAX(x) AS m FROM (
        SELECT MAX(at) AS x FROM stock_movements
        UNION ALL SELECT MAX(at) FROM stock_counts
        UNION ALL SELECT MAX(at) FROM sales
        UNION ALL SELECT MAX(at) FROM refunds
        UNION ALL SELECT MAX(at) FROM stock_records
    )
) WHERE m IS NOT NULL;

-- local: tills whose records arrived dated too far ahead of this till's clock.
CREATE TABLE clock_flags (
    till_id  TEXT PRIMARY KEY,
    ahead_ms INTEGER NOT NULL,
    seen_at  INTEGER NOT NULL
) STRICT;
