//! Issue 7 part 6 through the real `shopsync` binary: double refunds made
//! offline, tax classes changed field by field, one SKU made on two tills,
//! CSV columns left out, currencies.

mod common;

use std::path::Path;

use common::{E, R, Till, exchange, path};

/// T1 of "Shop" with 10 of P (2.00), and T2 made from T1's bundle.
fn money_tills(dir: &Path) -> Result<(Till, Till), E> {
    let t1 = Till::new(dir, "t1");
    t1.init("Shop", "T1")?;
    t1.add_product("P", "P", "2.00")?;
    t1.json(&["receive", "Px10"])?;
    let t2 = Till::new(dir, "t2");
    t2.join(&t1, "T2")?;
    Ok((t1, t2))
}

#[test]
fn double_offline_refund_is_flagged_and_a_third_is_refused() -> R {
    let dir = tempfile::tempdir()?;
    let (t1, t2) = money_tills(dir.path())?;
    let sale = t1.json(&["sell", "Px2", "--pay", "cash:4"])?;
    let sale = sale["sale_id"].as_str().ok_or("sale_id")?.to_string();
    exchange(&t1, &t2)?;
    t1.json(&["refund", &sale])?;
    t2.json(&["refund", &sale])?;
    exchange(&t1, &t2)?;
    let stock = t1.on_hand("P")?;

    let err = t1.fails(&["refund", &sale])?;
    assert!(err.contains("nothing left to refund"), "{err}");
    assert_eq!(t1.on_hand("P")?, stock, "no negative refund took stock out");

    for t in [&t1, &t2] {
        let shown = t.human(&["sale", &sale])?;
        assert!(
            shown.contains("CONFLICT line 1 P: sold 2, refunded 4"),
            "{shown}"
        );
        assert!(shown.contains("till "), "{shown}");
        let d = t.json(&["sale", &sale])?;
        assert_eq!(
            d["refund_conflicts"][0]["refunds"].as_array().map(Vec::len),
            Some(2)
        );
        let sales = t.json(&["sales"])?;
        assert_eq!(sales[0]["over_refunded"], true);
        assert!(t.human(&["sales"])?.contains("OVER-REFUNDED"));
        let z = t.json(&["report", "z"])?;
        assert_eq!(z["over_refunded"][0]["sale_id"], sale.as_str());
        assert_eq!(z["over_refunded_total"], "4.00");
        assert!(t.human(&["report", "z"])?.contains("OVER-REFUNDED"));
    }
    Ok(())
}

#[test]
fn tax_class_set_changes_only_the_flags_given() -> R {
    let dir = tempfile::tempdir()?;
    let t = Till::new(dir.path(), "t");
    t.json(&["init", "--store-name", "Shop", "--till", "T1"])?;
    t.json(&[
        "tax-class",
        "set",
        "std",
        "--rate",
        "20",
        "--exclusive",
        "--name",
        "Standard",
    ])?;
    let c = t.json(&["tax-class", "set", "std", "--rate", "21"])?;
    assert_eq!(c["rate_bp"], 2100);
    assert_eq!(c["inclusive"], false);
    assert_eq!(c["name"], "Standard");
    let err = t.fails(&["tax-class", "set", "new"])?;
    assert!(err.contains("needs a rate"), "{err}");
    let n = t.json(&["tax-class", "set", "new", "--rate", "5"])?;
    assert_eq!(
        (n["name"].as_str(), n["inclusive"].as_bool()),
        (Some("new"), Some(true))
    );
    Ok(())
}

#[test]
fn sku_made_on_two_tills_is_shown_and_merged_with_its_stock() -> R {
    let dir = tempfile::tempdir()?;
    let (t1, t2) = money_tills(dir.path())?;
    let a = t1.add_product("DUP", "Dup A", "1")?;
    let b = t2.add_product("DUP", "Dup B", "1")?;
    t1.json(&["receive", "DUPx3"])?;
    t2.json(&["receive", "DUPx4"])?;
    exchange(&t1, &t2)?;
    let (a, b) = (
        a["id"].as_str().ok_or("id")?.to_string(),
        b["id"].as_str().ok_or("id")?.to_string(),
    );
    let list = t1.human(&["product", "list"])?;
    assert_eq!(list.matches("SKU CLASH").count(), 2, "{list}");
    let shown = t1.human(&["product", "show", "DUP"])?;
    assert!(shown.contains("SKU clash"), "{shown}");
    let by_id = t1.json(&["product", "show", &b])?;
    assert_eq!(by_id["name"], "Dup B");
    assert_eq!(by_id["sku_clash"][0], a.as_str());

    let m = t1.json(&["product", "merge", &a, &b])?;
    assert_eq!(m["moved_stock"], 4);
    assert_eq!(t1.on_hand("DUP")?, 7);
    assert!(!t1.human(&["product", "list"])?.contains("SKU CLASH"));
    Ok(())
}

#[test]
fn csv_without_optional_columns_keeps_those_fields() -> R {
    let dir = tempfile::tempdir()?;
    let t = Till::new(dir.path(), "t");
    t.json(&["init", "--store-name", "Shop", "--till", "T1"])?;
    t.json(&["tax-class", "set", "std", "--rate", "20", "--exclusive"])?;
    t.json(&[
        "product",
        "add",
        "--sku",
        "MILK",
        "--name",
        "Milk",
        "--price",
        "1.99",
        "--barcode",
        "4000000000017",
        "--tax-class",
        "std",
        "--cost",
        "0.80",
    ])?;
    let csv = dir.path().join("p.csv");
    std::fs::write(&csv, "sku,name,price\nMILK,Milk,2.09\n")?;
    t.json(&["product", "import", path(&csv)?])?;
    let p = t.json(&["product", "show", "MILK"])?;
    assert_eq!(p["price"], "2.09");
    assert_eq!(p["barcodes"][0], "4000000000017");
    assert_eq!(p["tax_class"], "std");
    assert_eq!(p["cost"], "0.80");
    Ok(())
}

#[test]
fn init_refuses_unknown_currencies_and_knows_zero_decimal_ones() -> R {
    let dir = tempfile::tempdir()?;
    let bad = Till::new(dir.path(), "bad");
    let err = bad.fails(&[
        "init",
        "--store-name",
        "S",
        "--till",
        "T",
        "--currency",
        "ABC",
    ])?;
    assert!(err.contains("ISO 4217"), "{err}");
    let t = Till::new(dir.path(), "xpf");
    t.json(&[
        "init",
        "--store-name",
        "S",
        "--till",
        "T",
        "--currency",
        "XPF",
    ])?;
    let p = t.add_product("A", "A", "150")?;
    assert_eq!(p["price"], "150");
    assert!(
        t.fails(&[
            "product", "add", "--sku", "B", "--name", "B", "--price", "1.5"
        ])
        .is_ok()
    );
    Ok(())
}
