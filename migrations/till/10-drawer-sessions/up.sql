-- Cash drawer sessions (issue 10): every drawer record of every till, one
-- row each (the open record's id is the session's id). Sessions, their
-- state and their cash are computed from these rows and the sales and
-- refunds that name a session (core/src/drawer/report.rs).
CREATE TABLE drawer_records (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('open', 'in', 'out', 'close')),
    session_id  TEXT NOT NULL,
    till_id     TEXT NOT NULL,
    at          INTEGER NOT NULL,
    hlc         INTEGER NOT NULL,
    -- open: the float; in/out: the amount; close: the counted total
    amount      INTEGER NOT NULL,
    reason      TEXT,
    -- close: what the till computed it should hold when it closed
    expected    INTEGER,
    staff_id    TEXT,
    approver_id TEXT
) STRICT;
CREATE INDEX drawer_records_session ON drawer_records (session_id, till_id);
CREATE INDEX drawer_records_till ON drawer_records (till_id, kind, hlc);

-- A closing count by note and coin.
CREATE TABLE drawer_counts (
    record_id    TEXT NOT NULL,
    denomination INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    PRIMARY KEY (record_id, denomination)
) STRICT, WITHOUT ROWID;

-- The session a sale or refund was made in (NULL: none, or an older version).
ALTER TABLE sales ADD COLUMN drawer_session TEXT;
ALTER TABLE refunds ADD COLUMN drawer_session TEXT;
CREATE INDEX sales_drawer_session ON sales (drawer_session) WHERE drawer_session IS NOT NULL;
CREATE INDEX refunds_drawer_session ON refunds (drawer_session) WHERE drawer_session IS NOT NULL;

-- An older version quarantined the drawer records it received from an
-- upgraded till (a record kind it did not know: rule `decode`), and
-- projected that till's sales and refunds without their session. If any
-- record was quarantined so, the next open rebuilds the projections once
-- (`crate::drawer::project::rebuild_if_due`).
INSERT OR REPLACE INTO meta (key, value)
SELECT 'projection.drawer_due', '10-drawer-sessions'
WHERE EXISTS (SELECT 1 FROM quarantine WHERE rule = 'decode');
