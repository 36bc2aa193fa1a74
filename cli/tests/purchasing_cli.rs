//! Reordering and purchase orders through the real `shopsync` binary: the
//! reorder list, an order made from it, partial deliveries on two tills
//! that add up after a bundle exchange, refusals, close, CSV export, and
//! the product's reorder target in `product add/edit` and the CSV.

mod common;

use std::path::Path;

use common::{E, R, Till, exchange, path};
use serde_json::Value;

/// Till T1: supplier Acme; P (reorder point 5, target 20) with 3 in stock,
/// Q (reorder point 4) with 10. Returns the till and Acme's id.
fn shop(dir: &Path) -> Result<(Till, String), E> {
    let t = Till::new(dir, "t1");
    t.init("Corner Shop", "T1")?;
    let acme = t.json(&["supplier", "add", "--name", "Acme"])?["id"]
        .as_str()
        .ok_or("supplier id")?
        .to_string();
    for (sku, point, target) in [("P", "5", Some("20")), ("Q", "4", None)] {
        let mut args = vec![
            "product",
            "add",
            "--sku",
            sku,
            "--name",
            sku,
            "--price",
            "2.50",
            "--cost",
            "1.00",
            "--reorder-point",
            point,
            "--supplier",
            &acme,
        ];
        if let Some(t) = target {
            args.extend(["--reorder-target", t]);
        }
        t.json(&args)?;
    }
    t.json(&["receive", "--supplier", &acme, "Px3", "Qx10"])?;
    Ok((t, acme))
}

/// (ordered, received, outstanding) of `sku` in `po show`'s JSON.
fn line(order: &Value, sku: &str) -> Result<(i64, i64, i64), E> {
    let l = order["lines"]
        .as_array()
        .ok_or("lines")?
        .iter()
        .find(|l| l["sku"] == sku)
        .ok_or("no such line")?;
    let n = |k: &str| l[k].as_i64().ok_or(format!("{k} is not a number"));
    Ok((n("ordered")?, n("received")?, n("outstanding")?))
}

#[test]
fn an_order_from_the_reorder_list_received_in_parts_on_two_tills() -> R {
    let dir = tempfile::tempdir()?;
    let (t1, acme) = shop(dir.path())?;
    let list = t1.json(&["reorder", "list"])?;
    assert_eq!(list[0]["supplier_id"], acme.as_str());
    assert_eq!(list[0]["lines"][0]["sku"], "P");
    assert_eq!(list[0]["lines"][0]["suggested"], 17);
    assert_eq!(
        list[0]["lines"].as_array().map(Vec::len),
        Some(1),
        "Q is stocked"
    );
    assert!(t1.human(&["reorder", "list"])?.contains("Acme"));
    assert_eq!(t1.json(&["reorder", "alerts"])?["count"], 1);

    let po = t1.json(&["po", "create", "--supplier", &acme, "--from-reorder"])?;
    let id = po["id"].as_str().ok_or("order id")?.to_string();
    assert_eq!(po["status"], "open");
    assert_eq!(line(&po, "P")?, (17, 0, 17));
    assert_eq!(po["total"], "17.00", "at P's catalog cost");
    let again = t1.json(&["reorder", "list"])?;
    assert_eq!(again[0]["lines"][0]["on_order"], 17);
    assert_eq!(again[0]["lines"][0]["suggested"], 0, "not suggested twice");
    let err = t1.fails(&["po", "create", "--supplier", &acme, "--from-reorder"])?;
    assert!(err.contains("nothing to reorder"), "{err}");

    // Till T2 joins, then both receive part of the order offline.
    let t2 = Till::new(dir.path(), "t2");
    t2.join(&t1, "T2")?;
    t1.json(&["po", "receive", &id, "--line", "P=5"])?;
    let partial = t2.json(&["po", "receive", &id, "--line", "P=7@0.90"])?;
    assert_eq!(partial["status"], "partially_received");
    assert_eq!(line(&partial, "P")?, (17, 7, 10));
    exchange(&t1, &t2)?;
    for t in [&t1, &t2] {
        let o = t.json(&["po", "show", &id])?;
        assert_eq!(line(&o, "P")?, (17, 12, 5));
        assert_eq!(o["receipts"].as_array().map(Vec::len), Some(2));
        assert_eq!(t.on_hand("P")?, 15);
        let verify = t.json(&["rebuild", "--verify"])?;
        assert_eq!(verify["differences"].as_array().map(Vec::len), Some(0));
    }
    let listed = t2.json(&["po", "list", "--status", "partially_received"])?;
    assert_eq!(listed[0]["outstanding"], 5);

    // The rest, then the order is received; closing marks it done.
    let done = t2.json(&["po", "receive", &id, "--line", "P=5"])?;
    assert_eq!(done["status"], "received");
    let closed = t2.json(&["po", "close", &id, "--reason", "complete"])?;
    assert_eq!(
        (closed["status"].as_str(), closed["close_reason"].as_str()),
        (Some("closed"), Some("complete"))
    );
    let err = t2.fails(&["po", "receive", &id, "--line", "P=1"])?;
    assert!(err.contains("closed"), "{err}");
    assert_eq!(
        t2.json(&["po", "list", "--status", "open"])?
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    Ok(())
}

#[test]
fn bad_lines_are_refused_with_one_line_and_change_nothing() -> R {
    let dir = tempfile::tempdir()?;
    let (t, acme) = shop(dir.path())?;
    for (args, says) in [
        (
            vec!["po", "create", "--supplier", "nobody", "--line", "P=1"],
            "not found",
        ),
        (
            vec!["po", "create", "--supplier", &acme],
            "at least one line",
        ),
        (
            vec!["po", "create", "--supplier", &acme, "--line", "NOPE=1"],
            "not found",
        ),
        (
            vec!["po", "create", "--supplier", &acme, "--line", "P=0"],
            "above zero",
        ),
        (
            vec!["po", "create", "--supplier", &acme, "--line", "P=-4"],
            "above zero",
        ),
        (
            vec!["po", "create", "--supplier", &acme, "--line", "P"],
            "SKU=QTY",
        ),
        (
            vec!["po", "create", "--supplier", &acme, "--line", "P=two"],
            "whole number",
        ),
        (
            vec!["po", "create", "--supplier", &acme, "--line", "P=1@-1"],
            "cost",
        ),
        (vec!["po", "list", "--status", "lost"], "unknown status"),
        (vec!["po", "show", "no-such-order"], "not found"),
    ] {
        let err = t.fails(&args)?;
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let po = t.json(&[
        "po",
        "create",
        "--supplier",
        &acme,
        "--line",
        "P=4@1.50",
        "--note",
        "urgent",
    ])?;
    let id = po["id"].as_str().ok_or("order id")?;
    for (args, says) in [
        (
            vec!["po", "receive", id, "--line", "Q=1"],
            "not on purchase order",
        ),
        (vec!["po", "receive", id, "--line", "P=0"], "above zero"),
        (
            vec!["po", "receive", "no-such-order", "--line", "P=1"],
            "not found",
        ),
    ] {
        let err = t.fails(&args)?;
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert_eq!(t.on_hand("Q")?, 10);
    assert_eq!(t.on_hand("P")?, 3);
    assert_eq!(t.json(&["po", "list"])?.as_array().map(Vec::len), Some(1));
    // Allowed extra products come in as lines with nothing ordered.
    let extra = t.json(&["po", "receive", id, "--line", "Q=2", "--allow-extra"])?;
    assert_eq!(line(&extra, "Q")?, (0, 2, 0));
    assert_eq!(t.on_hand("Q")?, 12);

    let out = dir.path().join("order.csv");
    let exported = t.json(&["po", "export", id, path(&out)?])?;
    assert_eq!(exported["lines"], 1, "extra products are not on the order");
    assert_eq!(
        std::fs::read_to_string(&out)?,
        "sku,supplier,name,qty,unit_cost,line_total\nP,Acme,P,4,1.50,6.00\n"
    );
    Ok(())
}

#[test]
fn the_reorder_target_is_set_by_product_edit_and_the_csv() -> R {
    let dir = tempfile::tempdir()?;
    let (t, _) = shop(dir.path())?;
    let err = t.fails(&["product", "edit", "P", "--reorder-target", "2"])?;
    assert!(err.contains("below the reorder point"), "{err}");
    let edited = t.json(&["product", "edit", "Q", "--reorder-target", "12"])?;
    assert_eq!(edited["reorder_target"], 12);
    let cleared = t.json(&["product", "edit", "Q", "--reorder-target", "none"])?;
    assert!(cleared.get("reorder_target").is_none());

    // A CSV without the column leaves the target; with it, sets or clears it.
    let csv = dir.path().join("p.csv");
    std::fs::write(&csv, "sku,name,price,reorder_point\nP,P,2.60,5\n")?;
    t.json(&["product", "import", path(&csv)?])?;
    assert_eq!(t.json(&["product", "show", "P"])?["reorder_target"], 20);
    std::fs::write(
        &csv,
        "sku,name,price,reorder_point,reorder_target\nP,P,2.60,5,30\nQ,Q,2.50,4,\n",
    )?;
    t.json(&["product", "import", path(&csv)?])?;
    assert_eq!(t.json(&["product", "show", "P"])?["reorder_target"], 30);
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "sku,name,price,reorder_point,reorder_target\nP,P,2.60,5,1\n",
    )?;
    let err = t.fails(&["product", "import", path(&bad)?])?;
    assert!(
        err.contains("row 2") && err.contains("reorder_target"),
        "{err}"
    );
    assert_eq!(t.json(&["product", "show", "P"])?["reorder_target"], 30);
    // The export writes the column, and imports back unchanged.
    let out = dir.path().join("out.csv");
    t.json(&["product", "export", path(&out)?])?;
    let text = std::fs::read_to_string(&out)?;
    assert!(
        text.starts_with(
            "sku,name,price,barcode,tax_class,cost,reorder_point,supplier,category,reorder_target\n"
        ),
        "{text}"
    );
    assert!(text.contains(",30\n"), "{text}");
    let again = t.json(&["product", "import", path(&out)?])?;
    assert_eq!(again["unchanged"], 2);
    Ok(())
}

#[test]
fn a_sku_with_an_at_sign_or_an_equals_sign_can_be_ordered_and_received() -> R {
    let dir = tempfile::tempdir()?;
    let (t, acme) = shop(dir.path())?;
    for sku in ["A@B", "C=D"] {
        t.json(&[
            "product", "add", "--sku", sku, "--name", sku, "--price", "1.00",
        ])?;
    }
    let po = t.json(&[
        "po",
        "create",
        "--supplier",
        &acme,
        "--line",
        "A@B=2@0.50",
        "--line",
        "C=D=3",
    ])?;
    assert_eq!(line(&po, "A@B")?, (2, 0, 2));
    assert_eq!(line(&po, "C=D")?, (3, 0, 3));
    assert_eq!(po["total"], "1.00");
    let id = po["id"].as_str().ok_or("order id")?;
    let got = t.json(&["po", "receive", id, "--line", "C=D=3"])?;
    assert_eq!(line(&got, "C=D")?, (3, 3, 0));
    for (bad, says) in [
        ("A@B=2@", "not an amount"),
        ("=3", "names no product"),
        ("A@B=x", "whole number"),
        ("A@B", "SKU=QTY"),
    ] {
        let err = t.fails(&["po", "create", "--supplier", &acme, "--line", bad])?;
        assert!(err.contains(says), "{bad}: {err}");
    }
    assert_eq!(t.json(&["po", "list"])?.as_array().map(Vec::len), Some(1));
    Ok(())
}
