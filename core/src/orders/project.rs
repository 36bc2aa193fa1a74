//! The till's projection of its store's orders: `orders` and `order_lines`,
//! one customer at a time. Any change to either order document of a
//! (store, customer) pair re-reads both and rewrites that customer's rows,
//! so arrival order never matters (a status may arrive before its order)
//! and a rebuild gives exactly the same rows.

use rusqlite::{Connection, params};

use super::state::{fold, read_doc};
use crate::docs;
use crate::error::Result;
use crate::ids::DocId;

/// Rewrites the rows of one customer's orders from the two documents.
pub fn project_pair(conn: &Connection, store: &str, customer: &str) -> Result<()> {
    let requests = docs::load(
        conn,
        &DocId::order_requests(store, customer).to_string(),
        None,
    )?;
    let status = docs::load(
        conn,
        &DocId::order_status(store, customer).to_string(),
        None,
    )?;
    let mut orders = fold(
        store,
        customer,
        &read_doc(&requests.doc),
        &read_doc(&status.doc),
    );
    let conflicts = super::state::conflicts_by_order(&status.doc);
    for o in &mut orders {
        o.conflict = conflicts.get(&o.id).cloned();
    }
    conn.prepare_cached("DELETE FROM order_lines WHERE customer_id = ?1")?
        .execute([customer])?;
    conn.prepare_cached("DELETE FROM orders WHERE customer_id = ?1")?
        .execute([customer])?;
    let mut insert_order = conn.prepare_cached(
        "INSERT INTO orders (customer_id, id, customer_name, list_name, note, sent_at, status, reason, status_at, sale_id, conflict)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let mut insert_line = conn.prepare_cached(
        "INSERT INTO order_lines (customer_id, order_id, line_no, sku, text, qty, unavailable)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for o in orders {
        insert_order.execute(params![
            customer,
            o.id,
            o.customer_name,
            o.list_name,
            o.note,
            o.sent_at,
            o.status.as_str(),
            o.reason,
            o.status_at,
            o.sale_id,
            o.conflict
        ])?;
        for l in &o.lines {
            insert_line.execute(params![
                customer,
                o.id,
                l.line,
                l.sku,
                l.text,
                l.qty,
                l.unavailable
            ])?;
        }
    }
    Ok(())
}

/// After changes to an order document: re-project its pair.
pub fn project_doc(conn: &Connection, doc: &DocId) -> Result<()> {
    match doc {
        DocId::OrderRequests { store, customer } | DocId::OrderStatus { store, customer } => {
            project_pair(conn, store, customer)
        }
        _ => Ok(()),
    }
}
