//! Snapshots and WAL checkpoints written off the sale path: what they hold,
//! that they land, and that the WAL stays small while the till sells
//! back-to-back. (A kill in the middle of one: `crash_safety.rs`.)

mod common;

use std::path::Path;

use automerge::ReadDoc;
use common::{R, Till, doc_from_whole_log, product, sell_cash, verify_clean};
use rusqlite::{Connection, params};
use shopsync_core::{Snapshots, Store, docs};

fn shop(dir: &Path) -> Result<Store, shopsync_core::CoreError> {
    Till {
        stock: vec![(product("SNAP-1", "Snapshot soap", 250), 1_000_000)],
        ..Till::default()
    }
    .open(dir)
}

/// This till's ledger partitions: (doc id, snapshot's upto_seq if any).
fn ledgers(conn: &Connection) -> rusqlite::Result<Vec<(String, Option<i64>)>> {
    let mut stmt = conn.prepare(
        "SELECT d.doc_id, s.upto_seq FROM documents d
         LEFT JOIN doc_snapshots s USING (doc_id)
         WHERE d.kind = 'ledger' ORDER BY d.doc_id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

fn wal_bytes(db: &Path) -> u64 {
    std::fs::metadata(format!("{}-wal", db.display()))
        .map(|m| m.len())
        .unwrap_or(0)
}

#[test]
fn background_snapshots_land_and_equal_the_whole_log() -> R {
    let dir = tempfile::tempdir()?;
    let mut till = shop(dir.path())?;
    till.set_snapshots(Snapshots::Background);
    till.set_snapshot_every(10);
    for _ in 0..45 {
        sell_cash(&mut till, "SNAP-1", 1, 1_000)?;
    }
    till.wait_for_background();

    let conn = till.connection();
    let ledgers = ledgers(conn)?;
    assert_eq!(ledgers.len(), 1, "one partition: {ledgers:?}");
    let (doc_id, upto) = &ledgers[0];
    let upto = upto.ok_or("no snapshot of the partition after 45 sales")?;
    let after: i64 = conn.query_row(
        "SELECT COUNT(*) FROM doc_changes WHERE doc_id = ?1 AND seq > ?2",
        params![doc_id, upto],
        |r| r.get(0),
    )?;
    assert!(
        after < 10,
        "every snapshot asked for was written before wait_for_background returned: {after} changes after it"
    );

    // Snapshot plus the changes after it is exactly the whole history.
    let mut loaded = docs::load(conn, doc_id, None)?;
    let mut whole = doc_from_whole_log(conn, doc_id)?;
    assert_eq!(loaded.doc.get_heads(), whole.get_heads());
    assert_eq!(
        loaded.doc.length(automerge::ROOT),
        whole.length(automerge::ROOT)
    );

    // A reopened till loads the partition from the snapshot and sells on.
    drop(till);
    let mut till = Store::open(&dir.path().join("a.db"))?;
    sell_cash(&mut till, "SNAP-1", 1, 1_000)?;
    let sales: i64 = till
        .connection()
        .query_row("SELECT COUNT(*) FROM sales", [], |r| r.get(0))?;
    assert_eq!(sales, 46);
    verify_clean(&till)?;
    Ok(())
}

#[test]
fn inline_snapshots_are_written_before_the_sale_returns() -> R {
    let dir = tempfile::tempdir()?;
    let mut till = shop(dir.path())?;
    till.set_snapshots(Snapshots::Inline);
    till.set_snapshot_every(5);
    // The receipt of stock was the partition's first change.
    for _ in 0..4 {
        sell_cash(&mut till, "SNAP-1", 1, 1_000)?;
    }
    let (_, upto) = ledgers(till.connection())?.remove(0);
    assert!(upto.is_some(), "a snapshot after the 5th change");
    Ok(())
}

/// Pages SQLite's checkpoints would copy now: the WAL's frames not yet in
/// the database file.
fn wal_frames_behind(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get(1)?, r.get(2)?))
    })
}

#[test]
fn the_worker_keeps_the_wal_small_between_sales() -> R {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("a.db");
    let mut till = shop(dir.path())?;
    till.set_snapshots(Snapshots::Background);
    for i in 0..400 {
        sell_cash(&mut till, "SNAP-1", 1, 1_000)?;
        if i % 8 == 7 {
            // A moment between customers: the worker's checkpoint finishes.
            till.wait_for_background();
        }
    }
    // SQLite's own checkpoint is put far away (2 GiB) while the worker
    // runs: 400 sales uncopied would leave a WAL of tens of MB.
    let wal = wal_bytes(&db);
    assert!(wal < 4 << 20, "WAL of {wal} bytes after 400 sales");
    Ok(())
}

#[test]
fn inline_stores_keep_sqlites_checkpoints() -> R {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("a.db");
    let mut till = shop(dir.path())?;
    till.set_snapshots(Snapshots::Background);
    sell_cash(&mut till, "SNAP-1", 1, 1_000)?;
    till.set_snapshots(Snapshots::Inline);
    for _ in 0..400 {
        sell_cash(&mut till, "SNAP-1", 1, 1_000)?;
    }
    let wal = wal_bytes(&db);
    assert!(wal < 8 << 20, "WAL of {wal} bytes after 400 sales");
    let (log, copied) = wal_frames_behind(till.connection())?;
    assert_eq!(log, copied, "all of the WAL copies without waiting");
    Ok(())
}

#[test]
fn a_reopened_till_starts_a_new_part_instead_of_loading_a_big_one() -> R {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("a.db");
    let mut till = Till {
        now: Some(common::t0()),
        stock: vec![(product("SNAP-1", "Snapshot soap", 250), 1_000_000)],
        ..Till::default()
    }
    .open(dir.path())?;
    // Durability is not what is tested here.
    till.connection()
        .pragma_update(None, "synchronous", "OFF")?;
    for _ in 0..4_000 {
        sell_cash(&mut till, "SNAP-1", 1, 1_000)?;
    }
    drop(till);
    // Reopened: the month's part holds 4,001 changes, so the next sale
    // starts part 2 without loading it; reopened again, part 2 is small and
    // is appended to.
    for round in 0..2 {
        let mut till = Store::open(&db)?;
        till.set_now(Some(common::t0()));
        sell_cash(&mut till, "SNAP-1", 1, 1_000)?;
        let parts: Vec<(String, i64)> = till
            .connection()
            .prepare(
                "SELECT d.doc_id, COUNT(c.seq) FROM documents d JOIN doc_changes c USING (doc_id)
                 WHERE d.kind = 'ledger' GROUP BY d.doc_id ORDER BY d.doc_id",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        assert_eq!(parts.len(), 2, "round {round}: {parts:?}");
        assert_eq!(parts[0].1, 4_001, "the full part was not written to");
        assert!(parts[1].0.ends_with(".2"), "{parts:?}");
        assert_eq!(parts[1].1, round + 1);
        assert!(
            till.connection()
                .query_row("SELECT COUNT(*) FROM sales", [], |r| r.get::<_, i64>(0))?
                == 4_001 + round
        );
        verify_clean(&till)?;
    }
    Ok(())
}
