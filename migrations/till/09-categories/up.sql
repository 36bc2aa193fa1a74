-- Categories can be archived: kept on their products, offered nowhere new.
ALTER TABLE categories ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
-- The Sell and Products screens list a category's products.
CREATE INDEX products_category ON products (category, name);
-- A store that already holds documents may hold `archived` flags an older
-- version kept in the catalog without projecting them (set on an upgraded
-- till): the next open projects its categories once (`Store::open`,
-- core/src/ops/categories.rs).
INSERT OR REPLACE INTO meta (key, value)
SELECT 'projection.categories_due', '09-categories'
WHERE EXISTS (SELECT 1 FROM doc_changes);
