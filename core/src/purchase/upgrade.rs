//! After migration 11, once, on the next open of a store that already held
//! documents: what an older version kept without projecting it is
//! projected. An older till kept a product's `reorder_target` in the
//! catalog without a column for it, projected a receipt naming an order as
//! a plain receipt, and quarantined purchase order records it could not
//! decode (rule `decode`).

use automerge::{ROOT, ReadDoc, ScalarValue, Value};
use rusqlite::{Connection, params};

use crate::catalog::{self, PRODUCT};
use crate::docs;
use crate::error::Result;
use crate::ids::DocId;
use crate::projection::rebuild::records_in_change;
use crate::records::Record;

/// Meta key migration 11 sets on a store that already held documents.
pub(crate) const DUE: &str = "projection.purchasing_due";

/// Meta key migration 13 sets on a store that already held receipts.
pub(crate) const COSTS_DUE: &str = "projection.receipt_costs_due";

pub(crate) fn reproject_if_due(conn: &Connection) -> Result<()> {
    let due = conn
        .prepare("SELECT 1 FROM meta WHERE key = ?1")?
        .exists([DUE])?;
    if !due {
        return Ok(());
    }
    let undecoded = conn
        .prepare("SELECT 1 FROM quarantine WHERE rule = 'decode'")?
        .exists([])?;
    if undecoded {
        // Records an older version could not read (perhaps orders): only a
        // rebuild applies them in the order a rebuild would.
        crate::projection::rebuild::rebuild(conn, &mut |_, _| {})?;
    } else {
        for id in docs::document_ids(conn)? {
            let key = id.to_string();
            match &id {
                DocId::Catalog { .. } => {
                    let loaded = docs::load(conn, &key, None)?;
                    for root in catalog::keys(&loaded.doc) {
                        if root.starts_with(PRODUCT) {
                            crate::projection::catalog::project_key(conn, &loaded.doc, &root)?;
                        }
                    }
                }
                DocId::Ledger { till, .. } => {
                    for change in docs::all_changes(conn, &key)? {
                        for record in records_in_change(&change) {
                            link_receipt(conn, till, &record)?;
                        }
                    }
                }
                _ => {}
            }
        }
    }
    conn.execute("DELETE FROM meta WHERE key = ?1", [DUE])?;
    Ok(())
}

/// Names the order of a receipt projected without it (this till's row of
/// that id only: a clashing id is quarantined, not projected).
fn link_receipt(conn: &Connection, till: &str, record: &Record) -> Result<()> {
    let Record::Receipt(r) = record else {
        return Ok(());
    };
    let Some(order) = &r.order_id else {
        return Ok(());
    };
    conn.prepare_cached(
        "INSERT OR IGNORE INTO purchase_order_records (record_id, order_id, kind)
         SELECT id, ?2, 'receipt' FROM stock_records WHERE id = ?1 AND till_id = ?3",
    )?
    .execute(params![r.id, order, till])?;
    Ok(())
}

/// After migration 13, once: the costs of the receipts projected before it,
/// read from each till's ledger documents (only the receipts projected from
/// that till: a clashing id was quarantined, not projected).
pub(crate) fn project_costs_if_due(conn: &Connection) -> Result<()> {
    let due = conn
        .prepare("SELECT 1 FROM meta WHERE key = ?1")?
        .exists([COSTS_DUE])?;
    if !due {
        return Ok(());
    }
    let mut receipts = conn.prepare(
        "SELECT id FROM stock_records WHERE kind = 'receipt' AND till_id = ?1 ORDER BY id",
    )?;
    for id in docs::document_ids(conn)? {
        let DocId::Ledger { till, .. } = &id else {
            continue;
        };
        let ids: Vec<String> = receipts
            .query_map([till], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if ids.is_empty() {
            continue;
        }
        // A document that does not load is left out rather than keeping
        // the store from opening: its receipts' costs are read by the next
        // rebuild.
        let loaded = match docs::load(conn, &id.to_string(), None) {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!("receipt costs: cannot read ledger {id}: {e}");
                continue;
            }
        };
        for record_id in ids {
            let Some((Value::Scalar(v), _)) = loaded.doc.get(ROOT, record_id.as_str())? else {
                continue; // in another month's part
            };
            let ScalarValue::Bytes(bytes) = v.as_ref() else {
                continue;
            };
            if let Ok(record @ Record::Receipt(r)) = Record::decode(bytes).as_ref() {
                crate::purchase::costs::project(conn, &r.id, record.hlc(), &r.lines)?;
            }
        }
    }
    conn.execute("DELETE FROM meta WHERE key = ?1", [COSTS_DUE])?;
    Ok(())
}
