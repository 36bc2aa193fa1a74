//! After migration 08: what an older version kept in the documents without
//! projecting it (staff entities and the staff ids of records synced from
//! an upgraded device) is projected once, on the next open. Only staff rows
//! and the staff columns are written: nothing else is re-projected.

use rusqlite::{Connection, params};

use crate::catalog::{self, STAFF};
use crate::docs;
use crate::error::Result;
use crate::ids::DocId;
use crate::projection::rebuild::records_in_change;
use crate::records::Record;

/// Meta key migration 08 sets on a store that already held documents.
pub(crate) const DUE: &str = "projection.rebuild_due";

pub(crate) fn backfill(conn: &Connection) -> Result<()> {
    for id in docs::document_ids(conn)? {
        let key = id.to_string();
        match &id {
            DocId::Catalog { .. } => {
                let loaded = docs::load(conn, &key, None)?;
                for root in catalog::keys(&loaded.doc) {
                    if let Some(staff_id) = root.strip_prefix(STAFF) {
                        super::ops::project(conn, &loaded.doc, &root, staff_id)?;
                    }
                }
            }
            DocId::Ledger { till, .. } => {
                for change in docs::all_changes(conn, &key)? {
                    for record in records_in_change(&change) {
                        attribute(conn, till, &record)?;
                    }
                }
            }
            _ => {}
        }
    }
    conn.execute("DELETE FROM meta WHERE key = ?1", [DUE])?;
    Ok(())
}

/// Fills the staff columns of a record's projected row (of this till only:
/// a record id another till also used is quarantined, not projected).
fn attribute(conn: &Connection, till: &str, record: &Record) -> Result<()> {
    let (Some(staff), approver) = record.attribution() else {
        return Ok(());
    };
    let table = match record {
        Record::Sale(_) => "sales",
        Record::Refund(_) => "refunds",
        Record::Receipt(_) | Record::Adjustment(_) | Record::Count(_) => "stock_records",
        Record::DrawerOpen(_) | Record::DrawerMove(_) | Record::DrawerClose(_) => "drawer_records",
        Record::PurchaseOrder(_) | Record::PurchaseOrderClose(_) => "stock_records",
    };
    conn.prepare_cached(&format!(
        "UPDATE {table} SET staff_id = ?1, approver_id = ?2 WHERE id = ?3 AND till_id = ?4"
    ))?
    .execute(params![staff, approver, record.id(), till])?;
    Ok(())
}
