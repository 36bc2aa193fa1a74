-- Categories can be archived: kept on their products, offered nowhere new.
ALTER TABLE categories ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
-- The Sell and Products screens list a category's products.
CREATE INDEX products_category ON products (category, name);
