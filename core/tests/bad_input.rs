//! Bad input is refused with a clear, typed error, and the store is left
//! exactly as it was: every table of the SQLite file is dumped before and
//! after each refused call and compared.

mod common;

use std::path::Path;

use common::{R, Till, card, cash, product, standard_tax};
use rusqlite::Connection;
use rusqlite::types::Value;
use shopsync_core::bundle::Bundle;
use shopsync_core::types::ErrorCode;
use shopsync_core::{
    AdjustReason, CartLine, CoreError, CountScope, NewProduct, NewSupplier, NewTaxClass,
    ProductEdit, ReceiveLine, RefundRequest, Store,
};

/// Every table (but SQLite's own and the full-text index's shadow tables),
/// every row, sorted.
fn dump(conn: &Connection) -> Result<Vec<(String, Vec<String>)>, rusqlite::Error> {
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table'
               AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%fts%' ORDER BY name",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for t in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\""))?;
        let n = stmt.column_count();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                let row: Vec<Value> = (0..n).map(|i| r.get(i)).collect::<Result<_, _>>()?;
                Ok(format!("{row:?}"))
            })?
            .collect::<Result<_, _>>()?;
        rows.sort();
        out.push((t, rows));
    }
    Ok(out)
}

/// Runs `op`, which must fail with `code` and a message containing each of
/// `words` (case-insensitive), and checks that no table changed.
fn refused<T: std::fmt::Debug>(
    s: &mut Store,
    what: &str,
    code: ErrorCode,
    words: &[&str],
    op: impl FnOnce(&mut Store) -> Result<T, CoreError>,
) -> Result<CoreError, Box<dyn std::error::Error>> {
    let before = dump(s.connection())?;
    let err = match op(s) {
        Ok(v) => return Err(format!("{what}: accepted, returned {v:?}").into()),
        Err(e) => e,
    };
    let message = err.to_string();
    assert_eq!(err.code(), code, "{what}: wrong error kind: {message}");
    assert!(!message.trim().is_empty(), "{what}: empty message");
    for w in words {
        assert!(
            message.to_lowercase().contains(&w.to_lowercase()),
            "{what}: message {message:?} does not mention {w:?}"
        );
    }
    let after = dump(s.connection())?;
    assert_eq!(before.len(), after.len(), "{what}: tables changed");
    for ((t, a), (_, b)) in before.iter().zip(after.iter()) {
        assert_eq!(a, b, "{what}: table {t} changed");
    }
    Ok(err)
}

/// A store with a supplier, a taxed and an untaxed product, stock, a sale
/// (with a partial refund) and an open count, so that every table has rows.
struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    sale_id: String,
    count_id: String,
    supplier_id: String,
}

fn fixture() -> Result<Fixture, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let mut s = Till {
        file: "till.db",
        store: "Strict Shop",
        name: "T1",
        ..Till::default()
    }
    .open(dir.path())?;
    standard_tax(&mut s)?;
    let sup = s.add_supplier(NewSupplier {
        name: "Acme".into(),
        ..NewSupplier::default()
    })?;
    s.add_product(NewProduct {
        sku: "SOAP".into(),
        name: "Soap".into(),
        price: 250,
        barcodes: vec!["5000001".into()],
        tax_class: Some("std".into()),
        supplier: Some(sup.id.clone()),
        ..NewProduct::default()
    })?;
    s.add_product(product("SPONGE", "Sponge", 100))?;
    s.receive(
        Some(&sup.id),
        &[
            ReceiveLine {
                code: "SOAP".into(),
                qty: 10,
                unit_cost: Some(100),
            },
            ReceiveLine {
                code: "SPONGE".into(),
                qty: 5,
                unit_cost: None,
            },
        ],
    )?;
    let sale = s.sell(
        &[CartLine::new("SOAP", 2), CartLine::new("SPONGE", 1)],
        &[cash(1000)],
    )?;
    s.refund(
        &sale.sale_id,
        RefundRequest {
            lines: vec![("SOAP".into(), 1)],
            tender: None,
            restock: true,
        },
    )?;
    let count_id = s.count_start(CountScope::Products(vec!["SPONGE".into()]))?;
    s.count_record(&count_id, "SPONGE", 4)?;
    Ok(Fixture {
        _dir: dir,
        store: s,
        sale_id: sale.sale_id,
        count_id,
        supplier_id: sup.id,
    })
}

/// After refused calls the store still works, verifies, and a new till made
/// from its bundle sees exactly the same projections (no half-applied
/// change stayed behind in memory).
fn still_healthy(f: &mut Fixture) -> R {
    let s = &mut f.store;
    let r = s.sell(&[CartLine::new("SPONGE", 1)], &[cash(100)])?;
    assert_eq!(r.total.minor, 100);
    s.edit_product(
        "SOAP",
        ProductEdit {
            price: Some(260),
            ..ProductEdit::default()
        },
    )?;
    let report = s.verify(&mut |_| {})?;
    assert!(report.differences.is_empty(), "{:?}", report.differences);
    let bundle = f._dir.path().join("healthy.bundle");
    s.export_bundle_to(&bundle)?;
    let other = Store::init_from_bundle(&f._dir.path().join("other.db"), &bundle, "T2")?;
    let (diffs, _) =
        shopsync_core::projection::rebuild::compare(s.connection(), other.connection())?;
    assert!(diffs.is_empty(), "{diffs:?}");
    Ok(())
}

#[test]
fn bad_sales_are_refused_and_change_nothing() -> R {
    let mut f = fixture()?;
    let s = &mut f.store;
    refused(
        s,
        "unknown SKU",
        ErrorCode::NotFound,
        &["NOPE", "not found"],
        |s| {
            s.sell(
                &[CartLine::new("SOAP", 1), CartLine::new("NOPE", 1)],
                &[cash(1000)],
            )
        },
    )?;
    refused(
        s,
        "empty code",
        ErrorCode::InvalidInput,
        &["required"],
        |s| s.sell(&[CartLine::new("  ", 1)], &[cash(1000)]),
    )?;
    refused(
        s,
        "zero quantity",
        ErrorCode::InvalidInput,
        &["quantity"],
        |s| s.sell(&[CartLine::new("SOAP", 0)], &[cash(1000)]),
    )?;
    let e = refused(
        s,
        "negative quantity",
        ErrorCode::InvalidInput,
        &["-3"],
        |s| s.sell(&[CartLine::new("SOAP", -3)], &[cash(1000)]),
    )?;
    assert_eq!(e.info().field.as_deref(), Some("qty"));
    refused(
        s,
        "no lines",
        ErrorCode::InvalidInput,
        &["at least one line"],
        |s| s.sell(&[], &[cash(1000)]),
    )?;
    // SOAP: 2.50 + 20 % = 3.00.
    refused(
        s,
        "tender short",
        ErrorCode::Payment,
        &["short", "0.01"],
        |s| s.sell(&[CartLine::new("SOAP", 1)], &[card(100), cash(199)]),
    )?;
    refused(s, "no tender", ErrorCode::Payment, &["no payment"], |s| {
        s.sell(&[CartLine::new("SOAP", 1)], &[])
    })?;
    refused(s, "card overpaying", ErrorCode::Payment, &["exceed"], |s| {
        s.sell(&[CartLine::new("SOAP", 1)], &[card(301)])
    })?;
    refused(
        s,
        "zero tender",
        ErrorCode::InvalidInput,
        &["more than zero"],
        |s| s.sell(&[CartLine::new("SOAP", 1)], &[cash(300), card(0)]),
    )?;
    refused(
        s,
        "negative price",
        ErrorCode::InvalidInput,
        &["negative"],
        |s| {
            s.sell(
                &[CartLine {
                    unit_price: Some(-1),
                    ..CartLine::new("SOAP", 1)
                }],
                &[cash(1000)],
            )
        },
    )?;
    refused(
        s,
        "discount over 100 %",
        ErrorCode::InvalidInput,
        &["100 %"],
        |s| {
            s.sell(
                &[CartLine {
                    discount_bp: 10_001,
                    ..CartLine::new("SOAP", 1)
                }],
                &[cash(1000)],
            )
        },
    )?;
    still_healthy(&mut f)
}

#[test]
fn bad_refunds_are_refused_and_change_nothing() -> R {
    let mut f = fixture()?;
    let sale = f.sale_id.clone();
    let s = &mut f.store;
    // 2 soaps sold, 1 already refunded.
    refused(
        s,
        "refund more than sold",
        ErrorCode::Payment,
        &["1 left"],
        |s| {
            s.refund(
                &sale,
                RefundRequest {
                    lines: vec![("SOAP".into(), 2)],
                    tender: None,
                    restock: true,
                },
            )
        },
    )?;
    s.add_product(product("EXTRA", "Extra", 1))?;
    refused(
        s,
        "refund of a product not on the sale",
        ErrorCode::Payment,
        &["not on sale"],
        |s| {
            s.refund(
                &sale,
                RefundRequest {
                    lines: vec![("EXTRA".into(), 1)],
                    tender: None,
                    restock: true,
                },
            )
        },
    )?;
    refused(
        s,
        "refund of unknown sale",
        ErrorCode::NotFound,
        &["sale", "no-such-sale"],
        |s| s.refund("no-such-sale", RefundRequest::default()),
    )?;
    refused(
        s,
        "refund zero",
        ErrorCode::InvalidInput,
        &["quantity"],
        |s| {
            s.refund(
                &sale,
                RefundRequest {
                    lines: vec![("SOAP".into(), 0)],
                    tender: None,
                    restock: true,
                },
            )
        },
    )?;
    refused(
        s,
        "refund unknown SKU",
        ErrorCode::NotFound,
        &["GHOST"],
        |s| {
            s.refund(
                &sale,
                RefundRequest {
                    lines: vec![("GHOST".into(), 1)],
                    tender: None,
                    restock: true,
                },
            )
        },
    )?;
    // Refund the rest, then any further refund is refused.
    s.refund(
        &sale,
        RefundRequest {
            restock: true,
            ..RefundRequest::default()
        },
    )?;
    refused(
        s,
        "refund of a fully refunded sale",
        ErrorCode::Payment,
        &["nothing left"],
        |s| s.refund(&sale, RefundRequest::default()),
    )?;
    still_healthy(&mut f)
}

const CSV_HEADER: &str = "sku,name,price,barcode,tax_class,cost,reorder_point,supplier\n";

fn csv_refused(s: &mut Store, what: &str, text: &str, row: u64, field: &str) -> R {
    let err = refused(
        s,
        what,
        ErrorCode::InvalidInput,
        &[&format!("row {row}")],
        |s| s.import_products_reader(text.as_bytes(), &mut |_| {}),
    )?;
    let info = err.info();
    assert_eq!(info.row, Some(row), "{what}: {err}");
    assert_eq!(info.field.as_deref(), Some(field), "{what}: {err}");
    match &err {
        CoreError::CsvRow {
            row: r, field: f, ..
        } => {
            assert_eq!((*r, f.as_str()), (row, field), "{what}");
        }
        other => return Err(format!("{what}: not a CsvRow error: {other:?}").into()),
    }
    Ok(())
}

#[test]
fn malformed_csv_names_row_and_field_and_imports_nothing() -> R {
    let mut f = fixture()?;
    let s = &mut f.store;
    // Row 1 is the header: the first product is row 2.
    csv_refused(
        s,
        "bad price in row 3",
        &format!("{CSV_HEADER}NEW1,First,1.00,,,,,\nNEW2,Second,1.2x,,,,,\nNEW3,Third,3.00,,,,,\n"),
        3,
        "price",
    )?;
    csv_refused(
        s,
        "unknown tax class",
        &format!("{CSV_HEADER}NEW1,First,1.00,,,,,\nNEW2,Second,2.00,,luxury,,,\n"),
        3,
        "tax_class",
    )?;
    csv_refused(
        s,
        "duplicate SKU in the file",
        &format!("{CSV_HEADER}NEW1,First,1.00,,,,,\nNEW2,Second,2.00,,,,,\nnew1,Again,3.00,,,,,\n"),
        4,
        "sku",
    )?;
    csv_refused(
        s,
        "barcode of another product",
        &format!("{CSV_HEADER}NEW1,First,1.00,5000001,,,,\n"),
        2,
        "barcode",
    )?;
    csv_refused(
        s,
        "missing price column",
        "sku,name,barcode\nNEW1,First,123\n",
        1,
        "price",
    )?;
    csv_refused(
        s,
        "unknown column",
        "sku,name,price,colour\nNEW1,First,1.00,red\n",
        1,
        "colour",
    )?;
    csv_refused(
        s,
        "missing field in a row",
        &format!("{CSV_HEADER}NEW1,First,1.00,,,,,\nNEW2,Second\n"),
        3,
        "row",
    )?;
    csv_refused(
        s,
        "empty name",
        &format!("{CSV_HEADER}NEW1,,1.00,,,,,\n"),
        2,
        "name",
    )?;
    csv_refused(
        s,
        "negative price",
        &format!("{CSV_HEADER}NEW1,First,-1.00,,,,,\n"),
        2,
        "price",
    )?;
    csv_refused(
        s,
        "reorder point not a number",
        &format!("{CSV_HEADER}NEW1,First,1.00,,,,lots,\n"),
        2,
        "reorder_point",
    )?;
    csv_refused(
        s,
        "unknown supplier",
        &format!("{CSV_HEADER}NEW1,First,1.00,,,,,Nobody Ltd\n"),
        2,
        "supplier",
    )?;
    // An update of an existing product in a bad file is not applied either.
    csv_refused(
        s,
        "good update then a bad row",
        &format!("{CSV_HEADER}SOAP,Soap,9.99,5000001,std,,,\nNEW2,Second,abc,,,,,\n"),
        3,
        "price",
    )?;
    assert_eq!(s.product("SOAP")?.price.minor, 250);
    still_healthy(&mut f)
}

fn write(path: &Path, bytes: &[u8]) -> R {
    std::fs::write(path, bytes)?;
    Ok(())
}

#[test]
fn corrupt_and_foreign_bundles_are_refused_and_change_nothing() -> R {
    let mut f = fixture()?;
    let dir = f._dir.path().to_path_buf();
    // A second till makes changes this one has not seen, so a good bundle
    // would change things.
    let good = dir.join("good.bundle");
    f.store.export_bundle_to(&good)?;
    let mut t2 = Store::init_from_bundle(&dir.join("t2.db"), &good, "T2")?;
    t2.sell(&[CartLine::new("SOAP", 1)], &[cash(300)])?;
    t2.sell(&[CartLine::new("SPONGE", 1)], &[cash(100)])?;
    t2.add_product(product("T2NEW", "From T2", 5))?;
    let bytes = t2.export_bundle()?.encode()?;
    let s = &mut f.store;

    for (i, at) in [
        0usize,
        20,
        bytes.len() / 2,
        bytes.len() - 40,
        bytes.len() - 1,
    ]
    .into_iter()
    .enumerate()
    {
        let mut flipped = bytes.clone();
        flipped[at] ^= 0x40;
        let path = dir.join(format!("flipped{i}.bundle"));
        write(&path, &flipped)?;
        refused(
            s,
            &format!("byte {at} flipped"),
            ErrorCode::CorruptData,
            &[],
            |s| s.import_bundle_from(&path),
        )?;
    }
    for cut in [bytes.len() - 1, bytes.len() / 2, 10, 0] {
        let path = dir.join(format!("cut{cut}.bundle"));
        write(&path, &bytes[..cut])?;
        let e = refused(
            s,
            &format!("truncated to {cut}"),
            ErrorCode::CorruptData,
            &[],
            |s| s.import_bundle_from(&path),
        )?;
        let m = e.to_string();
        assert!(
            m.contains("truncated") || m.contains("not a ShopSync bundle"),
            "{m}"
        );
    }
    let mut wrong_magic = bytes.clone();
    wrong_magic[..8].copy_from_slice(b"NOTABUND");
    let path = dir.join("magic.bundle");
    write(&path, &wrong_magic)?;
    refused(
        s,
        "wrong magic",
        ErrorCode::CorruptData,
        &["not a ShopSync bundle"],
        |s| s.import_bundle_from(&path),
    )?;
    refused(
        s,
        "missing file",
        ErrorCode::Storage,
        &["cannot read"],
        |s| s.import_bundle_from(&dir.join("absent.bundle")),
    )?;

    // A bundle of another store.
    let other = Till {
        file: "foreign.db",
        store: "Other Shop",
        name: "X",
        stock: vec![(product("SOAP", "Their soap", 1), 0)],
        ..Till::default()
    }
    .open(&dir)?;
    let foreign = dir.join("foreign.bundle");
    other.export_bundle_to(&foreign)?;
    refused(
        s,
        "bundle of another store",
        ErrorCode::Conflict,
        &["store"],
        |s| s.import_bundle_from(&foreign),
    )?;

    // A well-formed bundle whose ledger changes lack the change they depend
    // on: the catalog part is valid and comes first, yet nothing of the
    // bundle may be applied.
    let mut partial = Bundle::decode(&bytes)?;
    partial.docs.sort_by_key(|(id, _)| id.kind() != "catalog");
    let mut cut_any = false;
    for (id, changes) in &mut partial.docs {
        if id.kind() == "ledger" && id.till() == Some(t2.info().till_id.as_str()) {
            changes.remove(0);
            cut_any = true;
        }
    }
    assert!(cut_any, "T2's ledger is in its bundle");
    refused(
        s,
        "bundle with missing dependencies",
        ErrorCode::CorruptData,
        &["depends on"],
        |s| s.import_bundle(partial),
    )?;

    // The good bundle still imports afterwards.
    let summary = s.import_bundle(Bundle::decode(&bytes)?)?;
    assert!(summary.new_changes > 0);
    assert_eq!(s.product("T2NEW")?.name, "From T2");
    still_healthy(&mut f)
}

#[test]
fn bad_stock_and_catalog_input_is_refused_and_changes_nothing() -> R {
    let mut f = fixture()?;
    let count_id = f.count_id.clone();
    let supplier_id = f.supplier_id.clone();
    let s = &mut f.store;
    refused(
        s,
        "a till name with a control character",
        ErrorCode::InvalidInput,
        &["till name", "control"],
        |s| s.rename_till("T1\u{1b}[31m"),
    )?;
    refused(
        s,
        "a till name of 101 bytes",
        ErrorCode::InvalidInput,
        &["till name", "100"],
        |s| s.rename_till(&"x".repeat(101)),
    )?;
    assert_eq!(
        s.info().till_name,
        "T1",
        "a refused name is not kept in memory either"
    );
    refused(
        s,
        "adjust by zero",
        ErrorCode::InvalidInput,
        &["zero"],
        |s| s.adjust("SOAP", 0, AdjustReason::Correction, None),
    )?;
    refused(
        s,
        "adjust unknown SKU",
        ErrorCode::NotFound,
        &["NOPE"],
        |s| s.adjust("NOPE", -1, AdjustReason::Lost, None),
    )?;
    refused(
        s,
        "count of a negative quantity",
        ErrorCode::InvalidInput,
        &["negative"],
        |s| s.count_record(&count_id, "SPONGE", -1),
    )?;
    refused(
        s,
        "count of a product outside the count",
        ErrorCode::InvalidInput,
        &["not part"],
        |s| s.count_record(&count_id, "SOAP", 1),
    )?;
    refused(
        s,
        "count of an unknown count",
        ErrorCode::NotFound,
        &["count"],
        |s| s.count_record("no-such-count", "SPONGE", 1),
    )?;
    refused(
        s,
        "count start of unknown SKU",
        ErrorCode::NotFound,
        &["NOPE"],
        |s| s.count_start(CountScope::Products(vec!["SPONGE".into(), "NOPE".into()])),
    )?;
    refused(
        s,
        "receive zero",
        ErrorCode::InvalidInput,
        &["quantity"],
        |s| {
            s.receive(
                None,
                &[ReceiveLine {
                    code: "SOAP".into(),
                    qty: 0,
                    unit_cost: None,
                }],
            )
        },
    )?;
    refused(
        s,
        "receive negative, after a good line",
        ErrorCode::InvalidInput,
        &["-2"],
        |s| {
            s.receive(
                None,
                &[
                    ReceiveLine {
                        code: "SOAP".into(),
                        qty: 5,
                        unit_cost: None,
                    },
                    ReceiveLine {
                        code: "SPONGE".into(),
                        qty: -2,
                        unit_cost: None,
                    },
                ],
            )
        },
    )?;
    refused(
        s,
        "receive unknown SKU",
        ErrorCode::NotFound,
        &["NOPE"],
        |s| {
            s.receive(
                None,
                &[ReceiveLine {
                    code: "NOPE".into(),
                    qty: 1,
                    unit_cost: None,
                }],
            )
        },
    )?;
    refused(
        s,
        "receive from unknown supplier",
        ErrorCode::NotFound,
        &["supplier"],
        |s| {
            s.receive(
                Some("no-such-supplier"),
                &[ReceiveLine {
                    code: "SOAP".into(),
                    qty: 1,
                    unit_cost: None,
                }],
            )
        },
    )?;

    let new = |sku: &str, name: &str| product(sku, name, 100);
    refused(
        s,
        "empty product name",
        ErrorCode::InvalidInput,
        &["name"],
        |s| s.add_product(new("NEW1", "   ")),
    )?;
    refused(s, "empty SKU", ErrorCode::InvalidInput, &["SKU"], |s| {
        s.add_product(new("", "Name"))
    })?;
    refused(
        s,
        "duplicate SKU",
        ErrorCode::Conflict,
        &["SOAP", "already"],
        |s| s.add_product(new("soap", "Another soap")),
    )?;
    refused(
        s,
        "duplicate barcode",
        ErrorCode::Conflict,
        &["5000001"],
        |s| {
            s.add_product(NewProduct {
                barcodes: vec!["5000001".into()],
                ..new("NEW1", "New")
            })
        },
    )?;
    refused(
        s,
        "unknown supplier",
        ErrorCode::NotFound,
        &["supplier", "ghost-supplier"],
        |s| {
            s.add_product(NewProduct {
                supplier: Some("ghost-supplier".into()),
                ..new("NEW1", "New")
            })
        },
    )?;
    refused(
        s,
        "unknown tax class",
        ErrorCode::NotFound,
        &["tax class"],
        |s| {
            s.add_product(NewProduct {
                tax_class: Some("luxury".into()),
                ..new("NEW1", "New")
            })
        },
    )?;
    refused(
        s,
        "negative price",
        ErrorCode::InvalidInput,
        &["negative"],
        |s| {
            s.add_product(NewProduct {
                price: -5,
                ..new("NEW1", "New")
            })
        },
    )?;
    refused(
        s,
        "edit to an empty name",
        ErrorCode::InvalidInput,
        &["name"],
        |s| {
            s.edit_product(
                "SOAP",
                ProductEdit {
                    name: Some(String::new()),
                    ..ProductEdit::default()
                },
            )
        },
    )?;
    refused(
        s,
        "edit to a taken SKU",
        ErrorCode::Conflict,
        &["SPONGE"],
        |s| {
            s.edit_product(
                "SOAP",
                ProductEdit {
                    sku: Some("SPONGE".into()),
                    ..ProductEdit::default()
                },
            )
        },
    )?;
    refused(
        s,
        "edit of unknown product",
        ErrorCode::NotFound,
        &["NOPE"],
        |s| {
            s.edit_product(
                "NOPE",
                ProductEdit {
                    price: Some(1),
                    ..ProductEdit::default()
                },
            )
        },
    )?;
    refused(
        s,
        "edit to an unknown supplier",
        ErrorCode::NotFound,
        &["supplier"],
        |s| {
            s.edit_product(
                "SOAP",
                ProductEdit {
                    supplier: Some(Some("ghost".into())),
                    ..ProductEdit::default()
                },
            )
        },
    )?;
    refused(
        s,
        "empty edit",
        ErrorCode::InvalidInput,
        &["nothing to change"],
        |s| s.edit_product("SOAP", ProductEdit::default()),
    )?;
    refused(
        s,
        "empty supplier name",
        ErrorCode::InvalidInput,
        &["name"],
        |s| {
            s.add_supplier(NewSupplier {
                name: " ".into(),
                ..NewSupplier::default()
            })
        },
    )?;
    refused(
        s,
        "edit of unknown supplier",
        ErrorCode::NotFound,
        &["supplier"],
        |s| {
            s.edit_supplier(
                "ghost",
                shopsync_core::SupplierEdit {
                    name: Some("Ghost".into()),
                    ..Default::default()
                },
            )
        },
    )?;
    refused(
        s,
        "supplier renamed to nothing",
        ErrorCode::InvalidInput,
        &["name"],
        |s| {
            s.edit_supplier(
                &supplier_id,
                shopsync_core::SupplierEdit {
                    name: Some(String::new()),
                    ..Default::default()
                },
            )
        },
    )?;
    refused(
        s,
        "tax rate over 100 %",
        ErrorCode::InvalidInput,
        &["100 %"],
        |s| {
            s.set_tax_class(NewTaxClass {
                id: "huge".into(),
                name: "Huge".into(),
                rate_bp: 10_001,
                inclusive: false,
            })
        },
    )?;
    still_healthy(&mut f)
}
