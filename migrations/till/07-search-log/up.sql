-- local -----------------------------------------------------------------------
-- Which products changed, for the in-memory name index (core/src/search/):
-- every insert, delete and change of a name or the active flag stamps the
-- product's row number with the next sequence number (once per change: a
-- price-only edit does not stamp). A process holding an index asks for the
-- products stamped after the last number it has seen, so it also catches
-- writes made by sync, rebuild or another process on the same file. One row
-- per product row number ever used: it never grows with the number of edits.
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
-- The upsert that saves a product sets every column: only a real change of
-- what the index holds stamps.
CREATE TRIGGER products_changed_update AFTER UPDATE OF pk, name, active ON products
    WHEN old.name IS NOT new.name OR old.active IS NOT new.active OR old.pk IS NOT new.pk
BEGIN
    INSERT INTO products_changed (pk, seq)
        SELECT old.pk, (SELECT COALESCE(MAX(seq), 0) + 1 FROM products_changed)
        WHERE old.pk IS NOT new.pk
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

-- The newest stamps' sequence numbers, each with a random tag: the history
-- an index has seen. An index keeps the tag of the stamp at its cursor; if
-- that stamp is gone or has another tag, the file is not the one it read
-- (restored from a backup, copied over, the log recreated), even when other
-- writers have since pushed the numbers past its cursor, and it rebuilds.
-- Only the last 4,096 are kept (an index further behind rebuilds anyway).
CREATE TABLE products_changed_marks (
    seq INTEGER PRIMARY KEY,
    tag INTEGER NOT NULL
) STRICT;
CREATE TRIGGER products_changed_mark_insert AFTER INSERT ON products_changed BEGIN
    INSERT OR REPLACE INTO products_changed_marks (seq, tag) VALUES (new.seq, random());
    DELETE FROM products_changed_marks WHERE seq <= new.seq - 4096;
END;
CREATE TRIGGER products_changed_mark_update AFTER UPDATE OF seq ON products_changed BEGIN
    INSERT OR REPLACE INTO products_changed_marks (seq, tag) VALUES (new.seq, random());
    DELETE FROM products_changed_marks WHERE seq <= new.seq - 4096;
END;
-- Stamp 0's mark: an index built on an empty log (a store upgraded from
-- version 6 with no product change since) still has a tag to check, so a
-- file put in its place under a running process is noticed.
INSERT INTO products_changed_marks (seq, tag) VALUES (0, random());
