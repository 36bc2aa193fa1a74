-- Shops customers can find (`GET /v1/shops`): kept by the public catalog
-- derivation (sync-server/src/public_derive.rs) from each store's settings.
CREATE TABLE shop_listings (
    store_pk   INTEGER PRIMARY KEY REFERENCES stores (pk),
    name       TEXT NOT NULL,
    published  INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX shop_listings_published ON shop_listings (published, name);
