-- Quarantined records (issue 7, part 3): records received from other tills
-- that break a validation rule or that the projections cannot apply. They stay
-- in their documents; here they are listed and left out of every projection.
-- Rebuilt with the projections (first_seen is kept across a rebuild).
CREATE TABLE quarantine (
    doc_id     TEXT NOT NULL,
    record_key TEXT NOT NULL,
    till_id    TEXT,
    rule       TEXT NOT NULL,
    reason     TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    PRIMARY KEY (doc_id, record_key)
) STRICT;
