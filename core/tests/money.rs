//! Issue 7 part 6: defects that lose money or stock — double refunds made
//! offline, CSV columns left out, tax classes changed field by field, one SKU
//! created on two tills, catalog edits on a till-role device, currencies.

mod common;

use chrono::{DateTime, NaiveDate, Utc};
use common::{
    R, Till, after, at, on_hand, product, receive, sell_cash, send, standard_tax, till_from,
    verify_clean,
};
use shopsync_core::access::Role;
use shopsync_core::sync::SyncConfig;
use shopsync_core::types::ErrorCode;
use shopsync_core::{
    CoreError, InitOptions, NewProduct, ProductEdit, RefundRequest, SalesFilter, Store,
    TaxClassEdit,
};

/// This file's test day, 2026-03-10 10:00 UTC.
fn money_t0() -> DateTime<Utc> {
    at(2026, 3, 10, 10, 0)
}

/// Till A of "Money Shop" at `dir/file`, its clock at the start of the day.
fn money_store(dir: &tempfile::TempDir, file: &str) -> Result<Store, CoreError> {
    Till {
        file,
        store: "Money Shop",
        now: after(money_t0(), 0),
        ..Till::default()
    }
    .open(dir.path())
}

/// A product named after its SKU.
fn money_product(sku: &str, price: i64) -> NewProduct {
    product(sku, &format!("Product {sku}"), price)
}

/// Till B made from till A's bundle.
fn money_second_till(dir: &tempfile::TempDir, a: &Store) -> Result<Store, CoreError> {
    till_from(dir.path(), a, "B", after(money_t0(), 0))
}

/// A sells 2 × P (2.00 each, cash); B sees the sale; A and B each refund
/// the whole sale without seeing the other's refund; then they exchange.
fn double_refund(dir: &tempfile::TempDir) -> Result<(Store, Store, String), CoreError> {
    let mut a = money_store(dir, "a.db")?;
    a.add_product(money_product("P", 200))?;
    receive(&mut a, "P", 10)?;
    let sale = sell_cash(&mut a, "P", 2, 400)?.sale_id;
    let mut b = money_second_till(dir, &a)?;
    a.set_now(after(money_t0(), 5));
    b.set_now(after(money_t0(), 6));
    let restock = || RefundRequest {
        restock: true,
        ..RefundRequest::default()
    };
    a.refund(&sale, restock())?;
    b.refund(&sale, restock())?;
    send(&a, &mut b)?;
    send(&b, &mut a)?;
    Ok((a, b, sale))
}

#[test]
fn refund_of_an_over_refunded_sale_says_nothing_left_and_writes_nothing() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, _b, sale) = double_refund(&dir)?;
    let stock_before = on_hand(&a, "P")?;
    let refunded_before = a.sale(&sale)?.summary.refunded;
    assert_eq!(stock_before, 10 - 2 + 4, "both refunds restocked");

    // Before the fix this wrote a refund of -2 units for -4.00.
    let err = a
        .refund(
            &sale,
            RefundRequest {
                restock: true,
                ..RefundRequest::default()
            },
        )
        .err()
        .ok_or("a third refund must be refused")?;
    assert!(matches!(err, CoreError::NothingToRefund(_)), "{err:?}");
    assert_eq!(err.code(), ErrorCode::Payment);
    assert!(err.to_string().contains("nothing left to refund"), "{err}");
    // A refund naming the product is refused too.
    a.refund(
        &sale,
        RefundRequest {
            lines: vec![("P".into(), 1)],
            ..RefundRequest::default()
        },
    )
    .err()
    .ok_or("refunding one more unit must be refused")?;

    assert_eq!(on_hand(&a, "P")?, stock_before);
    let d = a.sale(&sale)?;
    assert_eq!(d.summary.refunded, refunded_before);
    assert_eq!(d.refunds.len(), 2);
    Ok(())
}

#[test]
fn over_refund_is_a_conflict_in_sale_sales_and_z_report() -> R {
    let dir = tempfile::tempdir()?;
    let (a, b, sale) = double_refund(&dir)?;
    for s in [&a, &b] {
        let d = s.sale(&sale)?;
        assert!(d.summary.over_refunded);
        assert_eq!(d.refund_conflicts.len(), 1);
        let c = &d.refund_conflicts[0];
        assert_eq!(
            (c.line_no, c.sku.as_str(), c.sold, c.refunded),
            (1, "P", 2, 4)
        );
        assert_eq!(c.excess_amount.minor, 400);
        let tills: Vec<&str> = c.refunds.iter().map(|r| r.till_id.as_str()).collect();
        assert_eq!(
            tills,
            vec![a.info().till_id.as_str(), b.info().till_id.as_str()]
        );
        assert!(
            c.refunds
                .iter()
                .all(|r| r.qty == 2 && r.amount.minor == 400)
        );
        // Every refund names its till.
        assert!(d.refunds.iter().all(|r| !r.till_id.is_empty()));

        let list = s.sales(&SalesFilter::default())?;
        assert_eq!(list.len(), 1);
        assert!(list[0].over_refunded);

        let day = money_t0().date_naive();
        let z = s.z_report(day)?;
        assert_eq!(z.over_refunded.len(), 1);
        assert_eq!(z.over_refunded[0].sale_id, sale);
        assert_eq!(z.over_refunded[0].excess_qty, 2);
        assert_eq!(z.over_refunded_total.minor, 400);
        // A day without those refunds lists nothing.
        let other = NaiveDate::from_ymd_opt(2026, 3, 11).ok_or("date")?;
        assert!(s.z_report(other)?.over_refunded.is_empty());

        // Rebuilt projections say the same.
        verify_clean(s)?;
    }
    Ok(())
}

#[test]
fn refund_conflict_appears_whatever_order_records_arrive_in() -> R {
    let dir = tempfile::tempdir()?;
    let (a, b, sale) = double_refund(&dir)?;
    // Till C only ever sees B's refund first, then the rest.
    let mut c = till_from(dir.path(), &b, "C", None)?;
    send(&a, &mut c)?;
    let d = c.sale(&sale)?;
    assert_eq!(d.refund_conflicts, a.sale(&sale)?.refund_conflicts);
    c.rebuild(&mut |_| {})?;
    assert_eq!(c.sale(&sale)?.refund_conflicts, d.refund_conflicts);
    Ok(())
}

#[test]
fn a_sale_refunded_once_has_no_conflict() -> R {
    let dir = tempfile::tempdir()?;
    let mut a = money_store(&dir, "a.db")?;
    a.add_product(money_product("P", 200))?;
    let sale = sell_cash(&mut a, "P", 2, 400)?.sale_id;
    a.refund(&sale, RefundRequest::default())?;
    let d = a.sale(&sale)?;
    assert!(!d.summary.over_refunded);
    assert!(d.refund_conflicts.is_empty());
    assert!(!a.sales(&SalesFilter::default())?[0].over_refunded);
    assert!(
        a.z_report(money_t0().date_naive())?
            .over_refunded
            .is_empty()
    );
    Ok(())
}

fn money_full_product(s: &mut Store) -> Result<(), CoreError> {
    standard_tax(s)?;
    s.add_product(NewProduct {
        sku: "MILK".into(),
        name: "Milk".into(),
        price: 199,
        cost: Some(80),
        barcodes: vec!["4000000000017".into()],
        tax_class: Some("std".into()),
        reorder_point: Some(5),
        ..NewProduct::default()
    })?;
    Ok(())
}

#[test]
fn csv_without_a_column_leaves_that_field_unchanged() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = money_store(&dir, "a.db")?;
    money_full_product(&mut s)?;
    let csv = "sku,name,price\nMILK,Whole milk,2.09\nBREAD,Bread,1.50\n";
    let sum = s.import_products_reader(csv.as_bytes(), &mut |_| {})?;
    assert_eq!((sum.added, sum.updated), (1, 1));
    let p = s.product("MILK")?;
    assert_eq!((p.name.as_str(), p.price.minor), ("Whole milk", 209));
    assert_eq!(p.barcodes, vec!["4000000000017".to_string()]);
    assert_eq!(p.tax_class.as_deref(), Some("std"));
    assert_eq!(p.cost.map(|c| c.minor), Some(80));
    assert_eq!(p.reorder_point, Some(5));
    // New products get the defaults for absent columns.
    let bread = s.product("BREAD")?;
    assert!(bread.barcodes.is_empty() && bread.tax_class.is_none() && bread.cost.is_none());

    // The same file again changes nothing.
    let again = s.import_products_reader(csv.as_bytes(), &mut |_| {})?;
    assert_eq!((again.updated, again.unchanged), (0, 2));
    Ok(())
}

#[test]
fn csv_empty_cell_clears_the_field() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = money_store(&dir, "a.db")?;
    money_full_product(&mut s)?;
    let csv = "sku,name,price,barcode,cost\nMILK,Milk,1.99,,\n";
    s.import_products_reader(csv.as_bytes(), &mut |_| {})?;
    let p = s.product("MILK")?;
    assert!(p.barcodes.is_empty());
    assert_eq!(p.cost, None);
    // Columns not in the file are kept.
    assert_eq!(p.tax_class.as_deref(), Some("std"));
    assert_eq!(p.reorder_point, Some(5));
    Ok(())
}

#[test]
fn tax_class_set_changes_only_the_fields_given() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = money_store(&dir, "a.db")?;
    standard_tax(&mut s)?;
    let t = s.update_tax_class(TaxClassEdit {
        id: "std".into(),
        rate_bp: Some(2100),
        ..TaxClassEdit::default()
    })?;
    assert_eq!(t.rate_bp, 2100);
    assert!(!t.inclusive, "an exclusive class stays exclusive");
    assert_eq!(t.name, "Standard", "the name is kept");

    let t = s.update_tax_class(TaxClassEdit {
        id: "std".into(),
        inclusive: Some(true),
        ..TaxClassEdit::default()
    })?;
    assert_eq!(
        (t.rate_bp, t.inclusive, t.name.as_str()),
        (2100, true, "Standard")
    );

    // A new class: rate required, name defaults to the id, inclusive by default.
    let err = s
        .update_tax_class(TaxClassEdit {
            id: "red".into(),
            ..TaxClassEdit::default()
        })
        .err()
        .ok_or("a new class without a rate must be refused")?;
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    let t = s.update_tax_class(TaxClassEdit {
        id: "red".into(),
        rate_bp: Some(550),
        ..TaxClassEdit::default()
    })?;
    assert_eq!(
        (t.name.as_str(), t.rate_bp, t.inclusive),
        ("red", 550, true)
    );
    // Nothing to change is an error, not a silent rewrite.
    assert!(
        s.update_tax_class(TaxClassEdit {
            id: "red".into(),
            ..TaxClassEdit::default()
        })
        .is_err()
    );
    Ok(())
}

/// A and B both create SKU "DUP" offline; A received 3, B received 4.
fn money_sku_clash(dir: &tempfile::TempDir) -> Result<(Store, Store, String, String), CoreError> {
    let mut a = money_store(dir, "a.db")?;
    let mut b = money_second_till(dir, &a)?;
    let pa = a.add_product(money_product("DUP", 100))?.id;
    let pb = b.add_product(money_product("DUP", 150))?.id;
    receive(&mut a, "DUP", 3)?;
    receive(&mut b, "DUP", 4)?;
    send(&a, &mut b)?;
    send(&b, &mut a)?;
    Ok((a, b, pa, pb))
}

#[test]
fn sku_clash_is_shown_on_both_products() -> R {
    let dir = tempfile::tempdir()?;
    let (a, _b, pa, pb) = money_sku_clash(&dir)?;
    let list = a.search_products("", 100, false)?;
    let dups: Vec<_> = list.iter().filter(|p| p.sku == "DUP").collect();
    assert_eq!(dups.len(), 2);
    for p in &dups {
        let other = if p.id == pa { &pb } else { &pa };
        assert_eq!(&p.sku_clash, &vec![other.clone()]);
    }
    let shown = a.product("DUP")?;
    assert_eq!(shown.sku_clash.len(), 1);
    // Each can be named: by id, or SKU#n.
    let mut ids = [pa.clone(), pb.clone()];
    ids.sort();
    assert_eq!(a.product_by_ref("DUP#1")?.id, ids[0]);
    assert_eq!(a.product_by_ref("DUP#2")?.id, ids[1]);
    assert_eq!(a.product_by_ref(&pb)?.id, pb);
    assert!(a.product_by_ref("DUP#3").is_err());
    Ok(())
}

/// A till sells the active product created first (lowest id) under a
/// clashing SKU, whatever case the cashier types; once that one is
/// archived, the other.
#[test]
fn a_clashing_sku_sells_the_active_product_created_first() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, _b, pa, pb) = money_sku_clash(&dir)?;
    let (first, second) = if pa < pb { (pa, pb) } else { (pb, pa) };
    let line = |s: &Store, code: &str| -> Result<String, CoreError> {
        Ok(s.quote(&[shopsync_core::CartLine::new(code, 1)])?.lines[0]
            .product_id
            .clone())
    };
    assert_eq!(line(&a, "DUP")?, first);
    a.archive_product(&first)?;
    assert_eq!(line(&a, " dup ")?, second);
    Ok(())
}

#[test]
fn sku_clash_is_shown_in_a_whole_catalog_listing() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, _b, pa, pb) = money_sku_clash(&dir)?;
    let mut csv = String::from("sku,name,price\n");
    for i in 0..=shopsync_core::ops::catalog_fixes::CLASH_LOOKUPS_MAX {
        csv.push_str(&format!("BULK{i:04},Bulk {i},1.00\n"));
    }
    a.import_products_reader(csv.as_bytes(), &mut |_| {})?;
    let all = a.search_products("", u32::MAX, false)?;
    assert!(all.len() > shopsync_core::ops::catalog_fixes::CLASH_LOOKUPS_MAX);
    let clashing: Vec<(&str, &Vec<String>)> = all
        .iter()
        .filter(|p| !p.sku_clash.is_empty())
        .map(|p| (p.id.as_str(), &p.sku_clash))
        .collect();
    assert_eq!(clashing.len(), 2);
    for (id, others) in clashing {
        let other = if id == pa { &pb } else { &pa };
        assert_eq!(others, &vec![other.clone()]);
    }
    Ok(())
}

#[test]
fn a_clashing_product_can_be_renamed_by_id_and_edited() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, _b, pa, pb) = money_sku_clash(&dir)?;
    // Editing a clashing product without renaming it is allowed.
    let p = a.edit_product_ref(
        &pb,
        ProductEdit {
            price: Some(160),
            ..ProductEdit::default()
        },
    )?;
    assert_eq!(p.price.minor, 160);
    let p = a.edit_product_ref(
        &pb,
        ProductEdit {
            sku: Some("DUP-B".into()),
            ..ProductEdit::default()
        },
    )?;
    assert_eq!(p.sku, "DUP-B");
    assert!(p.sku_clash.is_empty());
    assert!(a.product_by_id(&pa)?.sku_clash.is_empty());
    assert_eq!(on_hand(&a, "DUP-B")?, 4);
    assert_eq!(on_hand(&a, "DUP")?, 3);
    Ok(())
}

#[test]
fn merging_a_sku_clash_keeps_all_stock() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, mut b, pa, pb) = money_sku_clash(&dir)?;
    let m = a.merge_products(&pa, &pb)?;
    assert_eq!(m.moved_stock, 4);
    assert!(!m.archived.active);
    assert!(m.kept.sku_clash.is_empty());
    assert_eq!(on_hand(&a, "DUP")?, 7);
    let total: i64 = a
        .stock_levels(None, false)?
        .iter()
        .filter(|l| l.product_id == pa || l.product_id == pb)
        .map(|l| l.on_hand)
        .sum();
    assert_eq!(total, 7, "no unit lost or made up");
    send(&a, &mut b)?;
    assert_eq!(on_hand(&b, "DUP")?, 7);
    assert_eq!(b.product("DUP")?.id, pa);
    assert!(a.merge_products(&pa, &pa).is_err());
    verify_clean(&b)?;
    Ok(())
}

fn money_enrol_as(s: &mut Store, role: Role) -> Result<(), CoreError> {
    s.set_sync_config(&SyncConfig {
        server: "https://sync.example".into(),
        device_id: "dev-1".into(),
        token: "tok".into(),
        role,
    })
}

#[test]
fn a_till_role_device_refuses_catalog_edits_and_changes_nothing() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = money_store(&dir, "a.db")?;
    s.add_product(money_product("P", 100))?;
    let before = s.search_products("", 100, true)?;
    money_enrol_as(&mut s, Role::Till)?;
    let refused = |r: Result<(), CoreError>| match r {
        Err(e @ CoreError::CatalogReadOnly) => {
            assert_eq!(e.code(), ErrorCode::Unauthorized);
            assert!(e.to_string().contains("manager"), "{e}");
            Ok(())
        }
        other => Err(format!("expected CatalogReadOnly, got {other:?}")),
    };
    refused(s.add_product(money_product("Q", 100)).map(|_| ()))?;
    refused(
        s.edit_product(
            "P",
            ProductEdit {
                price: Some(5),
                ..ProductEdit::default()
            },
        )
        .map(|_| ()),
    )?;
    refused(s.archive_product("P").map(|_| ()))?;
    refused(
        s.update_tax_class(TaxClassEdit {
            id: "std".into(),
            rate_bp: Some(2000),
            ..TaxClassEdit::default()
        })
        .map(|_| ()),
    )?;
    refused(s.set_setting("store_name", "Other").map(|_| ()))?;
    refused(
        s.import_products_reader("sku,name,price\nR,R,1.00\n".as_bytes(), &mut |_| {})
            .map(|_| ()),
    )?;
    assert_eq!(s.search_products("", 100, true)?, before);
    // Selling and stock work stay allowed.
    receive(&mut s, "P", 2)?;
    // Its own catalog changes from before enrolment will never be sent.
    assert!(s.unsendable_catalog_changes()? > 0);
    Ok(())
}

#[test]
fn a_manager_device_edits_the_catalog() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = money_store(&dir, "a.db")?;
    money_enrol_as(&mut s, Role::Manager)?;
    s.add_product(money_product("P", 100))?;
    assert_eq!(s.unsendable_catalog_changes()?, 0);
    Ok(())
}

#[test]
fn stores_take_only_iso_4217_currencies() -> R {
    let dir = tempfile::tempdir()?;
    let xpf = Store::init(
        &dir.path().join("xpf.db"),
        InitOptions {
            store_name: "Papeete".into(),
            till_name: "A".into(),
            currency: "XPF".into(),
        },
    )?;
    assert_eq!(xpf.currency().decimals, 0);
    let err = Store::init(
        &dir.path().join("abc.db"),
        InitOptions {
            store_name: "Nowhere".into(),
            till_name: "A".into(),
            currency: "ABC".into(),
        },
    )
    .err()
    .ok_or("an unknown currency must be refused")?;
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().contains("ISO 4217"), "{err}");
    assert!(
        !dir.path().join("abc.db").exists() || Store::open(&dir.path().join("abc.db")).is_err()
    );
    Ok(())
}
