//! A till restored from a backup, or a cloned disk (issue 7, part 1):
//! documents stay loadable (no (actor, seq) pair is reused with other
//! content), sale numbers continue past every number of this till the
//! restored file receives, and a number handed out twice is flagged.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::{R, Till, product, sell_cash};
use shopsync_core::{SalesFilter, Store};

/// A store with one product in stock, closed, at `dir/till.db`.
fn restore_fixture(dir: &Path) -> Result<PathBuf, Box<dyn std::error::Error>> {
    Till {
        file: "till.db",
        store: "Corner Shop",
        stock: vec![(product("MILK", "Milk", 100), 50)],
        ..Till::default()
    }
    .open(dir)?;
    Ok(dir.join("till.db"))
}

/// Copies a closed store file (the backup, or the disk image).
fn restore_copy(from: &Path, to: &Path) -> R {
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", to.display()));
    }
    std::fs::copy(from, to)?;
    for suffix in ["-wal", "-shm"] {
        let src = format!("{}{suffix}", from.display());
        if Path::new(&src).exists() {
            std::fs::copy(&src, format!("{}{suffix}", to.display()))?;
        }
    }
    Ok(())
}

/// Opens the till at `path` and sells one MILK; returns the sale number.
fn restore_sell(path: &Path) -> Result<String, Box<dyn std::error::Error>> {
    Ok(sell_cash(&mut Store::open(path)?, "MILK", 1, 100)?.number)
}

/// (document, actor, seq) → the hashes of the changes that carry it.
type ActorSeqs = HashMap<(String, Vec<u8>, u64), std::collections::HashSet<[u8; 32]>>;

/// Every (document, actor, seq) with the hashes of the changes that carry it.
fn restore_actor_seqs(path: &Path, into: &mut ActorSeqs) -> R {
    let s = Store::open(path)?;
    for id in shopsync_core::docs::document_ids(s.connection())? {
        let key = id.to_string();
        let mut stmt = s
            .connection()
            .prepare("SELECT bytes FROM doc_changes WHERE doc_id = ?1")?;
        let rows = stmt.query_map([&key], |r| r.get::<_, Vec<u8>>(0))?;
        for bytes in rows {
            let c = shopsync_core::docs::decode_change(&bytes?)?;
            into.entry((key.clone(), c.actor_id().to_bytes().to_vec(), c.seq()))
                .or_default()
                .insert(c.hash().0);
        }
    }
    Ok(())
}

#[test]
fn a_restored_till_never_reuses_an_actor_and_seq() -> R {
    let dir = tempfile::tempdir()?;
    let till = restore_fixture(dir.path())?;
    let backup = dir.path().join("backup.db");
    restore_copy(&till, &backup)?;
    restore_sell(&till)?;
    let after = dir.path().join("after.db");
    restore_copy(&till, &after)?;
    // The backup goes back in place and the till keeps trading.
    restore_copy(&backup, &till)?;
    restore_sell(&till)?;

    let mut seen = HashMap::new();
    restore_actor_seqs(&after, &mut seen)?;
    restore_actor_seqs(&till, &mut seen)?;
    for ((doc, _, seq), hashes) in &seen {
        assert_eq!(
            hashes.len(),
            1,
            "{doc}: one actor's seq {seq} carries two changes"
        );
    }

    // A second till that imports both copies loads every document and
    // rebuilds to what it projected.
    let b = dir.path().join("b.db");
    let bundle_after = dir.path().join("after.bundle");
    let bundle_till = dir.path().join("till.bundle");
    Store::open(&after)?.export_bundle_to(&bundle_after)?;
    Store::open(&till)?.export_bundle_to(&bundle_till)?;
    let mut second = Store::init_from_bundle(&b, &bundle_after, "B")?;
    second.import_bundle_from(&bundle_till)?;
    let report = second.verify(&mut |_| {})?;
    assert!(
        report.differences.is_empty(),
        "rebuild --verify after both copies: {report:?}"
    );
    second.rebuild(&mut |_| {})?;
    assert_eq!(second.sales(&SalesFilter::default())?.len(), 2);
    Ok(())
}

#[test]
fn two_processes_on_one_file_never_fork_a_document() -> R {
    let dir = tempfile::tempdir()?;
    let till = restore_fixture(dir.path())?;
    let mut app = Store::open(&till)?;
    let mut cli = Store::open(&till)?;
    for _ in 0..3 {
        for s in [&mut app, &mut cli] {
            sell_cash(s, "MILK", 1, 100)?;
        }
    }
    drop((app, cli));
    let s = Store::open(&till)?;
    let numbers: std::collections::BTreeSet<String> = s
        .sales(&SalesFilter::default())?
        .into_iter()
        .map(|x| x.number)
        .collect();
    assert_eq!(numbers.len(), 6, "six sales, six numbers: {numbers:?}");
    assert!(s.verify(&mut |_| {})?.differences.is_empty());
    Ok(())
}

#[test]
fn sale_numbers_continue_past_sales_that_come_back_to_a_restored_till() -> R {
    let dir = tempfile::tempdir()?;
    let till = restore_fixture(dir.path())?;
    let backup = dir.path().join("backup.db");
    restore_copy(&till, &backup)?;
    assert_eq!(restore_sell(&till)?, "A-000001");
    assert_eq!(restore_sell(&till)?, "A-000002");
    let bundle = dir.path().join("after.bundle");
    Store::open(&till)?.export_bundle_to(&bundle)?;
    restore_copy(&backup, &till)?;
    // The restored till gets its later sales back (here by bundle; a server
    // sends them the same way) and numbers past them.
    Store::open(&till)?.import_bundle_from(&bundle)?;
    assert_eq!(restore_sell(&till)?, "A-000003");
    Ok(())
}

#[test]
fn a_number_handed_out_twice_is_flagged_when_the_two_sales_meet() -> R {
    let dir = tempfile::tempdir()?;
    let till = restore_fixture(dir.path())?;
    let backup = dir.path().join("backup.db");
    restore_copy(&till, &backup)?;
    assert_eq!(restore_sell(&till)?, "A-000001");
    let bundle = dir.path().join("after.bundle");
    Store::open(&till)?.export_bundle_to(&bundle)?;
    restore_copy(&backup, &till)?;
    // Restored and not yet synced: it cannot know A-000001 was used.
    assert_eq!(restore_sell(&till)?, "A-000001");
    let mut s = Store::open(&till)?;
    assert!(
        s.sales(&SalesFilter::default())?[0].same_number.is_empty(),
        "one sale, no clash yet"
    );
    s.import_bundle_from(&bundle)?;
    let sales = s.sales(&SalesFilter::default())?;
    assert_eq!(sales.len(), 2);
    for x in &sales {
        let other: Vec<String> = sales
            .iter()
            .filter(|y| y.sale_id != x.sale_id)
            .map(|y| y.sale_id.clone())
            .collect();
        assert_eq!(x.same_number, other, "sale {} names the other", x.sale_id);
        assert_eq!(s.sale(&x.sale_id)?.summary.same_number, other);
    }
    drop(s);
    assert_eq!(restore_sell(&till)?, "A-000002");
    Ok(())
}
