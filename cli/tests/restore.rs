//! Issue 7, part 1, as the CLI user met it: a till's file is copied, the
//! till sells, the copy is put back, and the till keeps trading.

mod common;

use std::path::Path;

use common::{E, R, Till};
use serde_json::Value;

/// Sells one MILK for cash on `t`.
fn restore_sell(t: &Till) -> Result<Value, E> {
    t.json(&["sell", "MILK", "--pay", "cash:5"])
}

/// The file alone: every command closes the store, so there is no WAL left.
fn restore_copy(from: &Path, to: &Path) -> R {
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", to.display()));
    }
    std::fs::copy(from, to)?;
    Ok(())
}

#[test]
fn a_till_restored_from_a_copy_of_its_file_keeps_trading() -> R {
    let dir = tempfile::tempdir()?;
    let a = Till::new(dir.path(), "a");
    let b = Till::new(dir.path(), "b");
    let copy = dir.path().join("a-copy.db");
    a.init("Shop", "A")?;
    a.add_product("MILK", "Milk", "1.00")?;
    a.json(&["receive", "MILKx20"])?;
    assert_eq!(restore_sell(&a)?["number"], "A-000001");
    b.join(&a, "B")?;

    // The copy is taken, the till sells once more and B learns of it.
    restore_copy(&a.db, &copy)?;
    let lost = restore_sell(&a)?;
    assert_eq!(lost["number"], "A-000002");
    a.send_to(&b)?;

    // The copy goes back. The till cannot know A-000002 was used: it
    // hands it out again.
    restore_copy(&copy, &a.db)?;
    let again = restore_sell(&a)?;
    assert_eq!(again["number"], "A-000002");

    // B's bundle brings the lost sale back: the restored till imports it
    // (its documents still load), flags the number given twice, and
    // numbers past it.
    b.send_to(&a)?;
    let sales = a.json(&["sales"])?;
    let sales = sales.as_array().ok_or("sales is not an array")?;
    assert_eq!(sales.len(), 3);
    let lost_id = lost["sale_id"].as_str().ok_or("sale id")?;
    let again_id = again["sale_id"].as_str().ok_or("sale id")?;
    for s in sales {
        let expect: Vec<&str> = match s["sale_id"].as_str() {
            Some(id) if id == lost_id => vec![again_id],
            Some(id) if id == again_id => vec![lost_id],
            _ => vec![],
        };
        assert_eq!(s["same_number"], serde_json::json!(expect), "{s}");
    }
    let detail = a.human(&["sale", again_id])?;
    assert!(
        detail.contains("CONFLICT: number A-000002 was also given to sale"),
        "{detail}"
    );
    assert!(a.human(&["sales"])?.contains("DUPLICATE NUMBER"));
    assert_eq!(restore_sell(&a)?["number"], "A-000003");

    // The second till imports the restored till's changes and still
    // rebuilds to what it projected; both agree on stock.
    a.send_to(&b)?;
    for t in [&a, &b] {
        let verify = t.json(&["rebuild", "--verify"])?;
        assert_eq!(verify["differences"], serde_json::json!([]), "{verify}");
        let stock = t.json(&["stock", "MILK"])?;
        assert_eq!(stock[0]["on_hand"], 16);
    }
    Ok(())
}
