//! Pickup orders on the command line: `orders`, `order show|accept|ready|
//! reject|collect`, reservations in `stock`, and the `publish` settings.
//! Orders reach the till's file as a customer's phone would send them
//! (`common::Customer`, with the core).

mod common;

use std::path::Path;

use common::{Customer, E, R, Till, stock_of};

/// Till T1: MILK 1.20 (10 in stock) and BREAD 2.50 (5 in stock), untaxed.
fn shop(dir: &Path) -> Result<Till, E> {
    let t = Till::new(dir, "t1");
    t.init("Corner Shop", "T1")?;
    t.add_product("MILK", "Whole milk 1L", "1.20")?;
    t.add_product("BREAD", "Sourdough loaf", "2.50")?;
    t.json(&["receive", "MILKx10", "BREADx5"])?;
    Ok(t)
}

#[test]
fn accept_ready_collect_reserves_then_sells() -> R {
    let dir = tempfile::tempdir()?;
    let t = shop(dir.path())?;
    let mut phone = Customer::new("cust1");
    phone.send(
        &t,
        "ord-7f3a9c21",
        "Weekly",
        &[("MILK", 3), ("BREAD", 2), ("", 1)],
    )?;

    // The list: one open order, in JSON and as a table.
    let list = t.json(&["orders"])?;
    let list = list.as_array().ok_or("orders is not an array")?;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], "ord-7f3a9c21");
    assert_eq!(list[0]["status"], "sent");
    assert_eq!(list[0]["customer_name"], "Customer cust1");
    assert_eq!(list[0]["list_name"], "Weekly");
    assert!(list[0]["sent_at"].is_i64());
    assert_eq!(list[0]["lines"].as_array().map(Vec::len), Some(3));
    let table = t.human(&["orders"])?;
    let mut rows = table.lines();
    let head = rows.next().ok_or("no header")?;
    for col in ["id", "customer", "list", "status", "lines", "sent"] {
        assert!(head.contains(col), "header lacks {col}: {head}");
    }
    let row = rows.next().ok_or("no row")?;
    assert!(row.starts_with("ord-7f3a"), "{row}");
    for part in ["Customer cust1", "Weekly", "sent", " 3 "] {
        assert!(row.contains(part), "row lacks {part:?}: {row}");
    }
    assert_eq!(
        stock_of(&t, "MILK")?,
        (10, 0, 10),
        "a sent order reserves nothing"
    );

    // Accept by prefix with BREAD unavailable (by SKU).
    let accepted = t.json(&["order", "accept", "ord-7f3a", "--unavailable", "BREAD"])?;
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["lines"][0]["unavailable"], false);
    assert_eq!(accepted["lines"][1]["unavailable"], true);
    assert_eq!(accepted["lines"][2]["sku"], serde_json::Value::Null);
    assert_eq!(stock_of(&t, "MILK")?, (10, 3, 7));
    assert_eq!(
        stock_of(&t, "BREAD")?,
        (5, 0, 5),
        "an unavailable line reserves nothing"
    );
    let stock = t.human(&["stock"])?;
    assert!(
        stock
            .lines()
            .next()
            .is_some_and(|h| h.contains("reserved") && h.contains("available")),
        "{stock}"
    );
    let milk_row = stock
        .lines()
        .find(|l| l.starts_with("MILK"))
        .ok_or("no MILK row")?;
    let cols: Vec<&str> = milk_row.split_whitespace().collect();
    assert_eq!(&cols[1..4], &["10", "3", "7"], "{milk_row}");

    let shown = t.human(&["order", "show", "ord-7f3a9c21"])?;
    assert!(shown.contains("ACCEPTED"), "{shown}");
    let bread = shown
        .lines()
        .find(|l| l.contains("BREAD"))
        .ok_or("no BREAD line")?;
    assert!(bread.contains("UNAVAILABLE"), "{bread}");
    let milk = shown
        .lines()
        .find(|l| l.contains("MILK"))
        .ok_or("no MILK line")?;
    assert!(!milk.contains("UNAVAILABLE"), "{milk}");

    let ready = t.json(&["order", "ready", "ord-7f3a"])?;
    assert_eq!(ready["status"], "ready");

    // Collect: 3 milk (bread unavailable, free text not sold), split tender.
    let collected = t.json(&[
        "order", "collect", "ord-7f3a", "--pay", "card:1", "--pay", "cash:5",
    ])?;
    assert_eq!(collected["order"]["status"], "collected");
    assert_eq!(collected["receipt"]["total"], "3.60");
    assert_eq!(collected["receipt"]["change"], "2.40");
    let sale_id = collected["receipt"]["sale_id"].as_str().ok_or("sale_id")?;
    assert_eq!(collected["order"]["sale_id"], sale_id);
    assert_eq!(
        stock_of(&t, "MILK")?,
        (7, 0, 7),
        "the reservation became the sale"
    );
    assert_eq!(stock_of(&t, "BREAD")?, (5, 0, 5));
    let sale = t.json(&["sale", sale_id])?;
    assert_eq!(sale["lines"].as_array().map(Vec::len), Some(1));

    // Collected orders leave the open list; --all still shows them.
    assert_eq!(t.json(&["orders"])?.as_array().map(Vec::len), Some(0));
    assert!(t.human(&["orders"])?.contains("no open orders"));
    let all = t.json(&["orders", "--all"])?;
    assert_eq!(all[0]["status"], "collected");
    Ok(())
}

#[test]
fn collect_prints_the_receipt_like_sell() -> R {
    let dir = tempfile::tempdir()?;
    let t = shop(dir.path())?;
    Customer::new("cust2").send(&t, "ord-bread-02", "Party", &[("BREAD", 2)])?;
    t.json(&["order", "accept", "ord-bread-02"])?;
    let out = t.human(&["order", "collect", "ord-bread-02", "--pay", "cash:10"])?;
    assert!(out.starts_with("sale "), "{out}");
    assert!(
        out.contains("total  5.00") && out.contains("change 5.00"),
        "{out}"
    );
    assert!(
        out.contains("Order ord-bread-02") && out.contains("COLLECTED"),
        "{out}"
    );
    Ok(())
}

#[test]
fn accept_marks_unavailable_lines_by_number() -> R {
    let dir = tempfile::tempdir()?;
    let t = shop(dir.path())?;
    Customer::new("cust3").send(&t, "ord-lines-03", "Weekly", &[("MILK", 1), ("BREAD", 1)])?;
    let a = t.json(&["order", "accept", "ord-lines-03", "--unavailable", "1", "2"])?;
    assert_eq!(a["lines"][0]["unavailable"], true);
    assert_eq!(a["lines"][1]["unavailable"], true);
    assert_eq!(stock_of(&t, "MILK")?, (10, 0, 10));
    // Nothing left to sell: collecting says so and changes nothing.
    let err = t.fails(&["order", "collect", "ord-lines-03", "--pay", "cash:10"])?;
    assert!(err.contains("no available line"), "{err}");
    assert_eq!(
        t.json(&["order", "show", "ord-lines-03"])?["status"],
        "accepted"
    );
    Ok(())
}

#[test]
fn reject_with_a_reason_frees_the_reservation() -> R {
    let dir = tempfile::tempdir()?;
    let t = shop(dir.path())?;
    Customer::new("cust4").send(&t, "ord-reject-4", "Weekly", &[("MILK", 4)])?;
    t.json(&["order", "accept", "ord-reject-4"])?;
    assert_eq!(stock_of(&t, "MILK")?, (10, 4, 6));

    // A reason is required.
    let r = t.run(&["order", "reject", "ord-reject-4"])?;
    assert!(!r.ok && r.stderr.contains("--reason"), "{}", r.stderr);
    let err = t.fails(&["order", "reject", "ord-reject-4", "--reason", "  "])?;
    assert!(err.contains("reason"), "{err}");

    let rejected = t.json(&[
        "order",
        "reject",
        "ord-reject-4",
        "--reason",
        "Closed for stocktaking",
    ])?;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["reason"], "Closed for stocktaking");
    assert_eq!(
        stock_of(&t, "MILK")?,
        (10, 0, 10),
        "a rejected order reserves nothing"
    );
    let shown = t.human(&["order", "show", "ord-reject-4"])?;
    assert!(
        shown.contains("REJECTED") && shown.contains("Closed for stocktaking"),
        "{shown}"
    );
    Ok(())
}

#[test]
fn bad_transitions_fail_clearly_and_change_nothing() -> R {
    let dir = tempfile::tempdir()?;
    let t = shop(dir.path())?;
    Customer::new("cust5").send(&t, "ord-bad-0005", "Weekly", &[("MILK", 2)])?;
    let before = (t.json(&["orders", "--all"])?, t.json(&["stock"])?);

    // Not accepted yet: cannot be made ready or collected.
    let err = t.fails(&["order", "ready", "ord-bad-0005"])?;
    assert!(err.contains("is sent: it cannot be made ready"), "{err}");
    let err = t.fails(&["order", "collect", "ord-bad-0005", "--pay", "cash:10"])?;
    assert!(err.contains("cannot be collected"), "{err}");
    // Unknown line, unknown order, too short a prefix.
    let err = t.fails(&["order", "accept", "ord-bad-0005", "--unavailable", "EGGS"])?;
    assert!(err.contains("no line with SKU or number 'EGGS'"), "{err}");
    let err = t.fails(&["order", "show", "nope-nope"])?;
    assert!(
        err.contains("not found") || err.contains("no order"),
        "{err}"
    );
    let err = t.fails(&["order", "show", "ord"])?;
    assert!(err.contains("at least the first 4 characters"), "{err}");
    // A bad tender is refused before anything is written.
    t.json(&["order", "accept", "ord-bad-0005"])?;
    let mid = (t.json(&["orders", "--all"])?, t.json(&["stock"])?);
    let err = t.fails(&["order", "collect", "ord-bad-0005", "--pay", "cash:abc"])?;
    assert!(err.contains("abc"), "{err}");
    let err = t.fails(&["order", "collect", "ord-bad-0005", "--pay", "cash:1"])?;
    assert!(
        err.to_lowercase().contains("paid") || err.contains("short"),
        "{err}"
    );
    assert_eq!((t.json(&["orders", "--all"])?, t.json(&["stock"])?), mid);
    let err = t.fails(&["order", "accept", "ord-bad-0005"])?;
    assert!(err.contains("is accepted: it cannot be accepted"), "{err}");

    // Once collected, nothing more can happen to it.
    t.json(&["order", "collect", "ord-bad-0005", "--pay", "cash:10"])?;
    let done = (t.json(&["orders", "--all"])?, t.json(&["stock"])?);
    for args in [
        vec!["order", "reject", "ord-bad-0005", "--reason", "too late"],
        vec!["order", "ready", "ord-bad-0005"],
        vec!["order", "collect", "ord-bad-0005", "--pay", "cash:10"],
    ] {
        let err = t.fails(&args)?;
        assert!(err.contains("is collected"), "{args:?}: {err}");
    }
    assert_eq!((t.json(&["orders", "--all"])?, t.json(&["stock"])?), done);
    assert_ne!(done, before);

    // --json errors have the usual shape.
    let r = t.run(&["--json", "order", "ready", "ord-bad-0005"])?;
    assert!(!r.ok && r.stdout.is_empty());
    let v: serde_json::Value = serde_json::from_str(r.stderr.trim())?;
    assert_eq!(v["error"]["code"], "conflict");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("is collected"))
    );
    Ok(())
}

#[test]
fn publish_settings_are_set_and_checked() -> R {
    let dir = tempfile::tempdir()?;
    let t = shop(dir.path())?;
    t.json(&["setting", "set", "publish", "true"])?;
    t.json(&["setting", "set", "publish_detail", "count"])?;
    let list = t.json(&["setting", "list"])?;
    assert_eq!(list["publish"], "true");
    assert_eq!(list["publish_detail"], "count");
    let err = t.fails(&["setting", "set", "publish", "maybe"])?;
    assert!(err.contains("true, false"), "{err}");
    let err = t.fails(&["setting", "set", "publish_detail", "exact"])?;
    assert!(err.contains("band, count"), "{err}");
    let help = t.human(&["setting", "set", "--help"])?;
    assert!(
        help.contains("publish") && help.contains("publish_detail"),
        "{help}"
    );
    Ok(())
}
