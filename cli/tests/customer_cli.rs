//! `shopsync customer …` offline: lists, items, orders and their errors,
//! through the real binary, in human form and with `--json`.

mod common;

use common::{R, Till};

const SHOP: &str = "0190a0c0-0000-7000-8000-00000000a001";

#[test]
fn lists_and_items_offline_with_json() -> R {
    let dir = tempfile::tempdir()?;
    let c = Till::new(dir.path(), "customer");
    let l = c.json(&["customer", "list", "new", "Groceries"])?;
    let id = l["id"].as_str().ok_or("list id")?.to_string();
    assert_eq!(l["name"], "Groceries");
    c.json(&["customer", "list", "add", "groc", "milk", "--qty", "2"])?;
    c.json(&["customer", "list", "add", &id, "bread"])?;
    let l = c.json(&["customer", "list", "tick", "Groceries", "mi"])?;
    assert_eq!(l["items"][0]["checked"], true);
    let l = c.json(&["customer", "list", "move", "Groceries", "bread", "1"])?;
    assert_eq!(l["items"][0]["what"]["text"], "bread");
    assert_eq!(l["items"][1]["qty"], 2);
    let l = c.json(&["customer", "list", "qty", "Groceries", "bread", "5"])?;
    assert_eq!(l["items"][0]["qty"], 5);
    c.json(&["customer", "list", "rename", "Groceries", "Weekly"])?;

    let human = c.human(&["customer", "list", "show", "weekly"])?;
    assert!(human.contains("1. [ ] 5 × bread"), "{human}");
    assert!(human.contains("2. [x] 2 × milk"), "{human}");
    let ls = c.json(&["customer", "list", "ls"])?;
    assert_eq!(ls.as_array().map(Vec::len), Some(1));

    let l = c.json(&["customer", "list", "remove", "Weekly", "milk"])?;
    assert_eq!(l["items"].as_array().map(Vec::len), Some(1));
    c.json(&["customer", "list", "delete", "Weekly"])?;
    assert_eq!(
        c.human(&["customer", "list", "ls"])?.trim(),
        "no lists: `shopsync customer list new NAME`"
    );
    Ok(())
}

#[test]
fn bad_input_fails_with_the_tills_error_shape_and_changes_nothing() -> R {
    let dir = tempfile::tempdir()?;
    let c = Till::new(dir.path(), "customer");
    c.json(&["customer", "list", "new", "Groceries"])?;
    c.json(&["customer", "list", "new", "Grocery run"])?;
    c.json(&["customer", "list", "add", "Groceries", "milk"])?;
    let before = c.json(&["customer", "list", "ls"])?;

    let err = c.fails(&[
        "--json",
        "customer",
        "list",
        "add",
        "Groceries",
        "x",
        "--qty",
        "0",
    ])?;
    let v: serde_json::Value = serde_json::from_str(&err)?;
    assert_eq!(v["error"]["code"], "invalid_input");
    assert_eq!(v["error"]["field"], "qty");

    let err = c.fails(&["--json", "customer", "list", "add", "groc", "x"])?;
    let v: serde_json::Value = serde_json::from_str(&err)?;
    assert_eq!(v["error"]["field"], "list");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("matches 2"))
    );

    let err = c.fails(&["--json", "customer", "list", "tick", "Groceries", "eggs"])?;
    let v: serde_json::Value = serde_json::from_str(&err)?;
    assert_eq!(v["error"]["code"], "not_found");

    let err = c.fails(&["customer", "list", "move", "Groceries", "milk", "0"])?;
    assert!(err.starts_with("error: "), "{err}");
    let err = c.fails(&["customer", "sync"])?;
    assert!(err.contains("no customer account"), "{err}");
    let err = c.fails(&["customer", "favourite", "add", "Nowhere"])?;
    assert!(err.contains("shops --search"), "{err}");

    assert_eq!(c.json(&["customer", "list", "ls"])?, before);
    Ok(())
}

#[test]
fn orders_offline_send_cancel_and_refusals() -> R {
    let dir = tempfile::tempdir()?;
    let c = Till::new(dir.path(), "customer");
    c.json(&["customer", "list", "new", "Groceries"])?;
    c.json(&["customer", "list", "add", "Groceries", "milk", "--qty", "2"])?;
    let product = format!("{SHOP}:SOAP");
    c.json(&[
        "customer",
        "list",
        "add",
        "Groceries",
        "--product",
        &product,
    ])?;

    let never = c.json(&["customer", "catalog", SHOP])?;
    assert_eq!(never["synced"], false);
    let human = c.human(&["customer", "catalog", SHOP])?;
    assert!(human.contains("never synced"), "{human}");

    let sent = c.json(&[
        "customer",
        "order",
        "send",
        "Groceries",
        "--shop",
        SHOP,
        "--note",
        "after 5pm",
    ])?;
    assert_eq!(sent["order"]["status"], "sent");
    assert_eq!(sent["left_out"], 0);
    assert_eq!(sent["order"]["lines"].as_array().map(Vec::len), Some(2));
    let id = sent["order"]["id"].as_str().ok_or("order id")?.to_string();

    let orders = c.json(&["customer", "orders"])?;
    assert_eq!(orders[0]["id"], id.as_str());
    let human = c.human(&["customer", "orders"])?;
    assert!(
        human.contains("sent") && human.contains("'Groceries'"),
        "{human}"
    );

    let cancelled = c.json(&[
        "customer",
        "order",
        "cancel",
        &id[..30],
        "--reason",
        "later",
    ])?;
    assert_eq!(cancelled["status"], "cancelled");
    let err = c.fails(&["--json", "customer", "order", "cancel", &id])?;
    let v: serde_json::Value = serde_json::from_str(&err)?;
    assert_eq!(v["error"]["code"], "conflict");

    // A till's file is never opened as a customer's.
    let till = Till::new(dir.path(), "till");
    till.init("Corner Shop", "T1")?;
    let err = till.fails(&["customer", "list", "ls"])?;
    assert!(err.contains("till's store"), "{err}");
    // Nor a customer's file as a till's: a plain error, the lists intact.
    let before = c.json(&["customer", "list", "ls"])?;
    let err = c.fails(&["stock"])?;
    assert!(err.contains("customer's file"), "{err}");
    assert_eq!(c.json(&["customer", "list", "ls"])?, before);
    Ok(())
}
