//! Records appended from a partition's tip, without the loaded document
//! (`ledger_tip`): what the change log ends up holding when another
//! process writes the same partition, when a sale rolls back after its
//! change was made, and when an inline snapshot is due in between.

mod common;

use std::collections::HashSet;
use std::path::Path;

use automerge::{Change, ReadDoc};
use common::{R, Till, doc_from_whole_log, product, sell_cash, verify_clean};
use rusqlite::Connection;
use shopsync_core::Store;

fn shop(dir: &Path) -> Result<Store, shopsync_core::CoreError> {
    Till {
        stock: vec![(product("TIP-1", "Tip tea", 250), 1_000)],
        ..Till::default()
    }
    .open(dir)
}

/// Every ledger partition rebuilt from the whole change log: (records, heads).
fn ledger_docs(conn: &Connection) -> Result<Vec<(usize, usize)>, Box<dyn std::error::Error>> {
    let ids: Vec<String> = conn
        .prepare("SELECT doc_id FROM documents WHERE kind = 'ledger' ORDER BY doc_id")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    for id in ids {
        let mut doc = doc_from_whole_log(conn, &id)?;
        out.push((doc.length(automerge::ROOT), doc.get_heads().len()));
    }
    Ok(out)
}

fn sales(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM sales", [], |r| r.get(0))
}

/// Two processes selling from one file, turn about: each builds on the
/// other's changes (one head), and no change is lost.
#[test]
fn two_connections_on_one_file_append_in_one_line() -> R {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("a.db");
    let mut a = shop(dir.path())?;
    let mut b = Store::open(&path)?;
    for _ in 0..3 {
        sell_cash(&mut a, "TIP-1", 1, 500)?;
        sell_cash(&mut b, "TIP-1", 1, 500)?;
    }
    sell_cash(&mut a, "TIP-1", 2, 500)?;
    let conn = Connection::open(&path)?;
    assert_eq!(sales(&conn)?, 7);
    let docs = ledger_docs(&conn)?;
    let records: usize = docs.iter().map(|d| d.0).sum();
    // 7 sales and the opening stock receipt.
    assert_eq!(records, 8, "{docs:?}");
    assert!(docs.iter().all(|d| d.1 == 1), "one head each: {docs:?}");
    verify_clean(&a)?;
    verify_clean(&b)?;
    Ok(())
}

/// A sale whose projection fails after its change was made rolls back
/// whole: the next sale does not build on the change that never landed,
/// and the document loads from the change log.
#[test]
fn a_sale_rolled_back_after_its_change_leaves_no_trace() -> R {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("a.db");
    let mut a = shop(dir.path())?;
    sell_cash(&mut a, "TIP-1", 1, 500)?;
    a.connection().execute_batch(
        "CREATE TRIGGER boom BEFORE INSERT ON sale_lines WHEN NEW.qty = 7
         BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
    )?;
    let changes_before: i64 =
        a.connection()
            .query_row("SELECT COUNT(*) FROM doc_changes", [], |r| r.get(0))?;
    assert!(sell_cash(&mut a, "TIP-1", 7, 5_000).is_err());
    let changes_after: i64 =
        a.connection()
            .query_row("SELECT COUNT(*) FROM doc_changes", [], |r| r.get(0))?;
    assert_eq!(
        changes_before, changes_after,
        "nothing of the failed sale stored"
    );
    sell_cash(&mut a, "TIP-1", 2, 1_000)?;
    sell_cash(&mut a, "TIP-1", 3, 1_000)?;
    let conn = Connection::open(&path)?;
    assert_eq!(sales(&conn)?, 3);
    let docs = ledger_docs(&conn)?;
    assert_eq!(docs.iter().map(|d| d.0).sum::<usize>(), 4, "{docs:?}");
    assert!(docs.iter().all(|d| d.1 == 1), "{docs:?}");
    drop(a);
    let reopened = Store::open(&path)?;
    verify_clean(&reopened)?;
    Ok(())
}

/// Inline snapshots taken between tip appends hold every sale before them.
#[test]
fn inline_snapshots_between_appends_hold_every_sale() -> R {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("a.db");
    let mut a = shop(dir.path())?;
    a.set_snapshot_every(4);
    for _ in 0..11 {
        sell_cash(&mut a, "TIP-1", 1, 500)?;
    }
    let conn = Connection::open(&path)?;
    let snapshots: i64 = conn.query_row(
        "SELECT COUNT(*) FROM doc_snapshots s JOIN documents d USING (doc_id) WHERE d.kind = 'ledger'",
        [],
        |r| r.get(0),
    )?;
    assert!(snapshots >= 1, "a ledger snapshot was written");
    drop(a);
    // Opening loads each partition from its snapshot plus later changes.
    let mut reopened = Store::open(&path)?;
    sell_cash(&mut reopened, "TIP-1", 1, 500)?;
    verify_clean(&reopened)?;
    assert_eq!(sales(&conn)?, 12);
    Ok(())
}

/// Distinct Automerge actors over every stored ledger change.
fn ledger_actors(conn: &Connection) -> Result<usize, Box<dyn std::error::Error>> {
    let mut stmt = conn.prepare(
        "SELECT c.bytes FROM doc_changes c JOIN documents d USING (doc_id) WHERE d.kind = 'ledger'",
    )?;
    let mut actors = HashSet::new();
    for bytes in stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))? {
        actors.insert(Change::try_from(bytes?.as_slice())?.actor_id().clone());
    }
    Ok(actors.len())
}

/// A tip rebuilt while its document stays loaded (another process wrote
/// the partition) goes on as the same actor: each new actor costs every
/// later load of the partition (found by the review of the tip change:
/// an actor per interleaved sale).
#[test]
fn a_rebuilt_tip_goes_on_as_the_same_actor() -> R {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("a.db");
    let mut a = shop(dir.path())?;
    for _ in 0..5 {
        sell_cash(&mut a, "TIP-1", 1, 500)?;
    }
    let one_process = ledger_actors(&Connection::open(&path)?)?;
    let mut b = Store::open(&path)?;
    for _ in 0..10 {
        sell_cash(&mut a, "TIP-1", 1, 500)?;
        sell_cash(&mut b, "TIP-1", 1, 500)?;
    }
    let alternating = ledger_actors(&Connection::open(&path)?)?;
    assert!(
        alternating <= one_process + 1,
        "{one_process} actors from one process, {alternating} after 20 sales in turn from two"
    );
    let conn = Connection::open(&path)?;
    assert!(ledger_docs(&conn)?.iter().all(|d| d.1 == 1));
    verify_clean(&a)?;
    Ok(())
}
