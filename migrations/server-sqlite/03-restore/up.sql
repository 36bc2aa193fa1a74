-- restore: each stored change's Automerge actor and sequence number, so a
-- change that forks an actor (same document, actor and seq as a stored change,
-- other content) is refused with 409 and never stored. Rows stored before
-- this migration are filled in when the server opens the database.
ALTER TABLE changes ADD COLUMN actor BLOB;
ALTER TABLE changes ADD COLUMN actor_seq INTEGER;
-- Not UNIQUE: a database from before this migration may already hold a
-- fork (an older server stored both changes); it must still open.
CREATE INDEX changes_doc_actor_seq ON changes (doc_pk, actor, actor_seq);

-- restore: the server's epoch, its identity for this database's lifetime.
-- `backup` writes a fresh one into the copy and `restore` another one into
-- the restored file, so tills can tell a restored server from the one whose
-- sequence numbers they hold (docs/PROTOCOL.md, "Server epoch").
CREATE TABLE server_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
INSERT INTO server_meta (key, value) VALUES ('epoch', lower(hex(randomblob(16))));
