//! The CLI contract, driven through the real `shopsync` binary on real files.

mod common;

use std::path::Path;
use std::process::Command;

use common::{BIN, E, R, Till, path};
use serde_json::Value;

/// Till T1 of "Corner Shop": a tax class, a supplier, MILK (taxed, with a
/// barcode) and BREAD, both received from the supplier.
fn setup(dir: &Path) -> Result<Till, E> {
    let t = Till::new(dir, "t1");
    let init = t.init("Corner Shop", "T1")?;
    assert!(init["store_id"].as_str().is_some_and(|s| s.len() == 36));
    t.json(&["tax-class", "set", "std", "--rate", "20", "--exclusive"])?;
    let sup = t.json(&[
        "supplier",
        "add",
        "--name",
        "Northside Dairy",
        "--phone",
        "0123",
    ])?;
    let sup_id = sup["id"].as_str().ok_or("supplier id")?.to_string();
    t.json(&[
        "product",
        "add",
        "--sku",
        "MILK",
        "--name",
        "Whole milk 1L",
        "--price",
        "1.99",
        "--barcode",
        "4000000000017",
        "--tax-class",
        "std",
        "--cost",
        "0.80",
        "--reorder-point",
        "5",
        "--supplier",
        &sup_id,
    ])?;
    t.add_product("BREAD", "Sourdough loaf", "3.50")?;
    t.json(&["receive", "--supplier", &sup_id, "MILKx10", "BREADx4@1.20"])?;
    Ok(t)
}

#[test]
fn sells_refunds_and_reports_with_the_documented_json() -> R {
    let dir = tempfile::tempdir()?;
    let t = setup(dir.path())?;

    let list = t.json(&["product", "list"])?;
    let first = &list.as_array().ok_or("product list")?[0];
    assert!(first["sku"].is_string() && first["name"].is_string());
    assert!(first["price"].is_string(), "prices are decimal strings");

    // Barcode in place of a SKU, a line discount, split tender.
    let sale = t.json(&[
        "sell",
        "4000000000017x3",
        "BREAD",
        "--discount",
        "BREAD:10",
        "--pay",
        "card:5",
        "--pay",
        "cash:10",
    ])?;
    // 3 × 1.99 = 5.97 + 20 % = 7.16; bread 3.50 − 0.35 = 3.15 untaxed; total 10.31; change 4.69.
    assert_eq!(sale["total"], "10.31");
    assert_eq!(sale["change"], "4.69");
    let sale_id = sale["sale_id"].as_str().ok_or("sale_id")?.to_string();
    assert_eq!(t.on_hand("MILK")?, 7);

    let detail = t.json(&["sale", &sale_id])?;
    assert_eq!(detail["lines"].as_array().map(Vec::len), Some(2));
    assert_eq!(detail["tenders"][0]["kind"], "card");

    let refund = t.json(&["refund", &sale_id, "MILKx2"])?;
    assert_eq!(refund["amount"], "4.77");
    assert_eq!(refund["tender"], "cash");
    assert_eq!(t.on_hand("MILK")?, 9);
    let err = t.fails(&["refund", &sale_id, "MILKx2"])?;
    assert!(err.contains("1 left to refund"), "{err}");

    let z = t.json(&["report", "z"])?;
    assert_eq!(z["sales_count"], 1);
    assert_eq!(z["refunds_total"], "4.77");
    assert_eq!(z["net_sales"], "5.54");

    let sales = t.json(&["sales"])?;
    assert_eq!(sales.as_array().map(Vec::len), Some(1));
    let stock = t.json(&["stock"])?;
    assert!(
        stock
            .as_array()
            .is_some_and(|a| a.iter().all(|s| s["on_hand"].is_i64()))
    );

    let verify = t.json(&["rebuild", "--verify"])?;
    assert_eq!(verify["differences"].as_array().map(Vec::len), Some(0));
    Ok(())
}

#[test]
fn counts_and_adjusts_stock() -> R {
    let dir = tempfile::tempdir()?;
    let t = setup(dir.path())?;
    t.json(&["adjust", "MILK", "-2", "--reason", "damaged"])?;
    assert_eq!(t.on_hand("MILK")?, 8);
    let count = t.json(&["count", "start", "MILK", "BREAD"])?;
    let id = count["count_id"].as_str().ok_or("count_id")?.to_string();
    t.json(&["count", "record", &id, "MILK", "6"])?;
    let posted = t.json(&["count", "post", &id])?;
    let milk = posted["lines"]
        .as_array()
        .and_then(|l| l.iter().find(|x| x["sku"] == "MILK"))
        .ok_or("milk line")?;
    assert_eq!(milk["difference"], -2);
    // BREAD was in the count but not counted: its stock is untouched.
    assert_eq!(t.on_hand("MILK")?, 6);
    assert_eq!(t.on_hand("BREAD")?, 4);
    let low = t.json(&["stock", "--low"])?;
    assert_eq!(
        low.as_array()
            .map(|a| a.iter().filter(|s| s["sku"] == "MILK").count()),
        Some(0)
    );
    t.json(&["adjust", "MILK", "-2", "--reason", "lost"])?;
    let low = t.json(&["stock", "--low"])?;
    assert_eq!(low[0]["sku"], "MILK");
    assert_eq!(low[0]["status"], "low");
    Ok(())
}

#[test]
fn bad_input_is_a_one_line_error_and_changes_nothing() -> R {
    let dir = tempfile::tempdir()?;
    let t = setup(dir.path())?;
    let before = t.json(&["stock"])?;
    assert!(
        t.fails(&["sell", "NOPE", "--pay", "cash:5"])?
            .contains("not found")
    );
    assert!(
        t.fails(&["sell", "MILKx0", "--pay", "cash:5"])?
            .contains("above zero")
    );
    assert!(
        t.fails(&["sell", "MILKx-1", "--pay", "cash:5"])?
            .contains("above zero")
    );
    assert!(
        t.fails(&["sell", "MILK", "--pay", "cash:1"])?
            .contains("short by 1.39")
    );
    assert!(
        t.fails(&["sell", "MILK", "--pay", "cash:1.999"])?
            .contains("decimal places")
    );
    assert!(
        t.fails(&["adjust", "MILK", "0", "--reason", "lost"])?
            .contains("zero")
    );
    assert!(
        t.fails(&["adjust", "MILK", "1", "--reason", "stolen"])?
            .contains("unknown reason")
    );
    assert!(
        t.fails(&[
            "product", "add", "--sku", "MILK", "--name", "Again", "--price", "1"
        ])?
        .contains("already used")
    );
    let json_err = t.run(&["--json", "sale", "nope"])?;
    let v: Value = serde_json::from_str(json_err.stderr.trim())?;
    assert_eq!(v["error"]["code"], "not_found");
    assert_eq!(t.json(&["stock"])?, before);
    assert_eq!(t.json(&["sales"])?.as_array().map(Vec::len), Some(0));
    let missing = Till::new(dir.path(), "missing");
    assert!(missing.fails(&["stock"])?.contains("shopsync init"));
    Ok(())
}

#[test]
fn csv_import_rejects_a_bad_file_whole_and_round_trips() -> R {
    let dir = tempfile::tempdir()?;
    let t = setup(dir.path())?;
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "sku,name,price,barcode,tax_class,cost,reorder_point,supplier\nTEA,Green tea,2.40,,std,,,\nJAM,Jam,two euros,,,,,\n",
    )?;
    let err = t.fails(&["product", "import", path(&bad)?])?;
    assert!(err.contains("row 3") && err.contains("price"), "{err}");
    assert!(
        t.fails(&["product", "show", "TEA"])?.contains("not found"),
        "nothing imported"
    );

    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "sku,name,price,barcode,tax_class,cost,reorder_point,supplier\nTEA,Green tea,2.40,5000000000011;5000000000028,std,1.10,3,Northside Dairy\nMILK,Whole milk 1L,2.09,4000000000017,std,0.80,5,Northside Dairy\n",
    )?;
    let s = t.json(&["product", "import", path(&good)?])?;
    assert_eq!(
        (s["added"].as_u64(), s["updated"].as_u64()),
        (Some(1), Some(1))
    );
    let tea = t.json(&["product", "show", "TEA"])?;
    assert_eq!(tea["barcodes"].as_array().map(Vec::len), Some(2));
    let out = dir.path().join("out.csv");
    t.json(&["product", "export", path(&out)?])?;
    let again = t.json(&["product", "import", path(&out)?])?;
    assert_eq!(
        (
            again["added"].as_u64(),
            again["updated"].as_u64(),
            again["unchanged"].as_u64()
        ),
        (Some(0), Some(0), Some(3))
    );
    Ok(())
}

#[test]
fn bundles_make_a_second_till_and_merge_both_ways() -> R {
    let dir = tempfile::tempdir()?;
    let t1 = setup(dir.path())?;
    let t2 = Till::new(dir.path(), "t2");
    let info = t2.join(&t1, "T2")?;
    let b1 = t1.bundle();
    assert_eq!(info["till_name"], "T2");
    assert_eq!(t2.on_hand("MILK")?, 10);

    t1.json(&["sell", "MILKx4", "--pay", "cash:20"])?;
    t2.json(&["sell", "MILKx3", "--pay", "card:7.16"])?;
    let b2 = dir.path().join("t2.bundle");
    t2.json(&["bundle", "export", path(&b2)?])?;
    t1.json(&["bundle", "export", path(&b1)?])?;
    t1.json(&["bundle", "import", path(&b2)?])?;
    let first = t2.json(&["bundle", "import", path(&b1)?])?;
    assert!(first["new_changes"].as_u64().is_some_and(|n| n > 0));
    let twice = t2.json(&["bundle", "import", path(&b1)?])?;
    assert_eq!(twice["new_changes"], 0);
    assert_eq!(t1.on_hand("MILK")?, 3);
    assert_eq!(t2.on_hand("MILK")?, 3);
    assert_eq!(t1.json(&["sales"])?.as_array().map(Vec::len), Some(2));

    let corrupt = dir.path().join("corrupt.bundle");
    let mut bytes = std::fs::read(&b2)?;
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&corrupt, bytes)?;
    assert!(
        t1.fails(&["bundle", "import", path(&corrupt)?])?
            .contains("damaged")
    );
    Ok(())
}

#[test]
fn demo_fills_a_store() -> R {
    let dir = tempfile::tempdir()?;
    let t = Till::new(dir.path(), "demo");
    let d = t.json(&[
        "demo",
        "--products",
        "50",
        // Over a week, so other tills' partitions are flushed more than once.
        "--days",
        "9",
        "--tills",
        "2",
        "--sales-per-day",
        "6",
    ])?;
    assert!(d["store_id"].is_string());
    assert_eq!(d["products"], 50);
    assert!(d["sales"].as_u64().is_some_and(|n| n > 0));
    assert!(
        t.json(&["sales", "--limit", "1000"])?
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    let t2 = Till::new(dir.path(), "demo2");
    t2.join(&t, "T9")?;
    assert_eq!(
        t2.json(&["sales", "--limit", "10000"])?,
        t.json(&["sales", "--limit", "10000"])?
    );
    assert_eq!(
        t.json(&["rebuild", "--verify"])?["differences"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    Ok(())
}

/// Without `--db` the CLI opens the app's store: `shopsync.db` in the data
/// folder, or the app's older `till.db` there when it is the only one.
#[test]
fn without_db_the_cli_opens_the_apps_store() -> R {
    let home = tempfile::tempdir()?;
    let data = home.path().join("data");
    let folder = data.join("shopsync");
    std::fs::create_dir_all(&folder)?;
    let app_store = Till::new(&folder, "till");
    app_store.json(&["init", "--store-name", "App Shop", "--till", "Counter"])?;
    let out = Command::new(BIN)
        .args(["--json", "info"])
        .env_remove("SHOPSYNC_DB")
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", &data)
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(info["store_name"], "App Shop", "{info}");
    Ok(())
}

#[test]
fn report_days_follow_the_store_time_zone_not_the_machine() -> R {
    use shopsync_types::zone::StoreZone;
    let dir = tempfile::tempdir()?;
    let t = Till::new(dir.path(), "tz");
    t.init("Zone Shop", "A")?;
    t.add_product("P", "Product", "1.00")?;
    t.json(&["receive", "Px5"])?;
    let err = t.fails(&["setting", "set", "time_zone", "Atlantis/Capital"])?;
    assert!(err.contains("not a time zone"), "{err}");
    // The store is on Pago Pago (UTC-11), the machine on Kiritimati
    // (UTC+14): 25 hours apart, so their dates always differ.
    t.json(&["setting", "set", "time_zone", "Pacific/Pago_Pago"])?;
    let store = StoreZone::parse("Pacific/Pago_Pago")?;
    let machine = [("TZ", "Pacific/Kiritimati")];
    t.run_env(&["sell", "Px1", "--pay", "cash:1.00"], &machine)?;
    // Tried again if the store's midnight passed between sale and report.
    for _ in 0..2 {
        let before = store.today();
        let run = t.run_env(&["--json", "report", "z"], &machine)?;
        assert!(run.ok, "{}", run.stderr);
        let day = before.format("%Y-%m-%d").to_string();
        let sales = t.run_env(&["--json", "sales", "--from", &day, "--to", &day], &machine)?;
        if store.today() != before {
            continue;
        }
        let z: Value = serde_json::from_str(&run.stdout)?;
        assert_eq!(z["date"], day);
        assert_eq!(z["sales_count"], 1);
        let sales: Value = serde_json::from_str(&sales.stdout)?;
        assert_eq!(sales.as_array().map(Vec::len), Some(1), "{}", sales);
        return Ok(());
    }
    Err("the store's midnight passed twice during the test".into())
}

#[test]
fn categories_from_the_cli_and_the_csv_file() -> R {
    let dir = tempfile::tempdir()?;
    let t = Till::new(dir.path(), "cat");
    t.init("Category Shop", "A")?;
    let dairy = t.json(&["category", "add", "Dairy"])?;
    let dairy_id = dairy["id"].as_str().ok_or("category id")?.to_string();
    let err = t.fails(&["category", "add", "dairy"])?;
    assert!(err.contains("exists already"), "{err}");
    t.json(&[
        "product",
        "add",
        "--sku",
        "MILK",
        "--name",
        "Milk",
        "--price",
        "1.00",
        "--category",
        "dairy",
    ])?;
    let err = t.fails(&[
        "product",
        "add",
        "--sku",
        "FISH",
        "--name",
        "Fish",
        "--price",
        "5.00",
        "--category",
        "Seafood",
    ])?;
    assert!(err.contains("category 'Seafood' not found"), "{err}");
    let csv = dir.path().join("products.csv");
    std::fs::write(
        &csv,
        "sku,name,price,category\nTEA,Tea,2.00,Drinks\nCHEESE,Cheese,4.00,Dairy\n",
    )?;
    t.json(&["product", "import", path(&csv)?])?;
    let list = t.json(&["category", "list"])?;
    let rows: Vec<(String, i64)> = list
        .as_array()
        .ok_or("list")?
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default().to_string(),
                c["products"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![("Dairy".to_string(), 2), ("Drinks".to_string(), 1)]
    );
    let in_dairy = t.json(&["product", "list", "--category", &dairy_id])?;
    let skus: Vec<&str> = in_dairy
        .as_array()
        .ok_or("products")?
        .iter()
        .filter_map(|p| p["sku"].as_str())
        .collect();
    assert_eq!(skus, vec!["CHEESE", "MILK"]);
    t.json(&["category", "rename", "Dairy", "Milk & cheese"])?;
    let archived = t.json(&["category", "archive", "Milk & cheese"])?;
    assert_eq!(archived["archived"], true);
    assert_eq!(
        t.json(&["category", "list"])?.as_array().map(Vec::len),
        Some(1)
    );
    assert!(
        t.human(&["category", "list", "--all"])?
            .contains("(archived)")
    );
    let err = t.fails(&["product", "edit", "TEA", "--category", &dairy_id])?;
    assert!(err.contains("archived"), "{err}");
    Ok(())
}
