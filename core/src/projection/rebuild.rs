//! Rebuilding every projection from the documents, and checking that a
//! rebuild gives exactly what incremental updating gave.

use std::path::Path;

use automerge::{AutoCommit, Change, ROOT, ReadDoc, ScalarValue, Value};
use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;
use shopsync_types::VerifyReport;

use crate::docs;
use crate::error::{CoreError, Result};
use crate::ids::DocId;
use crate::records::Record;

/// Projection tables, each with the columns that identify a row's content
/// (`products.pk` is an internal row number and differs between replicas).
pub const PROJECTION_TABLES: &[(&str, &str)] = &[
    (
        "products",
        "id, sku, name, price, cost, barcodes, tax_class, supplier_id, category, reorder_point, active, conflicts, reorder_target, favourite_pos",
    ),
    ("product_barcodes", "barcode, product_id"),
    ("suppliers", "*"),
    ("tax_classes", "*"),
    ("categories", "*"),
    ("settings", "*"),
    // the PIN hash last: a difference report hides it (`redacted`)
    ("staff", "id, name, role, active, conflicts, pin_hash"),
    ("sales", "*"),
    ("sale_lines", "*"),
    ("sale_tenders", "*"),
    ("refunds", "*"),
    ("refund_lines", "*"),
    ("stock_records", "*"),
    ("stock_movements", "*"),
    ("stock_counts", "*"),
    ("stock_levels", "*"),
    // quarantine (issue 7, part 3): first_seen is when this replica saw it
    ("quarantine", "doc_id, record_key, till_id, rule, reason"),
    ("orders", "*"),
    ("order_lines", "*"),
    // drawer sessions (issue 10)
    ("drawer_records", "*"),
    ("drawer_counts", "*"),
    // purchasing (issue 10)
    ("purchase_order_lines", "*"),
    ("purchase_order_records", "*"),
    ("receipt_costs", "*"),
];

/// The ledger records in one change (puts of bytes values at the root).
/// Values that do not decode as a record are skipped. For tools only: the
/// till applies and rebuilds through `validate::ledger_items` and
/// `quarantine`, which check every rule and quarantine what fails.
pub fn records_in_change(change: &Change) -> Vec<Record> {
    let mut out = Vec::new();
    for op in change.decode().operations {
        if let automerge::legacy::OpType::Put(ScalarValue::Bytes(bytes)) = &op.action
            && matches!(op.obj, automerge::legacy::ObjectId::Root)
        {
            match Record::decode(bytes) {
                Ok(r) => out.push(r),
                Err(e) => tracing::warn!("skipping a ledger value: {e}"),
            }
        }
    }
    out
}

pub fn records_in_doc(doc: &AutoCommit) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    for key in doc.keys(ROOT) {
        if let Some((Value::Scalar(s), _)) = doc.get(ROOT, key.as_str())?
            && let ScalarValue::Bytes(bytes) = s.as_ref()
        {
            match Record::decode(bytes) {
                Ok(r) => out.push(r),
                Err(e) => tracing::warn!("skipping ledger value {key}: {e}"),
            }
        }
    }
    Ok(out)
}

/// Empties every projection and fills it again from the stored documents.
pub fn rebuild(conn: &Connection, progress: &mut dyn FnMut(u64, u64)) -> Result<()> {
    crate::quarantine::save_first_seen(conn)?;
    for (table, _) in PROJECTION_TABLES {
        conn.execute(&format!("DELETE FROM {table}"), [])?;
    }
    let ids = docs::document_ids(conn)?;
    let total = ids.len() as u64;
    for (i, id) in ids.iter().enumerate() {
        let key = id.to_string();
        match id {
            DocId::Catalog { .. } => {
                let loaded = docs::load(conn, &key, None)?;
                for root_key in crate::catalog::keys(&loaded.doc) {
                    crate::quarantine::project_catalog_key(conn, &key, &loaded.doc, &root_key)?;
                }
            }
            DocId::Ledger { till, .. } => {
                // Change by change, in the order they were stored, with the
                // same checks as when they arrived: the same records are
                // projected and the same are quarantined.
                for change in docs::all_changes(conn, &key)? {
                    crate::quarantine::apply_ledger_change(
                        conn,
                        &key,
                        till,
                        &change,
                        None,
                        crate::quarantine::Projecting::Careful,
                    )?;
                }
            }
            DocId::OrderRequests { .. } | DocId::OrderStatus { .. } => {
                crate::orders::project::project_doc(conn, id)?;
            }
            _ => {}
        }
        progress(i as u64 + 1, total);
    }
    crate::quarantine::restore_first_seen(conn)?;
    Ok(())
}

/// Rows of a table in a canonical order, for comparison.
pub fn table_rows(conn: &Connection, table: &str, columns: &str) -> Result<Vec<Vec<SqlValue>>> {
    let mut stmt = conn.prepare(&format!("SELECT {columns} FROM {table}"))?;
    let n = stmt.column_count();
    let mut rows: Vec<Vec<SqlValue>> = stmt
        .query_map([], |r| (0..n).map(|i| r.get::<_, SqlValue>(i)).collect())?
        .collect::<rusqlite::Result<_>>()?;
    rows.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    Ok(rows)
}

/// A row as a difference report prints it: a staff member's PIN hash
/// (the last column) only as whether it differs, since anyone holding it can
/// brute-force a short PIN, and reports are pasted into support requests.
fn redacted(table: &str, row: &[SqlValue]) -> Vec<SqlValue> {
    let mut row = row.to_vec();
    if table == "staff"
        && let Some(last) = row.last_mut()
    {
        let digest = match last {
            SqlValue::Text(t) => format!("(hidden, {} characters)", t.len()),
            _ => "(hidden)".to_string(),
        };
        *last = SqlValue::Text(digest);
    }
    row
}

/// Compares the projections of two databases. Returns one line per difference
/// (at most a few per table) and the number of rows compared.
pub fn compare(a: &Connection, b: &Connection) -> Result<(Vec<String>, u64)> {
    let mut diffs = Vec::new();
    let mut compared = 0u64;
    for (table, columns) in PROJECTION_TABLES {
        let ra = table_rows(a, table, columns)?;
        let rb = table_rows(b, table, columns)?;
        compared += ra.len().max(rb.len()) as u64;
        if ra == rb {
            continue;
        }
        if ra.len() != rb.len() {
            diffs.push(format!(
                "{table}: {} rows against {} rows",
                ra.len(),
                rb.len()
            ));
        }
        let mut shown = 0;
        for (x, y) in ra.iter().zip(rb.iter()) {
            if x != y && shown < 3 {
                diffs.push(format!(
                    "{table}: {:?} against {:?}",
                    redacted(table, x),
                    redacted(table, y)
                ));
                shown += 1;
            }
        }
    }
    Ok((diffs, compared))
}

/// Copies the database to `scratch`, rebuilds the copy's projections from its
/// documents, and compares them with the original's.
pub fn verify(
    conn: &Connection,
    scratch: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<VerifyReport> {
    let scratch_str = scratch
        .to_str()
        .ok_or_else(|| CoreError::invalid("path", "scratch path is not valid UTF-8"))?;
    conn.execute("VACUUM INTO ?1", [scratch_str])?;
    let copy = Connection::open(scratch)?;
    copy.pragma_update(None, "synchronous", "OFF")?;
    copy.execute_batch("BEGIN")?;
    rebuild(&copy, progress)?;
    copy.execute_batch("COMMIT")?;
    let (differences, rows) = compare(conn, &copy)?;
    let quarantined = crate::quarantine::list(&copy, usize::MAX)?;
    Ok(VerifyReport {
        tables_compared: PROJECTION_TABLES.len() as u64,
        rows_compared: rows,
        differences,
        quarantined,
    })
}
