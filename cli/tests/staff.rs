//! `shopsync staff …` and staff PINs on the other commands, through the
//! real binary.

mod common;

use common::{R, Till};

/// Till T1 with MILK (2.00) and BREAD (3.50) in stock and Ann (manager,
/// PIN 1111) and Cal (cashier, PIN 3333). Returns Cal's id.
fn shop(t: &Till) -> Result<String, common::E> {
    t.init("Corner Shop", "T1")?;
    t.add_product("MILK", "Milk", "2.00")?;
    t.add_product("BREAD", "Bread", "3.50")?;
    t.json(&["receive", "MILKx20", "BREADx20"])?;
    // The first staff member is a manager and needs no approval.
    t.json(&[
        "staff", "add", "--name", "Ann", "--role", "manager", "--pin", "1111",
    ])?;
    let cal = t.json(&[
        "staff",
        "add",
        "--name",
        "Cal",
        "--role",
        "cashier",
        "--pin",
        "3333",
        "--approve-pin",
        "1111",
    ])?;
    Ok(cal["id"].as_str().ok_or("staff id")?.to_string())
}

#[test]
fn staff_are_added_listed_and_changed_by_a_manager() -> R {
    let dir = tempfile::tempdir()?;
    let t = Till::new(dir.path(), "t1");
    let cal = shop(&t)?;
    // Without the manager's PIN, or with a cashier's, nothing changes.
    let e = t.fails(&[
        "staff", "add", "--name", "Dan", "--role", "cashier", "--pin", "5555",
    ])?;
    assert!(e.contains("--approve-pin"), "{e}");
    let e = t.fails(&[
        "staff",
        "add",
        "--name",
        "Dan",
        "--role",
        "cashier",
        "--pin",
        "5555",
        "--approve-pin",
        "3333",
    ])?;
    assert!(e.contains("cashier may not"), "{e}");
    let e = t.fails(&[
        "staff",
        "add",
        "--name",
        "Dan",
        "--role",
        "cashier",
        "--pin",
        "3333",
        "--approve-pin",
        "1111",
    ])?;
    assert!(e.contains("another staff member has this PIN"), "{e}");
    let e = t.fails(&[
        "staff", "add", "--name", "Dan", "--role", "boss", "--pin", "5555",
    ])?;
    assert!(e.contains("unknown role"), "{e}");
    let list = t.json(&["staff", "list"])?;
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    let text = t.human(&["staff", "list"])?;
    assert!(text.contains("Cal") && text.contains("cashier"), "{text}");
    assert!(!text.contains("argon2") && !list.to_string().contains("argon2"));

    let m = t.json(&[
        "staff",
        "set-role",
        "Cal",
        "--role",
        "supervisor",
        "--approve-pin",
        "1111",
    ])?;
    assert_eq!(m["role"], "supervisor");
    t.json(&[
        "staff",
        "set-pin",
        &cal,
        "--pin",
        "4444",
        "--approve-pin",
        "1111",
    ])?;
    t.json(&["sell", "MILK", "--pay", "cash:2.00", "--pin", "4444"])?;
    let e = t.fails(&["sell", "MILK", "--pay", "cash:2.00", "--pin", "3333"])?;
    assert!(e.contains("wrong PIN"), "{e}");
    let e = t.fails(&["staff", "deactivate", "Ann", "--approve-pin", "1111"])?;
    assert!(e.contains("no active manager"), "{e}");
    let m = t.json(&["staff", "deactivate", "Cal", "--approve-pin", "1111"])?;
    assert_eq!(m["active"], false);
    Ok(())
}

#[test]
fn operations_need_a_pin_once_staff_exist_and_name_who_made_them() -> R {
    let dir = tempfile::tempdir()?;
    let t = Till::new(dir.path(), "t1");
    let cal = shop(&t)?;
    let e = t.fails(&["sell", "MILK", "--pay", "cash:2.00"])?;
    assert!(e.contains("--pin or SHOPSYNC_PIN"), "{e}");
    // The PIN from the environment, out of shell history.
    let r = t.run_env(
        &["--json", "sell", "MILK", "--pay", "cash:2.00"],
        &[("SHOPSYNC_PIN", "3333")],
    )?;
    assert!(r.ok, "{}", r.stderr);
    let sale: serde_json::Value = serde_json::from_str(&r.stdout)?;
    let sale_id = sale["sale_id"].as_str().ok_or("sale id")?;
    // A cashier's price override needs a supervisor's or manager's PIN.
    let e = t.fails(&["sell", "BREAD@1.00", "--pay", "cash:1.00", "--pin", "3333"])?;
    assert!(e.contains("price override"), "{e}");
    t.json(&[
        "sell",
        "BREAD@1.00",
        "--pay",
        "cash:1.00",
        "--pin",
        "3333",
        "--approve-pin",
        "1111",
    ])?;
    // A refund above the cashier limit (0 when unset) needs approval too.
    let e = t.fails(&["refund", sale_id, "--pin", "3333"])?;
    assert!(e.contains("refund"), "{e}");
    let r = t.json(&["refund", sale_id, "--pin", "3333", "--approve-pin", "1111"])?;
    assert!(r["refund_id"].is_string());
    // Listings by staff member, by name or id.
    let sales = t.json(&["sales", "--staff", "Cal"])?;
    assert_eq!(sales.as_array().map(Vec::len), Some(2));
    let sales = t.json(&["sales", "--staff", "Ann"])?;
    assert_eq!(sales.as_array().map(Vec::len), Some(0));
    let refunds = t.json(&["refunds", "--staff", &cal])?;
    assert_eq!(refunds[0]["staff_id"], cal.as_str());
    assert!(refunds[0]["approver_id"].is_string());
    assert!(t.human(&["refunds"])?.contains("approved by"));
    assert_eq!(refunds[0]["sale_number"], sale["number"]);
    // The day's Z report of one member: Cal's two sales and one refund; Ann's none.
    let z = t.json(&["report", "z", "--staff", "Cal"])?;
    assert_eq!(
        (z["sales_count"].as_i64(), z["refunds_count"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(z["staff_id"], cal.as_str());
    assert!(t.json(&["report", "z"])?["staff_id"].is_null());
    let z = t.json(&["report", "z", "--staff", "Ann"])?;
    assert_eq!(
        (z["sales_count"].as_i64(), z["refunds_count"].as_i64()),
        (Some(0), Some(0))
    );
    assert!(
        t.human(&["report", "z", "--staff", "Cal"])?
            .contains("only Cal's")
    );
    let e = t.fails(&["report", "z", "--staff", "Nobody"])?;
    assert!(e.contains("Nobody"), "{e}");
    // Catalog edits and settings are a manager's.
    let e = t.fails(&[
        "setting",
        "set",
        "cashier_refund_limit",
        "10.00",
        "--pin",
        "1111",
    ])?;
    assert!(e.contains("whole number"), "{e}");
    let e = t.fails(&[
        "setting",
        "set",
        "cashier_refund_limit",
        "1000",
        "--pin",
        "3333",
    ])?;
    assert!(e.contains("catalog edit"), "{e}");
    t.json(&[
        "setting",
        "set",
        "cashier_refund_limit",
        "1000",
        "--pin",
        "1111",
    ])?;
    let again = t.json(&["sell", "MILK", "--pay", "cash:2.00", "--pin", "3333"])?;
    let again_id = again["sale_id"].as_str().ok_or("sale id")?;
    t.json(&["refund", again_id, "--pin", "3333"])?;
    // Adjustments are a supervisor's; receiving is a cashier's.
    let e = t.fails(&["adjust", "MILK", "-1", "--reason", "lost", "--pin", "3333"])?;
    assert!(e.contains("stock adjustment"), "{e}");
    t.json(&["receive", "MILKx1", "--pin", "3333"])?;
    assert!(t.human(&["rebuild", "--verify"])?.starts_with("ok"));
    Ok(())
}

#[test]
fn five_wrong_pins_pause_pin_checks() -> R {
    let dir = tempfile::tempdir()?;
    let t = Till::new(dir.path(), "t1");
    shop(&t)?;
    for _ in 0..5 {
        let e = t.fails(&["sell", "MILK", "--pay", "cash:2.00", "--pin", "9999"])?;
        assert!(e.contains("wrong PIN"), "{e}");
    }
    let e = t.fails(&["sell", "MILK", "--pay", "cash:2.00", "--pin", "3333"])?;
    assert!(e.contains("too many wrong PINs"), "{e}");
    Ok(())
}

#[test]
fn a_store_without_staff_asks_no_pin() -> R {
    let dir = tempfile::tempdir()?;
    let t = Till::new(dir.path(), "t1");
    t.init("Corner Shop", "T1")?;
    t.add_product("MILK", "Milk", "2.00")?;
    t.json(&["receive", "MILKx2"])?;
    t.json(&["sell", "MILK@1.50", "--pay", "cash:2.00"])?;
    let text = t.human(&["staff", "list"])?;
    assert!(text.contains("no staff"), "{text}");
    Ok(())
}
