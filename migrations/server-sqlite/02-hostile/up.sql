-- Till ids and idempotent enrolment (docs/PROTOCOL.md, "Enrolment").

-- The till a code was made for (`enrol-code create --till-id ID`): an
-- offline till bringing its history may claim its own id only with such a
-- code (or as the first till of an empty store, with the manager code).
ALTER TABLE enrol_codes ADD COLUMN till_id TEXT;

-- What the enrolling device sent as its till id (a till's own id, or for a
-- new till the key derived from the code): the same code and key sent again
-- after a lost answer get the same device back, with a fresh token.
ALTER TABLE devices ADD COLUMN enrol_key TEXT;

-- The inflated size of each change (a compressed change is much bigger in a
-- till's memory than on the wire): answer pages are bounded by it too.
-- NULL for changes stored before: their stored size counts.
ALTER TABLE changes ADD COLUMN inflated INTEGER;
