-- local -----------------------------------------------------------------------
-- Which products changed, for the in-memory name index (core/src/search/):
-- every insert, delete and change of a name or the active flag stamps the
-- product's row number with the next sequence number. A process holding an
-- index asks for the products stamped after the last number it has seen,
-- so it also catches writes made by sync, rebuild or another process on the
-- same file. One row per product row number ever used: it never grows with
-- the number of edits.
CREATE TABLE products_changed (
    pk  INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL
) STRICT;
CREATE INDEX products_changed_seq ON products_changed (seq);
CREATE TRIGGER products_changed_insert AFTER INSERT ON products BEGIN
    INSERT INTO products_changed (pk, seq)
        VALUES (new.pk, (SELECT COALESCE(MAX(seq), 0) + 1 FROM products_changed))
        ON CONFLICT (pk) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER products_changed_update AFTER UPDATE OF pk, name, active ON products BEGIN
    INSERT INTO products_changed (pk, seq)
        VALUES (old.pk, (SELECT COALESCE(MAX(seq), 0) + 1 FROM products_changed))
        ON CONFLICT (pk) DO UPDATE SET seq = excluded.seq;
    INSERT INTO products_changed (pk, seq)
        VALUES (new.pk, (SELECT COALESCE(MAX(seq), 0) + 1 FROM products_changed))
        ON CONFLICT (pk) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER products_changed_delete AFTER DELETE ON products BEGIN
    INSERT INTO products_changed (pk, seq)
        VALUES (old.pk, (SELECT COALESCE(MAX(seq), 0) + 1 FROM products_changed))
        ON CONFLICT (pk) DO UPDATE SET seq = excluded.seq;
END;
