-- The Sell screen's favourites grid (issue 10): a product's place on it,
-- NULL when it is not a favourite. The catalog keeps it as the product's
-- `favourite_pos` field.
ALTER TABLE products ADD COLUMN favourite_pos INTEGER;
CREATE INDEX products_favourite ON products (favourite_pos) WHERE favourite_pos IS NOT NULL;
-- An older version kept a `favourite_pos` it synced from a newer till in
-- the catalog without projecting it: the next open projects the products
-- once (`Store::open`, core/src/ops/favourites.rs).
INSERT OR REPLACE INTO meta (key, value)
SELECT 'projection.favourites_due', '12-favourites'
WHERE EXISTS (SELECT 1 FROM doc_changes);
