//! Every operation through the public `Store` API, with exact amounts and
//! stock levels checked after each step.

mod common;

use chrono::{DateTime, Local, NaiveDate, Utc};
use common::{
    R, Till, at, card, cash, on_hand, product, receive, sell_cash, standard_tax, verify_clean,
};
use shopsync_core::types::{CountStatus, StockStatus, TenderKind};
use shopsync_core::{
    AdjustReason, CartLine, CoreError, CountScope, NewProduct, NewSupplier, NewTaxClass,
    ProductEdit, ReceiveLine, RefundRequest, SalesFilter, Store, SupplierEdit,
};

/// Till T1 of "Ops Shop" at `dir/file`, with a standard (20 %, exclusive)
/// and a reduced (10 %, inclusive) tax class.
fn new_store(dir: &tempfile::TempDir, file: &str) -> Result<Store, CoreError> {
    let mut s = Till {
        file,
        store: "Ops Shop",
        name: "T1",
        ..Till::default()
    }
    .open(dir.path())?;
    standard_tax(&mut s)?;
    s.set_tax_class(NewTaxClass {
        id: "incl".into(),
        name: "Reduced, included".into(),
        rate_bp: 1000,
        inclusive: true,
    })?;
    Ok(s)
}

fn local_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&Local).date_naive()
}

#[test]
fn products_add_edit_every_field_and_archive() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = new_store(&dir, "p.db")?;
    let acme = s.add_supplier(NewSupplier {
        name: "Acme".into(),
        ..NewSupplier::default()
    })?;
    let bolt = s.add_supplier(NewSupplier {
        name: "Bolt".into(),
        ..NewSupplier::default()
    })?;
    let drinks = s.add_category("Drinks")?.id;
    let tea = s.add_category("Tea")?.id;
    let p = s.add_product(NewProduct {
        sku: "TEA-1".into(),
        name: "Green Tea".into(),
        price: 250,
        cost: Some(100),
        barcodes: vec!["111".into(), "112".into()],
        tax_class: Some("std".into()),
        supplier: Some(acme.id.clone()),
        category: Some(drinks.clone()),
        reorder_point: Some(3),
        reorder_target: Some(10),
    })?;
    assert_eq!(p.sku, "TEA-1");
    assert_eq!(p.name, "Green Tea");
    assert_eq!(p.price.minor, 250);
    assert_eq!(p.cost.map(|c| c.minor), Some(100));
    assert_eq!(p.barcodes, vec!["111".to_string(), "112".to_string()]);
    assert_eq!(p.tax_class.as_deref(), Some("std"));
    assert_eq!(p.supplier.as_deref(), Some(acme.id.as_str()));
    assert_eq!(p.category.as_deref(), Some(drinks.as_str()));
    assert_eq!(p.reorder_point, Some(3));
    assert_eq!(p.reorder_target, Some(10));
    assert!(p.active);
    assert_eq!(s.product_by_code("112")?.id, p.id);

    // Change every field.
    let e = s.edit_product(
        "TEA-1",
        ProductEdit {
            sku: Some("TEA-2".into()),
            name: Some("Jasmine Tea".into()),
            price: Some(275),
            cost: Some(Some(120)),
            barcodes: Some(vec!["221".into()]),
            tax_class: Some(Some("incl".into())),
            supplier: Some(Some(bolt.id.clone())),
            category: Some(Some(tea.clone())),
            reorder_point: Some(Some(5)),
            active: Some(true),
            reorder_target: Some(Some(12)),
        },
    )?;
    assert_eq!(e.id, p.id);
    assert_eq!(e.sku, "TEA-2");
    assert_eq!(e.name, "Jasmine Tea");
    assert_eq!(e.price.minor, 275);
    assert_eq!(e.cost.map(|c| c.minor), Some(120));
    assert_eq!(e.barcodes, vec!["221".to_string()]);
    assert_eq!(e.tax_class.as_deref(), Some("incl"));
    assert_eq!(e.supplier.as_deref(), Some(bolt.id.as_str()));
    assert_eq!(e.category.as_deref(), Some(tea.as_str()));
    assert_eq!(e.reorder_point, Some(5));
    assert_eq!(e.reorder_target, Some(12));
    assert_eq!(s.product("TEA-2")?, e);
    // The old SKU and old barcodes no longer find it.
    assert!(matches!(
        s.product("TEA-1"),
        Err(CoreError::NotFound { .. })
    ));
    assert!(s.product_by_code("111").is_err());
    assert_eq!(s.product_by_code("221")?.id, p.id);

    // Clear every optional field.
    let c = s.edit_product(
        "TEA-2",
        ProductEdit {
            cost: Some(None),
            barcodes: Some(vec![]),
            tax_class: Some(None),
            supplier: Some(None),
            category: Some(None),
            reorder_point: Some(None),
            ..ProductEdit::default()
        },
    )?;
    assert_eq!(c.cost, None);
    assert!(c.barcodes.is_empty());
    assert_eq!(c.tax_class, None);
    assert_eq!(c.supplier, None);
    assert_eq!(c.category, None);
    assert_eq!(c.reorder_point, None);
    assert_eq!(c.name, "Jasmine Tea", "untouched fields stay");
    assert_eq!(c.price.minor, 275);

    // An archived product stays findable but cannot be sold.
    receive(&mut s, "TEA-2", 4)?;
    let a = s.archive_product("TEA-2")?;
    assert!(!a.active);
    let err = s
        .sell(&[CartLine::new("TEA-2", 1)], &[cash(1000)])
        .err()
        .ok_or("an archived product was sold")?;
    assert!(err.to_string().contains("archived"), "{err}");
    assert!(s.sales(&SalesFilter::default())?.is_empty());
    assert_eq!(on_hand(&s, "TEA-2")?, 4);
    // Reactivating makes it sellable again.
    s.edit_product(
        "TEA-2",
        ProductEdit {
            active: Some(true),
            ..ProductEdit::default()
        },
    )?;
    s.sell(&[CartLine::new("TEA-2", 1)], &[cash(1000)])?;
    assert_eq!(on_hand(&s, "TEA-2")?, 3);
    verify_clean(&s)
}

#[test]
fn search_by_name_sku_prefix_and_barcode_prefix() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = new_store(&dir, "s.db")?;
    s.add_product(NewProduct {
        barcodes: vec!["5012345000011".into()],
        ..product("CHOC-DARK", "Dark Chocolate Bar", 199)
    })?;
    s.add_product(NewProduct {
        barcodes: vec!["5012345000028".into()],
        ..product("CHOC-MILK", "Milk Chocolate Bar", 189)
    })?;
    s.add_product(NewProduct {
        barcodes: vec!["7000000000001".into()],
        ..product("MILK-1L", "Whole Milk 1L", 119)
    })?;
    s.add_product(product("OLD-1", "Old Chocolate Stock", 50))?;
    s.archive_product("OLD-1")?;

    let skus = |v: Vec<shopsync_core::types::Product>| -> Vec<String> {
        let mut out: Vec<String> = v.into_iter().map(|p| p.sku).collect();
        out.sort();
        out
    };
    // Name words, by prefix, any order; archived left out unless asked.
    assert_eq!(
        skus(s.search_products("choc", 10, false)?),
        vec!["CHOC-DARK", "CHOC-MILK"]
    );
    assert_eq!(
        skus(s.search_products("bar dark", 10, false)?),
        vec!["CHOC-DARK"]
    );
    assert_eq!(
        skus(s.search_products("chocolate", 10, true)?),
        vec!["CHOC-DARK", "CHOC-MILK", "OLD-1"]
    );
    // SKU prefix.
    assert_eq!(
        skus(s.search_products("CHOC-", 10, false)?),
        vec!["CHOC-DARK", "CHOC-MILK"]
    );
    // "MILK-" is a SKU prefix of MILK-1L and a name word of two products:
    // the SKU match comes first.
    let milk_prefix = s.search_products("MILK-", 10, false)?;
    assert_eq!(milk_prefix.first().map(|p| p.sku.as_str()), Some("MILK-1L"));
    assert_eq!(skus(milk_prefix), vec!["CHOC-MILK", "MILK-1L"]);
    // Barcode prefix.
    assert_eq!(
        skus(s.search_products("5012345", 10, false)?),
        vec!["CHOC-DARK", "CHOC-MILK"]
    );
    assert_eq!(
        skus(s.search_products("70000", 10, false)?),
        vec!["MILK-1L"]
    );
    // An exact barcode comes first.
    let exact = s.search_products("5012345000028", 10, false)?;
    assert_eq!(exact.first().map(|p| p.sku.as_str()), Some("CHOC-MILK"));
    // Exact SKU match ranks before name matches of the same word.
    let milk = s.search_products("MILK-1L", 10, false)?;
    assert_eq!(milk.first().map(|p| p.sku.as_str()), Some("MILK-1L"));
    // Limit and nothing found.
    assert_eq!(s.search_products("choc", 1, false)?.len(), 1);
    assert!(s.search_products("zzz", 10, true)?.is_empty());
    // Search follows a rename.
    s.edit_product(
        "MILK-1L",
        ProductEdit {
            name: Some("Oat Drink".into()),
            ..ProductEdit::default()
        },
    )?;
    assert_eq!(skus(s.search_products("oat", 10, false)?), vec!["MILK-1L"]);
    assert!(
        !skus(s.search_products("whole", 10, false)?).contains(&"MILK-1L".to_string()),
        "old name still indexed"
    );
    Ok(())
}

#[test]
fn suppliers_add_edit_list() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = new_store(&dir, "sup.db")?;
    assert!(s.suppliers()?.is_empty());
    let a = s.add_supplier(NewSupplier {
        name: "  Zed Foods ".into(),
        phone: Some("123".into()),
        email: Some("z@example.com".into()),
        notes: None,
    })?;
    assert_eq!(a.name, "Zed Foods");
    let b = s.add_supplier(NewSupplier {
        name: "Alpha Dairy".into(),
        ..NewSupplier::default()
    })?;
    let names: Vec<String> = s.suppliers()?.into_iter().map(|x| x.name).collect();
    assert_eq!(names, vec!["Alpha Dairy", "Zed Foods"], "listed by name");

    let e = s.edit_supplier(
        &a.id,
        SupplierEdit {
            name: Some("Zed Wholesale".into()),
            phone: Some(None),
            email: Some(Some("orders@zed.example".into())),
            notes: Some(Some("Tuesdays".into())),
        },
    )?;
    assert_eq!(e.name, "Zed Wholesale");
    assert_eq!(e.phone, None);
    assert_eq!(e.email.as_deref(), Some("orders@zed.example"));
    assert_eq!(e.notes.as_deref(), Some("Tuesdays"));
    assert_eq!(s.supplier(&a.id)?, e);
    assert_eq!(s.supplier(&b.id)?.name, "Alpha Dairy");
    assert_eq!(s.suppliers()?.len(), 2);
    verify_clean(&s)
}

#[test]
fn sell_several_lines_overrides_discounts_taxes_split_tender() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = new_store(&dir, "sell.db")?;
    s.add_product(NewProduct {
        tax_class: Some("std".into()),
        barcodes: vec!["900001".into()],
        ..product("TEA", "Tea", 250)
    })?;
    s.add_product(NewProduct {
        tax_class: Some("incl".into()),
        ..product("CAKE", "Cake", 400)
    })?;
    s.add_product(product("BAG", "Bag", 10))?;
    for sku in ["TEA", "CAKE", "BAG"] {
        receive(&mut s, sku, 10)?;
    }
    let cart = vec![
        // 2 × 2.50 = 5.00, −10 % = 4.50, +20 % tax = 0.90 → 5.40
        CartLine {
            discount_bp: 1000,
            ..CartLine::new("900001", 2)
        },
        // typed price 3.00 (tax included at 10 %: 300 × 1000 / 11000 = 27.27 → 0.27)
        CartLine {
            unit_price: Some(300),
            override_reason: Some("damaged box".into()),
            ..CartLine::new("CAKE", 1)
        },
        // 3 × 0.10, no tax class
        CartLine::new("BAG", 3),
    ];
    let quote = s.quote(&cart)?;
    assert_eq!(quote.subtotal.minor, 830);
    assert_eq!(quote.discount.minor, 50);
    assert_eq!(quote.tax.minor, 117);
    assert_eq!(quote.total.minor, 870);

    let receipt = s.sell(&cart, &[card(500), cash(500)])?;
    assert_eq!(receipt.total.minor, 870);
    assert_eq!(receipt.tax.minor, 117);
    assert_eq!(receipt.paid.minor, 1000);
    assert_eq!(receipt.change.minor, 130);
    assert_eq!(receipt.total.to_string(), "8.70");
    assert!(receipt.number.starts_with("T1-"), "{}", receipt.number);

    let d = s.sale(&receipt.sale_id)?;
    assert_eq!(d.summary.sale_id, receipt.sale_id);
    assert_eq!(d.summary.till_id, s.info().till_id);
    assert_eq!(d.summary.items, 6);
    assert_eq!(d.subtotal.minor, 830);
    assert_eq!(d.discount.minor, 50);
    assert_eq!(d.change.minor, 130);
    assert_eq!(d.summary.refunded.minor, 0);
    assert_eq!(d.lines.len(), 3);
    let (tea, cake, bag) = (&d.lines[0], &d.lines[1], &d.lines[2]);
    assert_eq!(
        (tea.sku.as_str(), tea.qty, tea.unit_price.minor),
        ("TEA", 2, 250)
    );
    assert_eq!(
        (tea.discount.minor, tea.tax.minor, tea.total.minor),
        (50, 90, 540)
    );
    assert_eq!(
        (tea.tax_class.as_deref(), tea.tax_rate_bp),
        (Some("std"), 2000)
    );
    assert_eq!(tea.price_override_reason, None);
    assert_eq!(
        (cake.unit_price.minor, cake.tax.minor, cake.total.minor),
        (300, 27, 300)
    );
    assert_eq!(cake.price_override_reason.as_deref(), Some("damaged box"));
    assert_eq!(
        (cake.tax_class.as_deref(), cake.tax_rate_bp),
        (Some("incl"), 1000)
    );
    assert_eq!((bag.qty, bag.tax.minor, bag.total.minor), (3, 0, 30));
    assert_eq!(bag.tax_class, None);
    let tenders: Vec<(TenderKind, i64)> =
        d.tenders.iter().map(|t| (t.kind, t.amount.minor)).collect();
    assert_eq!(
        tenders,
        vec![(TenderKind::Card, 500), (TenderKind::Cash, 500)]
    );
    // Lines' totals add up to the sale.
    assert_eq!(
        d.lines.iter().map(|l| l.total.minor).sum::<i64>(),
        d.summary.total.minor
    );
    assert_eq!(on_hand(&s, "TEA")?, 8);
    assert_eq!(on_hand(&s, "CAKE")?, 9);
    assert_eq!(on_hand(&s, "BAG")?, 7);

    // A typed price without a reason still records that it was overridden.
    let r2 = s.sell(
        &[CartLine {
            unit_price: Some(100),
            ..CartLine::new("BAG", 1)
        }],
        &[cash(100)],
    )?;
    let d2 = s.sale(&r2.sale_id)?;
    assert_eq!(d2.lines[0].unit_price.minor, 100);
    assert!(d2.lines[0].price_override_reason.is_some());
    assert_eq!(d2.change.minor, 0);
    // Sale numbers increase.
    assert!(
        r2.number > receipt.number,
        "{} > {}",
        r2.number,
        receipt.number
    );
    verify_clean(&s)
}

#[test]
fn refunds_return_stock_pro_rata_and_never_exceed_the_sale() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = new_store(&dir, "refund.db")?;
    s.add_product(NewProduct {
        tax_class: Some("std".into()),
        ..product("JAM", "Jam", 333)
    })?;
    s.add_product(product("BREAD", "Bread", 200))?;
    receive(&mut s, "JAM", 10)?;
    receive(&mut s, "BREAD", 10)?;

    // 3 × 3.33 = 9.99 + 20 % (1.998 → 2.00) = 11.99
    let sale = s.sell(
        &[CartLine::new("JAM", 3), CartLine::new("BREAD", 2)],
        &[cash(2000)],
    )?;
    assert_eq!(sale.total.minor, 1199 + 400);
    assert_eq!(on_hand(&s, "JAM")?, 7);

    // Three refunds of one jar each: 4.00 + 3.99 + 4.00 = exactly the line total.
    let mut jam_amounts = Vec::new();
    for _ in 0..3 {
        let r = s.refund(
            &sale.sale_id,
            RefundRequest {
                lines: vec![("JAM".into(), 1)],
                tender: None,
                restock: true,
            },
        )?;
        assert_eq!(r.tender, TenderKind::Cash, "cash sale refunds in cash");
        assert_eq!(r.lines.len(), 1);
        assert_eq!(r.lines[0].sku, "JAM");
        jam_amounts.push(r.amount.minor);
    }
    assert_eq!(jam_amounts, vec![400, 399, 400]);
    assert_eq!(jam_amounts.iter().sum::<i64>(), 1199);
    assert_eq!(on_hand(&s, "JAM")?, 10);
    let tax: i64 = s.connection().query_row(
        "SELECT SUM(tax) FROM refunds WHERE sale_id = ?1",
        [&sale.sale_id],
        |r| r.get(0),
    )?;
    assert_eq!(tax, 200, "refunded tax adds up to the line's tax");

    // A fourth jar was never sold.
    let err = s
        .refund(
            &sale.sale_id,
            RefundRequest {
                lines: vec![("JAM".into(), 1)],
                tender: None,
                restock: true,
            },
        )
        .err()
        .ok_or("refunded more jam than sold")?;
    assert!(err.to_string().contains("0 left"), "{err}");

    // Refund of more than is left in one go fails; then the rest, without restocking.
    assert!(
        s.refund(
            &sale.sale_id,
            RefundRequest {
                lines: vec![("BREAD".into(), 3)],
                tender: None,
                restock: true,
            },
        )
        .is_err()
    );
    let r = s.refund(
        &sale.sale_id,
        RefundRequest {
            lines: vec![],
            tender: Some(TenderKind::Card),
            restock: false,
        },
    )?;
    assert_eq!(r.amount.minor, 400);
    assert_eq!(r.tender, TenderKind::Card);
    assert_eq!(
        on_hand(&s, "BREAD")?,
        8,
        "restock: false leaves stock alone"
    );
    let d = s.sale(&sale.sale_id)?;
    assert_eq!(d.refunds.len(), 4);
    assert_eq!(d.summary.refunded.minor, d.summary.total.minor);
    assert!(d.lines.iter().all(|l| l.refunded_qty == l.qty));
    // Nothing is left.
    let err = s
        .refund(&sale.sale_id, RefundRequest::default())
        .err()
        .ok_or("refunded a fully refunded sale")?;
    assert!(err.to_string().contains("nothing left"), "{err}");

    // Refund-all of a fresh multi-line card sale: the whole total, stock back.
    let cart2 = [CartLine::new("JAM", 2), CartLine::new("BREAD", 1)];
    let due = s.quote(&cart2)?.total.minor;
    assert_eq!(due, 666 + 133 + 200);
    let sale2 = s.sell(&cart2, &[card(due)])?;
    assert_eq!(on_hand(&s, "JAM")?, 8);
    let all = s.refund(
        &sale2.sale_id,
        RefundRequest {
            restock: true,
            ..RefundRequest::default()
        },
    )?;
    assert_eq!(all.amount, sale2.total);
    assert_eq!(all.tender, TenderKind::Card, "card sale refunds to card");
    assert_eq!(on_hand(&s, "JAM")?, 10);
    assert_eq!(on_hand(&s, "BREAD")?, 8);
    verify_clean(&s)
}

#[test]
fn receive_and_adjust_with_each_reason() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = new_store(&dir, "stock.db")?;
    let sup = s.add_supplier(NewSupplier {
        name: "Acme".into(),
        ..NewSupplier::default()
    })?;
    s.add_product(NewProduct {
        barcodes: vec!["4242".into()],
        ..product("NAIL", "Nails", 5)
    })?;
    s.add_product(product("SCREW", "Screws", 7))?;
    let rid = s.receive(
        Some(&sup.id),
        &[
            ReceiveLine {
                code: "4242".into(),
                qty: 100,
                unit_cost: Some(2),
            },
            ReceiveLine {
                code: "SCREW".into(),
                qty: 50,
                unit_cost: None,
            },
        ],
    )?;
    assert_eq!(on_hand(&s, "NAIL")?, 100);
    assert_eq!(on_hand(&s, "SCREW")?, 50);
    let (kind, supplier): (String, Option<String>) = s.connection().query_row(
        "SELECT kind, supplier_id FROM stock_records WHERE id = ?1",
        [&rid],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    assert_eq!(kind, "receipt");
    assert_eq!(supplier.as_deref(), Some(sup.id.as_str()));

    let steps = [
        (AdjustReason::Damaged, -3, 97),
        (AdjustReason::Lost, -7, 90),
        (AdjustReason::Found, 4, 94),
        (AdjustReason::Correction, -10, 84),
        (AdjustReason::Correction, 6, 90),
    ];
    for (reason, delta, expect) in steps {
        let id = s.adjust("NAIL", delta, reason, Some(format!("{reason:?}")))?;
        assert_eq!(on_hand(&s, "NAIL")?, expect, "after {reason:?} {delta}");
        let (rec_reason, mv_kind, mv_delta): (String, String, i64) = s.connection().query_row(
            "SELECT r.reason, m.kind, m.delta FROM stock_records r JOIN stock_movements m ON m.record_id = r.id WHERE r.id = ?1",
            [&id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        assert_eq!(rec_reason, reason.as_str());
        assert_eq!(mv_kind, reason.as_str());
        assert_eq!(mv_delta, delta);
    }
    assert_eq!(on_hand(&s, "SCREW")?, 50, "other products untouched");
    // Stock may go negative through an adjustment (nothing is clamped).
    s.adjust("SCREW", -60, AdjustReason::Lost, None)?;
    assert_eq!(on_hand(&s, "SCREW")?, -10);
    verify_clean(&s)
}

#[test]
fn stock_count_whole_store_and_chosen_products() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = new_store(&dir, "count.db")?;
    // Every record is dated: the deliveries come before the counts.
    s.set_now(Some(at(2026, 3, 31, 9, 0)));
    for (sku, qty) in [("A", 10), ("B", 4), ("C", 7)] {
        s.add_product(product(sku, &format!("Product {sku}"), 100))?;
        receive(&mut s, sku, qty)?;
    }
    s.set_now(Some(at(2026, 4, 1, 9, 0)));
    let whole = s.count_start(CountScope::WholeStore)?;
    assert!(s.open_counts()?.contains(&whole));
    let view = s.count_view(&whole)?;
    assert_eq!(
        view.lines.len(),
        3,
        "a whole-store count lists every product"
    );
    assert!(view.lines.iter().all(|l| l.counted.is_none()));
    s.set_now(Some(at(2026, 4, 1, 9, 5)));
    let a = s.count_record(&whole, "A", 8)?;
    assert_eq!(
        (a.expected, a.counted, a.difference),
        (10, Some(8), Some(-2))
    );
    s.count_record(&whole, "B", 0)?;
    // A correction of a line replaces it.
    s.count_record(&whole, "A", 9)?;
    s.set_now(Some(at(2026, 4, 1, 9, 10)));
    let posted = s.count_post(&whole)?;
    assert_eq!(posted.status, CountStatus::Posted);
    let line = |sku: &str| posted.lines.iter().find(|l| l.sku == sku).cloned();
    assert_eq!(line("A").and_then(|l| l.difference), Some(-1));
    assert_eq!(line("B").and_then(|l| l.difference), Some(-4));
    assert_eq!(line("C").and_then(|l| l.counted), None);
    assert_eq!(on_hand(&s, "A")?, 9);
    assert_eq!(on_hand(&s, "B")?, 0, "counted zero is a count");
    assert_eq!(on_hand(&s, "C")?, 7, "not counted keeps its stock");
    let levels = s.stock_levels(None, false)?;
    let counted_at = |sku: &str| {
        levels
            .iter()
            .find(|l| l.sku == sku)
            .and_then(|l| l.last_counted_at)
    };
    assert_eq!(counted_at("A"), Some(at(2026, 4, 1, 9, 5)));
    assert_eq!(counted_at("C"), None);
    assert!(!s.open_counts()?.contains(&whole));
    // A posted count cannot be changed or posted again.
    assert!(s.count_record(&whole, "C", 1).is_err());
    assert!(s.count_post(&whole).is_err());

    // A count of chosen products.
    s.set_now(Some(at(2026, 4, 2, 9, 0)));
    let some = s.count_start(CountScope::Products(vec!["C".into()]))?;
    assert_eq!(s.count_view(&some)?.lines.len(), 1);
    let err = s
        .count_record(&some, "A", 1)
        .err()
        .ok_or("recorded a product outside the count")?;
    assert!(err.to_string().contains("not part of this count"), "{err}");
    // Nothing counted yet: nothing to post.
    assert!(s.count_post(&some).is_err());
    s.count_record(&some, "C", 3)?;
    s.count_post(&some)?;
    assert_eq!(on_hand(&s, "A")?, 9);
    assert_eq!(on_hand(&s, "C")?, 3);
    // Movements after a count add to it.
    s.set_now(Some(at(2026, 4, 2, 10, 0)));
    s.sell(&[CartLine::new("C", 1)], &[cash(100)])?;
    assert_eq!(on_hand(&s, "C")?, 2);
    verify_clean(&s)
}

#[test]
fn stock_levels_low_only_lists_low_and_negative() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = new_store(&dir, "low.db")?;
    let with_rp = |sku: &str, rp: Option<i64>| NewProduct {
        reorder_point: rp,
        ..product(sku, sku, 100)
    };
    s.add_product(with_rp("AT", Some(5)))?; // 5 on hand: at the reorder point
    s.add_product(with_rp("BELOW", Some(5)))?; // 2: below
    s.add_product(with_rp("ABOVE", Some(5)))?; // 6: fine
    s.add_product(with_rp("NEG", None))?; // −1: negative
    s.add_product(with_rp("ZERO", None))?; // 0, no reorder point: fine
    receive(&mut s, "AT", 5)?;
    receive(&mut s, "BELOW", 2)?;
    receive(&mut s, "ABOVE", 6)?;
    s.sell(&[CartLine::new("NEG", 1)], &[cash(100)])?;

    let all = s.stock_levels(None, false)?;
    assert_eq!(all.len(), 5);
    let low = s.stock_levels(None, true)?;
    let got: Vec<(String, i64, StockStatus)> = low
        .iter()
        .map(|l| (l.sku.clone(), l.on_hand, l.status))
        .collect();
    assert_eq!(
        got,
        vec![
            ("AT".to_string(), 5, StockStatus::Low),
            ("BELOW".to_string(), 2, StockStatus::Low),
            ("NEG".to_string(), -1, StockStatus::Negative),
        ]
    );
    let alerts: Vec<String> = s
        .negative_stock_alerts()?
        .into_iter()
        .map(|l| l.sku)
        .collect();
    assert_eq!(alerts, vec!["NEG"]);
    // Receiving lifts a product out of the low list.
    receive(&mut s, "AT", 1)?;
    assert!(!s.stock_levels(None, true)?.iter().any(|l| l.sku == "AT"));
    let ok = s.stock_levels(Some("ABOVE"), false)?;
    assert_eq!(ok[0].status, StockStatus::Ok);
    Ok(())
}

#[test]
fn sales_filter_and_z_report() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = new_store(&dir, "z.db")?;
    s.add_product(NewProduct {
        tax_class: Some("std".into()),
        ..product("WINE", "Wine", 1000)
    })?;
    s.add_product(NewProduct {
        tax_class: Some("incl".into()),
        ..product("BOOK", "Book", 1100)
    })?;
    s.add_product(product("CARD", "Greeting card", 250))?;
    receive(&mut s, "WINE", 50)?;
    receive(&mut s, "BOOK", 50)?;

    let day = at(2026, 3, 10, 12, 0);
    let date = local_date(day);
    // Day 1: three sales.
    s.set_now(Some(day));
    // 1 wine: 10.00 + 2.00 tax = 12.00; cash 20.00 → change 8.00
    let s1 = s.sell(&[CartLine::new("WINE", 1)], &[cash(2000)])?;
    s.set_now(Some(day + chrono::Duration::minutes(10)));
    // 2 books: 22.00 incl. 2.00 tax; card 22.00
    let s2 = s.sell(&[CartLine::new("BOOK", 2)], &[card(2200)])?;
    s.set_now(Some(day + chrono::Duration::minutes(20)));
    // wine + card, 20 % off the wine: 8.00 + 1.60 + 2.50 = 12.10; card 10.00 + cash 5.00 → change 2.90
    let s3 = s.sell(
        &[
            CartLine {
                discount_bp: 2000,
                ..CartLine::new("WINE", 1)
            },
            CartLine::new("CARD", 1),
        ],
        &[card(1000), cash(500)],
    )?;
    assert_eq!(s3.total.minor, 1210);
    assert_eq!(s3.change.minor, 290);
    // A refund of the first sale's wine, in cash, the same day.
    s.set_now(Some(day + chrono::Duration::minutes(30)));
    s.refund(
        &s1.sale_id,
        RefundRequest {
            lines: vec![("WINE".into(), 1)],
            tender: None,
            restock: true,
        },
    )?;
    // Day 2: one sale, not in day 1's report.
    let next = day + chrono::Duration::days(1);
    s.set_now(Some(next));
    let s4 = s.sell(&[CartLine::new("CARD", 2)], &[cash(500)])?;

    let z = s.z_report(date)?;
    assert_eq!(z.date, date);
    assert_eq!(z.sales_count, 3);
    assert_eq!(z.items_sold, 1 + 2 + 2);
    assert_eq!(z.gross_sales.minor, 1000 + 2200 + 1000 + 250);
    assert_eq!(z.discounts.minor, 200);
    let tenders: Vec<(TenderKind, i64)> =
        z.tenders.iter().map(|t| (t.kind, t.amount.minor)).collect();
    assert_eq!(
        tenders,
        vec![(TenderKind::Card, 3200), (TenderKind::Cash, 2500)]
    );
    assert_eq!(z.change_given.minor, 800 + 290);
    let tax: Vec<(Option<String>, u32, i64, i64)> = z
        .tax
        .iter()
        .map(|t| (t.tax_class.clone(), t.rate_bp, t.taxable.minor, t.tax.minor))
        .collect();
    assert_eq!(
        tax,
        vec![
            (None, 0, 250, 0),
            (Some("incl".to_string()), 1000, 2000, 200),
            (Some("std".to_string()), 2000, 1800, 360),
        ]
    );
    assert_eq!(z.refunds_count, 1);
    assert_eq!(z.refunds_total.minor, 1200);
    let rt: Vec<(TenderKind, i64)> = z
        .refunds_by_tender
        .iter()
        .map(|t| (t.kind, t.amount.minor))
        .collect();
    assert_eq!(rt, vec![(TenderKind::Cash, 1200)]);
    let totals = 1200 + 2200 + 1210;
    assert_eq!(z.net_sales.minor, totals - 1200);
    // Cash in: 20.00 + 5.00; change out 10.90; refunds out 12.00.
    assert_eq!(z.cash_expected.minor, 2500 - 1090 - 1200);

    let z2 = s.z_report(local_date(next))?;
    assert_eq!(z2.sales_count, 1);
    assert_eq!(z2.refunds_count, 0);
    assert_eq!(z2.cash_expected.minor, 500);
    let empty = s.z_report(local_date(day - chrono::Duration::days(5)))?;
    assert_eq!(empty.sales_count, 0);
    assert_eq!(empty.cash_expected.minor, 0);

    // Sales filters.
    let ids = |f: SalesFilter| -> Result<Vec<String>, CoreError> {
        Ok(s.sales(&f)?.into_iter().map(|x| x.sale_id).collect())
    };
    assert_eq!(
        ids(SalesFilter::default())?,
        vec![
            s4.sale_id.clone(),
            s3.sale_id.clone(),
            s2.sale_id.clone(),
            s1.sale_id.clone()
        ],
        "newest first"
    );
    assert_eq!(
        ids(SalesFilter {
            from: Some(date),
            to: Some(date),
            ..SalesFilter::default()
        })?,
        vec![s3.sale_id.clone(), s2.sale_id.clone(), s1.sale_id.clone()]
    );
    assert_eq!(
        ids(SalesFilter {
            from: Some(local_date(next)),
            ..SalesFilter::default()
        })?,
        vec![s4.sale_id.clone()]
    );
    assert_eq!(
        ids(SalesFilter {
            sku: Some("WINE".into()),
            ..SalesFilter::default()
        })?,
        vec![s3.sale_id.clone(), s1.sale_id.clone()]
    );
    assert_eq!(
        ids(SalesFilter {
            limit: Some(2),
            ..SalesFilter::default()
        })?,
        vec![s4.sale_id.clone(), s3.sale_id.clone()]
    );
    assert_eq!(
        ids(SalesFilter {
            till_id: Some(s.info().till_id.clone()),
            ..SalesFilter::default()
        })?
        .len(),
        4
    );
    assert!(
        ids(SalesFilter {
            till_id: Some("another-till".into()),
            ..SalesFilter::default()
        })?
        .is_empty()
    );
    let listed = s.sales(&SalesFilter {
        sku: Some("WINE".into()),
        ..SalesFilter::default()
    })?;
    let first = listed
        .iter()
        .find(|x| x.sale_id == s1.sale_id)
        .ok_or("sale 1 missing")?;
    assert_eq!(first.refunded.minor, 1200);
    assert_eq!(first.at, day);
    assert_eq!(first.items, 1);
    verify_clean(&s)
}

#[test]
fn csv_import_adds_updates_and_round_trips() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = new_store(&dir, "csv.db")?;
    s.add_supplier(NewSupplier {
        name: "Acme".into(),
        ..NewSupplier::default()
    })?;
    let first = "sku,name,price,barcode,tax_class,cost,reorder_point,supplier\n\
                 APL,Apple,0.50,1001;1002,std,0.20,10,Acme\n\
                 PEAR,Pear,0.75,,incl,,,\n";
    let mut stages = Vec::new();
    let sum = s.import_products_reader(first.as_bytes(), &mut |p| stages.push(p.stage))?;
    assert_eq!((sum.added, sum.updated, sum.unchanged), (2, 0, 0));
    assert_eq!(stages.last().map(String::as_str), Some("done"));
    let apl = s.product("APL")?;
    assert_eq!(apl.price.minor, 50);
    assert_eq!(apl.cost.map(|c| c.minor), Some(20));
    assert_eq!(apl.barcodes, vec!["1001".to_string(), "1002".to_string()]);
    assert_eq!(apl.reorder_point, Some(10));
    assert_eq!(apl.tax_class.as_deref(), Some("std"));
    assert!(apl.supplier.is_some());
    assert_eq!(s.product_by_code("1002")?.sku, "APL");

    // Columns in another order; one update, one unchanged, one new.
    let second = "name,sku,price,tax_class,barcode,cost,reorder_point,supplier\n\
                  Apple,APL,0.55,std,1001;1002,0.20,10,Acme\n\
                  Pear,PEAR,0.75,incl,,,,\n\
                  Plum,PLUM,1.20,,2001,,,\n";
    let sum = s.import_products_reader(second.as_bytes(), &mut |_| {})?;
    assert_eq!((sum.added, sum.updated, sum.unchanged), (1, 1, 1));
    let apl2 = s.product("APL")?;
    assert_eq!(apl2.id, apl.id, "an update keeps the product");
    assert_eq!(apl2.price.minor, 55);
    assert_eq!(apl2.cost.map(|c| c.minor), Some(20));
    assert_eq!(s.product("PLUM")?.price.minor, 120);

    let mut out = Vec::new();
    let n = s.export_products_csv(&mut out)?;
    assert_eq!(n, 3);
    let text = String::from_utf8(out.clone())?;
    assert!(
        text.starts_with("sku,name,price,barcode,tax_class,cost,reorder_point,supplier"),
        "{text}"
    );
    let again = s.import_products_reader(out.as_slice(), &mut |_| {})?;
    assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 3));

    // The same file into a fresh store recreates the same products.
    let mut t = new_store(&dir, "csv2.db")?;
    t.add_supplier(NewSupplier {
        name: "Acme".into(),
        ..NewSupplier::default()
    })?;
    s.edit_product(
        "PEAR",
        ProductEdit {
            supplier: Some(Some(s.suppliers()?[0].id.clone())),
            ..ProductEdit::default()
        },
    )?;
    let mut out = Vec::new();
    s.export_products_csv(&mut out)?;
    let sum = t.import_products_reader(out.as_slice(), &mut |_| {})?;
    assert_eq!((sum.added, sum.updated), (3, 0));
    let pear = t.product("PEAR")?;
    assert_eq!(pear.price.minor, 75);
    assert_eq!(pear.tax_class.as_deref(), Some("incl"));
    assert_eq!(
        pear.supplier.as_deref(),
        Some(t.suppliers()?[0].id.as_str()),
        "supplier by name maps to the local supplier"
    );
    verify_clean(&s)?;
    verify_clean(&t)
}

#[test]
fn the_till_keeps_its_language_across_reopening() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = new_store(&dir, "lang.db")?;
    assert_eq!(s.ui_language()?, "", "never chosen");
    s.set_ui_language("de")?;
    s.set_ui_language(" en ")?;
    s.set_ui_language("de")?;
    for bad in ["", "d", "de'; --", "deutsch-und-englisch"] {
        assert!(s.set_ui_language(bad).is_err(), "{bad:?} is not a tag");
    }
    drop(s);
    let s = Store::open(&dir.path().join("lang.db"))?;
    assert_eq!(s.ui_language()?, "de");
    Ok(())
}

/// The receipt paper is one of the sizes the till's print stylesheet knows;
/// anything else is refused, naming the choices, and changes nothing.
#[test]
fn receipt_paper_setting_takes_known_sizes_only() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = new_store(&dir, "paper.db")?;
    let paper = |s: &Store| -> Result<Option<String>, CoreError> {
        Ok(s.settings()?
            .into_iter()
            .find(|(k, _)| k == "receipt_paper")
            .map(|(_, v)| v))
    };
    assert_eq!(paper(&s)?, None, "unset until chosen (the till shows 80mm)");
    for size in ["58mm", "a4", "80mm"] {
        s.set_setting("receipt_paper", size)?;
        assert_eq!(paper(&s)?.as_deref(), Some(size));
    }
    let err = s
        .set_setting("receipt_paper", "110mm")
        .expect_err("an unknown paper size is refused");
    let text = err.to_string();
    assert!(
        text.contains("58mm") && text.contains("80mm") && text.contains("a4"),
        "the error names the choices: {text}"
    );
    assert_eq!(
        paper(&s)?.as_deref(),
        Some("80mm"),
        "the refused value changed nothing"
    );
    // Several at once: one refused value, none written.
    let err = s.set_settings(&[
        ("receipt_footer", "See you soon"),
        ("receipt_paper", "110mm"),
    ]);
    assert!(err.is_err(), "a refused value in the set is refused");
    assert!(
        !s.settings()?.iter().any(|(k, _)| k == "receipt_footer"),
        "the footer before the refused paper size was not written"
    );
    s.set_settings(&[
        ("receipt_footer", "See you soon"),
        ("receipt_paper", "58mm"),
    ])?;
    assert_eq!(paper(&s)?.as_deref(), Some("58mm"));
    Ok(())
}

/// A sale's change is stored as Automerge made it, uncompressed (deflating
/// it cost more than the rest of the Automerge work), under the hash that
/// its bytes decode to: sync and bundles find it by that hash.
#[test]
fn a_sales_change_is_stored_uncompressed_under_its_own_hash() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = Till::default().open(dir.path())?;
    standard_tax(&mut s)?;
    s.add_product(product(
        "TEA",
        "Green Tea With A Name Long Enough To Deflate",
        350,
    ))?;
    receive(&mut s, "TEA", 10)?;
    sell_cash(&mut s, "TEA", 2, 1_000)?;
    let (hash, bytes): (Vec<u8>, Vec<u8>) = s.connection().query_row(
        "SELECT hash, bytes FROM doc_changes WHERE local = 1 ORDER BY seq DESC LIMIT 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    assert!(
        bytes.len() > 256,
        "a sale's change is big enough to deflate"
    );
    // Chunk type, after the 4-byte magic and 4-byte checksum: 1 is a plain
    // change, 2 a compressed one.
    assert_eq!(bytes[8], 1, "stored uncompressed");
    let change = automerge::Change::try_from(bytes.as_slice())?;
    assert_eq!(change.hash().0.as_slice(), hash.as_slice());

    // A sale of hundreds of lines is deflated: raw, a long enough one could
    // pass the size a server takes in one change and stop this till's sync.
    let long_name = "Loose Leaf Tea ".repeat(16);
    s.add_product(product("LEAF", &long_name, 120))?;
    receive(&mut s, "LEAF", 1_000)?;
    let cart: Vec<CartLine> = (0..400).map(|_| CartLine::new("LEAF", 1)).collect();
    s.sell(&cart, &[cash(100_000)])?;
    let (hash, bytes): (Vec<u8>, Vec<u8>) = s.connection().query_row(
        "SELECT hash, bytes FROM doc_changes WHERE local = 1 ORDER BY seq DESC LIMIT 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    assert_eq!(bytes[8], 2, "stored deflated");
    let change = automerge::Change::try_from(bytes.as_slice())?;
    assert!(change.raw_bytes().len() > shopsync_core::docs::STORE_RAW_UP_TO);
    assert_eq!(change.hash().0.as_slice(), hash.as_slice());
    verify_clean(&s)
}

#[test]
fn the_product_csv_export_cannot_carry_a_spreadsheet_formula_and_still_round_trips() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = new_store(&dir, "formula.db")?;
    s.add_supplier(NewSupplier {
        name: "+Acme".into(),
        ..NewSupplier::default()
    })?;
    let names = [
        ("F1", "=HYPERLINK(\"http://x.invalid\",\"Click\")"),
        ("F2", "@SUM(1+1), \"quoted\""),
        ("F3", "-2+3"),
        ("F4", "'=already quoted"),
        ("F5", "'Tis the season"),
        ("F6", "''double"),
    ];
    for (sku, name) in names {
        s.add_product(NewProduct {
            supplier: s.suppliers()?.first().map(|x| x.id.clone()),
            ..product(sku, name, 100)
        })?;
    }
    let mut out = Vec::new();
    s.export_products_csv(&mut out)?;
    let text = String::from_utf8(out.clone())?;
    for row in text.lines().skip(1) {
        for cell in row.split(',') {
            let cell = cell.trim_start_matches('"');
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a cell a spreadsheet runs as a formula: {cell:?} in {text}"
            );
        }
    }
    assert!(text.contains("F5,'Tis the season,"), "{text}");
    assert!(text.contains("F4,''=already quoted,"), "{text}");
    // Back in, nothing changed; into a fresh store, the same names.
    let again = s.import_products_reader(out.as_slice(), &mut |_| {})?;
    assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 6));
    let mut t = new_store(&dir, "formula2.db")?;
    t.add_supplier(NewSupplier {
        name: "+Acme".into(),
        ..NewSupplier::default()
    })?;
    t.import_products_reader(out.as_slice(), &mut |_| {})?;
    for (sku, name) in names {
        assert_eq!(t.product(sku)?.name, name);
        assert!(t.product(sku)?.supplier.is_some());
    }
    Ok(())
}
