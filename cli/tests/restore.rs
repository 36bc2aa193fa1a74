//! Issue 7, part 1, as the CLI user met it: a till's file is copied, the
//! till sells, the copy is put back, and the till keeps trading.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

type R = Result<(), Box<dyn std::error::Error>>;

/// `shopsync --db DB --json ARGS…`, expecting success.
fn restore_json(db: &Path, args: &[&str]) -> Result<Value, Box<dyn std::error::Error>> {
    let out = Command::new(env!("CARGO_BIN_EXE_shopsync"))
        .arg("--db")
        .arg(db)
        .arg("--json")
        .args(args)
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "shopsync {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// `shopsync --db DB ARGS…` (human output), expecting success.
fn restore_text(db: &Path, args: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
    let out = Command::new(env!("CARGO_BIN_EXE_shopsync"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "shopsync {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(String::from_utf8(out.stdout)?)
}

fn restore_sell(db: &Path) -> Result<Value, Box<dyn std::error::Error>> {
    restore_json(db, &["sell", "MILK", "--pay", "cash:5"])
}

fn restore_path(p: &Path) -> Result<&str, Box<dyn std::error::Error>> {
    Ok(p.to_str().ok_or("path is not UTF-8")?)
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
    let a = dir.path().join("a.db");
    let b = dir.path().join("b.db");
    let copy = dir.path().join("a-copy.db");
    let a_bundle = dir.path().join("a.bundle");
    let b_bundle = dir.path().join("b.bundle");
    restore_json(
        &a,
        &[
            "init",
            "--store-name",
            "Shop",
            "--till",
            "A",
            "--currency",
            "EUR",
        ],
    )?;
    restore_json(
        &a,
        &[
            "product", "add", "--sku", "MILK", "--name", "Milk", "--price", "1.00",
        ],
    )?;
    restore_json(&a, &["receive", "MILKx20"])?;
    assert_eq!(restore_sell(&a)?["number"], "A-000001");
    restore_json(&a, &["bundle", "export", restore_path(&a_bundle)?])?;
    restore_json(
        &b,
        &[
            "init",
            "--from-bundle",
            restore_path(&a_bundle)?,
            "--till",
            "B",
        ],
    )?;

    // The copy is taken, the till sells once more and B learns of it.
    restore_copy(&a, &copy)?;
    let lost = restore_sell(&a)?;
    assert_eq!(lost["number"], "A-000002");
    restore_json(&a, &["bundle", "export", restore_path(&a_bundle)?])?;
    restore_json(&b, &["bundle", "import", restore_path(&a_bundle)?])?;

    // The copy goes back. The till cannot know A-000002 was used: it
    // hands it out again.
    restore_copy(&copy, &a)?;
    let again = restore_sell(&a)?;
    assert_eq!(again["number"], "A-000002");

    // B's bundle brings the lost sale back: the restored till imports it
    // (its documents still load), flags the number given twice, and
    // numbers past it.
    restore_json(&b, &["bundle", "export", restore_path(&b_bundle)?])?;
    restore_json(&a, &["bundle", "import", restore_path(&b_bundle)?])?;
    let sales = restore_json(&a, &["sales"])?;
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
    let detail = restore_text(&a, &["sale", again_id])?;
    assert!(
        detail.contains("CONFLICT: number A-000002 was also given to sale"),
        "{detail}"
    );
    assert!(restore_text(&a, &["sales"])?.contains("DUPLICATE NUMBER"));
    assert_eq!(restore_sell(&a)?["number"], "A-000003");

    // The second till imports the restored till's changes and still
    // rebuilds to what it projected; both agree on stock.
    restore_json(&a, &["bundle", "export", restore_path(&a_bundle)?])?;
    restore_json(&b, &["bundle", "import", restore_path(&a_bundle)?])?;
    for db in [&a, &b] {
        let verify = restore_json(db, &["rebuild", "--verify"])?;
        assert_eq!(verify["differences"], serde_json::json!([]), "{verify}");
        let stock = restore_json(db, &["stock", "MILK"])?;
        assert_eq!(stock[0]["on_hand"], 16);
    }
    Ok(())
}
