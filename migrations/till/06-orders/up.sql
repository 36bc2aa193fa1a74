-- projections: pickup orders (core/src/orders/project.rs). Rows are keyed by
-- customer too: order ids are chosen by customers' devices, and one
-- customer's ids must never collide with another's rows.
CREATE TABLE orders (
    customer_id   TEXT NOT NULL,
    id            TEXT NOT NULL,
    customer_name TEXT NOT NULL,
    list_name     TEXT NOT NULL,
    note          TEXT,
    sent_at       INTEGER NOT NULL,
    status        TEXT NOT NULL,
    reason        TEXT,
    status_at     INTEGER NOT NULL,
    sale_id       TEXT,
    -- two devices took the same step differently offline (orders/state.rs)
    conflict      TEXT,
    PRIMARY KEY (customer_id, id)
) STRICT;
CREATE INDEX orders_id ON orders (id);
CREATE INDEX orders_status ON orders (status);

CREATE TABLE order_lines (
    customer_id TEXT NOT NULL,
    order_id    TEXT NOT NULL,
    line_no     INTEGER NOT NULL,
    sku         TEXT COLLATE NOCASE,
    text        TEXT NOT NULL,
    qty         INTEGER NOT NULL,
    unavailable INTEGER NOT NULL,
    PRIMARY KEY (customer_id, order_id, line_no)
) STRICT, WITHOUT ROWID;
CREATE INDEX order_lines_sku ON order_lines (sku);
