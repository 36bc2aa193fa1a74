//! Each command: parse arguments into core types, call the core, render.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use serde_json::json;
use shopsync_core::demo::DemoOptions;
use shopsync_core::types::{Currency, Progress};
use shopsync_core::{
    AdjustReason, CartLine, CoreError, CountScope, InitOptions, NewProduct, NewSupplier,
    ProductEdit, ReceiveLine, RefundRequest, Result, SalesFilter, Store, SupplierEdit,
    TaxClassEdit, TenderInput,
};

use crate::args::*;
use crate::output::{self, Output};
use crate::parse;
use crate::staff_cmd::Pins;

fn default_db() -> PathBuf {
    shopsync_core::store_file::default_store_file(
        &dirs::data_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("shopsync"),
    )
}

/// Progress on stderr when a person is watching; scripts see nothing.
fn progress() -> impl FnMut(Progress) {
    let tty = std::io::stderr().is_terminal();
    let mut last = std::time::Instant::now();
    move |p: Progress| {
        if tty && (last.elapsed().as_millis() > 200 || p.done == p.total) {
            last = std::time::Instant::now();
            if p.total > 0 {
                eprint!("\r{}: {}/{}   ", p.stage, p.done, p.total);
            } else {
                eprint!("\r{}: {}   ", p.stage, p.done);
            }
            if p.done == p.total && p.total > 0 {
                eprintln!();
            }
        }
    }
}

fn money(c: Currency, field: &str, text: &str) -> Result<i64> {
    c.parse(text)
        .map_err(shopsync_core::error::money_err(field))
}

/// `none` (or empty) clears an optional field.
fn clearable(text: Option<String>) -> Option<Option<String>> {
    text.map(|t| {
        if t.is_empty() || t.eq_ignore_ascii_case("none") {
            None
        } else {
            Some(t)
        }
    })
}

fn cart(store: &Store, args: &QuoteArgs) -> Result<Vec<CartLine>> {
    let known = |code: &str| store.product_by_code(code).is_ok();
    let mut lines = Vec::new();
    for token in &args.items {
        let (code, qty, price) = parse::item(token, store.currency(), &known)?;
        lines.push(CartLine {
            code,
            qty,
            unit_price: price,
            override_reason: price.and(args.reason.clone()),
            discount_bp: 0,
        });
    }
    for d in &args.discount {
        let (sku, bp) = parse::discount(d)?;
        let target = store.product_by_code(&sku)?;
        let mut applied = false;
        for line in &mut lines {
            if store
                .product_by_code(&line.code)
                .is_ok_and(|p| p.id == target.id)
            {
                line.discount_bp = bp;
                applied = true;
            }
        }
        if !applied {
            return Err(CoreError::invalid(
                "discount",
                format!("'{sku}' is not in this sale"),
            ));
        }
    }
    Ok(lines)
}

/// `--pay cash:AMOUNT …`, as `sell` and `order collect` take them.
fn tenders(store: &Store, pay: &[String]) -> Result<Vec<TenderInput>> {
    pay.iter()
        .map(|p| {
            let (kind, amount) = parse::tender(p, store.currency())?;
            Ok(TenderInput { kind, amount })
        })
        .collect()
}

fn open(db: &Path, pins: &Pins) -> Result<Store> {
    crate::staff_cmd::open_as(db, pins)
}

/// A staff id from `--staff`, which takes an id or a name.
fn staff_id(db: &Path, staff: Option<String>) -> Result<Option<String>> {
    match staff {
        Some(s) => Ok(Some(Store::open(db)?.staff_member(&s)?.id)),
        None => Ok(None),
    }
}

pub fn run(cli: Cli) -> Result<Output> {
    run_command(cli).map_err(crate::staff_cmd::explain)
}

fn run_command(cli: Cli) -> Result<Output> {
    // Staff PINs: `--pin` names who acts, except in `staff add`/`set-pin`,
    // where it is the new PIN (and who acts is the approving manager).
    let new_pin = cli.pin.clone();
    let pins = match cli.command {
        Command::Staff(_) => Pins::new(None, cli.approve_pin.clone()),
        _ => Pins::new(cli.pin.clone(), cli.approve_pin.clone()),
    };
    // A customer's device has its own file, never the till's.
    let db = cli.db.clone().unwrap_or_else(|| match cli.command {
        Command::Customer(_) => crate::customer_cmd::default_file(),
        _ => default_db(),
    });
    match cli.command {
        Command::Customer(a) => crate::customer_cmd::run(&db, a, cli.json),
        Command::Init(a) => {
            let store = Store::init_or_join(
                &db,
                InitOptions {
                    store_name: a.store_name.unwrap_or_default(),
                    till_name: a.till,
                    currency: a.currency,
                },
                a.from_bundle.as_deref(),
            )?;
            let info = store.info().clone();
            Output::new(
                format!(
                    "store {} ({}) created in {}\ntill {} ({})",
                    info.store_name,
                    info.store_id,
                    db.display(),
                    info.till_name,
                    info.till_id
                ),
                &info,
            )
        }
        Command::Info => {
            let store = open(&db, &pins)?;
            let info = store.info().clone();
            // -- clocks (issue 7, part 2) --
            let flags = store.clock_flags()?;
            let mut json = json!(info);
            if let Some(obj) = json.as_object_mut() {
                obj.insert("clock_flags".into(), json!(flags));
            }
            Output::new(
                format!(
                    "store {} ({})\ntill  {} ({})\ncurrency {}\nfile {}{}",
                    info.store_name,
                    info.store_id,
                    info.till_name,
                    info.till_id,
                    info.currency,
                    db.display(),
                    crate::output::clock_flags(&flags)
                ),
                &json,
            )
        }
        Command::Enrol(a) => crate::sync_cmd::enrol(&db, a),
        Command::Sync(a) => crate::sync_cmd::sync(&db, a, cli.json),
        Command::Product(cmd) => product(&db, &pins, cmd),
        Command::Supplier(cmd) => supplier(&db, &pins, cmd),
        Command::Category(cmd) => category(&db, &pins, cmd),
        Command::TaxClass(cmd) => {
            let mut store = open(&db, &pins)?;
            match cmd {
                TaxClassCmd::Set {
                    id,
                    rate,
                    name,
                    inclusive,
                    exclusive,
                } => {
                    let t = store.update_tax_class(TaxClassEdit {
                        id,
                        name,
                        rate_bp: rate
                            .as_deref()
                            .map(|r| parse::percent_bp(r, "rate"))
                            .transpose()?,
                        inclusive: if inclusive {
                            Some(true)
                        } else if exclusive {
                            Some(false)
                        } else {
                            None
                        },
                    })?;
                    Output::new(
                        format!(
                            "tax class {} ({}): {} bp, {}",
                            t.id,
                            t.name,
                            t.rate_bp,
                            if t.inclusive {
                                "inclusive"
                            } else {
                                "exclusive"
                            }
                        ),
                        &t,
                    )
                }
                TaxClassCmd::List => {
                    let list = store.tax_classes()?;
                    let human: String = list
                        .iter()
                        .map(|t| {
                            format!(
                                "{:<10} {:>6.2}%  {}  {}\n",
                                t.id,
                                f64::from(t.rate_bp) / 100.0,
                                if t.inclusive {
                                    "inclusive"
                                } else {
                                    "exclusive"
                                },
                                t.name
                            )
                        })
                        .collect();
                    Output::new(human, &list)
                }
            }
        }
        Command::Setting(cmd) => {
            let mut store = open(&db, &pins)?;
            match cmd {
                SettingCmd::Set { key, value } => {
                    store.set_setting(&key, &value)?;
                    Output::new(
                        format!("{key} = {value}"),
                        &json!({ "key": key, "value": value }),
                    )
                }
                SettingCmd::List => {
                    let list = store.settings()?;
                    let human: String = list.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
                    let map: serde_json::Map<String, serde_json::Value> =
                        list.into_iter().map(|(k, v)| (k, v.into())).collect();
                    Output::new(human, &map)
                }
            }
        }
        Command::Sell(a) => {
            let mut store = open(&db, &pins)?;
            let lines = cart(&store, &a.cart)?;
            let tenders = tenders(&store, &a.pay)?;
            let r = store.sell(&lines, &tenders)?;
            if a.print {
                crate::printer_cmd::print_after_sale(&store, &r)
            } else {
                Output::new(output::receipt(&r), &r)
            }
        }
        Command::Printer(cmd) => crate::printer_cmd::printer(&mut open(&db, &pins)?, cmd),
        Command::Receipt(ReceiptCmd::Print { sale }) => {
            crate::printer_cmd::reprint(&open(&db, &pins)?, &sale)
        }
        Command::Drawer(DrawerCmd::Open) => crate::printer_cmd::open_drawer(&open(&db, &pins)?),
        Command::Drawer(cmd) => crate::drawer_cmd::drawer(&mut open(&db, &pins)?, cmd),
        Command::Quote(a) => {
            let store = open(&db, &pins)?;
            let q = store.quote(&cart(&store, &a)?)?;
            let mut human: String = q
                .lines
                .iter()
                .map(|l| format!("{:>3} × {:<28} {:>9}\n", l.qty, l.name, l.total))
                .collect();
            human.push_str(&format!("tax {}\ntotal {}", q.tax, q.total));
            Output::new(human, &q)
        }
        Command::Refund(a) => {
            let mut store = open(&db, &pins)?;
            let known = |code: &str| store.product_by_code(code).is_ok();
            let mut lines = Vec::new();
            for token in &a.items {
                let (code, qty, price) = parse::item(token, store.currency(), &known)?;
                if price.is_some() {
                    return Err(CoreError::invalid(
                        "items",
                        "a refund takes SKUxQTY; amounts follow from the sale",
                    ));
                }
                lines.push((code, qty));
            }
            let tender = a.tender.as_deref().map(parse::tender_kind).transpose()?;
            let r = store.refund(
                &a.sale_id,
                RefundRequest {
                    lines,
                    tender,
                    restock: !a.no_restock,
                },
            )?;
            Output::new(
                format!(
                    "refund {} of {} to {}",
                    r.refund_id,
                    r.amount,
                    r.tender.as_str()
                ),
                &r,
            )
        }
        Command::Receive(a) => {
            let mut store = open(&db, &pins)?;
            let known = |code: &str| store.product_by_code(code).is_ok();
            let mut lines = Vec::new();
            for token in &a.items {
                let (code, qty, cost) = parse::item(token, store.currency(), &known)?;
                lines.push(ReceiveLine {
                    code,
                    qty,
                    unit_cost: cost,
                });
            }
            let id = store.receive(a.supplier.as_deref(), &lines)?;
            Output::new(format!("received ({id})"), &json!({ "receipt_id": id }))
        }
        Command::Adjust(a) => {
            let mut store = open(&db, &pins)?;
            let delta = parse::quantity(&a.delta, "delta")?;
            let reason: AdjustReason = a.reason.parse()?;
            let id = store.adjust(&a.sku, delta, reason, a.note)?;
            let level = store.stock_levels(Some(&a.sku), false)?;
            let on_hand = level.first().map_or(0, |l| l.on_hand);
            Output::new(
                format!("adjusted {} by {delta}: {on_hand} on hand", a.sku),
                &json!({ "adjustment_id": id, "sku": a.sku, "on_hand": on_hand }),
            )
        }
        Command::Count(cmd) => count(&db, &pins, cmd),
        Command::Reorder(cmd) => crate::purchase_cmd::reorder(&open(&db, &pins)?, cmd),
        Command::Po(cmd) => crate::purchase_cmd::po(&db, &pins, cmd),
        Command::Stock(a) => {
            let store = open(&db, &pins)?;
            let list = store.stock_levels(a.sku.as_deref(), a.low)?;
            Output::new(output::stock(&list), &list)
        }
        Command::Sales(a) => {
            let store = open(&db, &pins)?;
            let list = store.sales(&sales_filter(&db, a)?)?;
            Output::new(output::sales(&list), &list)
        }
        Command::Refunds(a) => {
            let store = open(&db, &pins)?;
            let list = store.refunds(&sales_filter(&db, a)?)?;
            Output::new(output::refunds(&list), &list)
        }
        Command::Staff(cmd) => crate::staff_cmd::run(&db, cmd, new_pin.as_deref(), &pins),
        Command::Sale { sale_id } => {
            let store = open(&db, &pins)?;
            let d = store.sale(&sale_id)?;
            Output::new(output::sale(&d), &d)
        }
        Command::Orders(a) => {
            let store = open(&db, &pins)?;
            let list = store.orders(a.all)?;
            Output::new(output::orders(&list, a.all, store.zone()), &list)
        }
        Command::Order(cmd) => order(&db, &pins, cmd),
        Command::Favourites(cmd) => crate::favourites_cmd::run(&mut open(&db, &pins)?, cmd),
        Command::Report(ReportCmd::Z { date, staff }) => {
            let store = open(&db, &pins)?;
            let date = match date {
                Some(d) => parse::date(&d)?,
                None => store.today(),
            };
            let staff = staff.map(|s| store.staff_member(&s)).transpose()?;
            let z = store.z_report_for(date, staff.as_ref().map(|m| m.id.as_str()))?;
            Output::new(
                output::z_report(&z, staff.as_ref().map(|m| m.name.as_str())),
                &z,
            )
        }
        Command::Bundle(BundleCmd::Export { file }) => {
            let store = open(&db, &pins)?;
            store.export_bundle_to(&file)?;
            let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            Output::new(
                format!("wrote {} ({size} bytes)", file.display()),
                &json!({ "file": file, "bytes": size }),
            )
        }
        Command::Bundle(BundleCmd::Import { file }) => {
            let mut store = open(&db, &pins)?;
            let s = store.import_bundle_from(&file)?;
            Output::new(
                format!(
                    "{} documents: {} new changes, {} already here",
                    s.documents, s.new_changes, s.known_changes
                ),
                &s,
            )
        }
        Command::Rebuild(a) => {
            let mut store = open(&db, &pins)?;
            let mut p = progress();
            if a.verify {
                let r = store.verify(&mut p)?;
                if !r.differences.is_empty() {
                    return Err(CoreError::Corrupt(format!(
                        "rebuilt projections differ from the live ones in {} places: {}",
                        r.differences.len(),
                        r.differences.join("; ")
                    )));
                }
                Output::new(
                    format!(
                        "ok: {} tables, {} rows identical after a rebuild{}",
                        r.tables_compared,
                        r.rows_compared,
                        crate::sync_cmd::quarantine_lines(
                            r.quarantined.len() as u64,
                            &r.quarantined[..r.quarantined.len().min(20)]
                        )
                    ),
                    &r,
                )
            } else {
                store.rebuild(&mut p)?;
                Output::new("projections rebuilt", &json!({ "rebuilt": true }))
            }
        }
        Command::Demo(a) => {
            let mut store = if db.exists() {
                open(&db, &pins)?
            } else {
                Store::init(
                    &db,
                    InitOptions {
                        store_name: "Demo Corner Shop".into(),
                        till_name: "Till 1".into(),
                        currency: "EUR".into(),
                    },
                )?
            };
            let opts = DemoOptions {
                products: a.products,
                days: a.days,
                tills: a.tills,
                sales_per_day: a.sales_per_day,
                seed: a.seed,
            };
            let s = store.demo(&opts, &mut progress())?;
            Output::new(
                format!(
                    "demo store {}: {} products, {} suppliers, {} sales over {} tills",
                    s.store_id, s.products, s.suppliers, s.sales, s.tills
                ),
                &s,
            )
        }
    }
}

fn sales_filter(db: &Path, a: SalesArgs) -> Result<SalesFilter> {
    Ok(SalesFilter {
        from: a.from.as_deref().map(parse::date).transpose()?,
        to: a.to.as_deref().map(parse::date).transpose()?,
        till_id: a.till,
        sku: a.sku,
        staff_id: staff_id(db, a.staff)?,
        limit: Some(a.limit),
    })
}

fn product(db: &Path, pins: &Pins, cmd: ProductCmd) -> Result<Output> {
    let mut store = open(db, pins)?;
    let c = store.currency();
    match cmd {
        ProductCmd::Add(a) => {
            let p = store.add_product(NewProduct {
                sku: a.sku,
                name: a.name,
                price: money(c, "price", &a.price)?,
                cost: a.cost.as_deref().map(|t| money(c, "cost", t)).transpose()?,
                barcodes: a.barcode,
                tax_class: a.tax_class,
                supplier: a.supplier,
                category: a
                    .category
                    .map(|c| store.category_by_ref(&c).map(|c| c.id))
                    .transpose()?,
                reorder_point: a.reorder_point,
                reorder_target: a.reorder_target,
            })?;
            Output::new(output::product(&p), &p)
        }
        ProductCmd::Edit(a) => {
            let barcodes = if a.barcode.is_empty() {
                None
            } else if a.barcode.iter().all(|b| b.eq_ignore_ascii_case("none")) {
                Some(Vec::new())
            } else {
                Some(a.barcode)
            };
            let edit = ProductEdit {
                sku: a.new_sku,
                name: a.name,
                price: a
                    .price
                    .as_deref()
                    .map(|t| money(c, "price", t))
                    .transpose()?,
                cost: clearable(a.cost)
                    .map(|v| v.map(|t| money(c, "cost", &t)).transpose())
                    .transpose()?,
                barcodes,
                tax_class: clearable(a.tax_class),
                supplier: clearable(a.supplier),
                category: clearable(a.category)
                    .map(|v| {
                        v.map(|c| store.category_by_ref(&c).map(|c| c.id))
                            .transpose()
                    })
                    .transpose()?,
                reorder_point: clearable(a.reorder_point)
                    .map(|v| v.map(|t| parse::quantity(&t, "reorder_point")).transpose())
                    .transpose()?,
                active: a.active,
                reorder_target: clearable(a.reorder_target)
                    .map(|v| v.map(|t| parse::quantity(&t, "reorder_target")).transpose())
                    .transpose()?,
            };
            let p = store.edit_product_ref(&a.sku, edit)?;
            Output::new(output::product(&p), &p)
        }
        ProductCmd::Archive { sku } => {
            let p = store.archive_product(&sku)?;
            Output::new(format!("{} archived", p.sku), &p)
        }
        ProductCmd::List {
            search,
            limit,
            all,
            category,
        } => {
            let list = match category {
                Some(c) => {
                    let id = store.category_by_ref(&c)?.id;
                    store.products_in_category(&id, search.as_deref().unwrap_or(""), limit, all)?
                }
                None => store.search_products(search.as_deref().unwrap_or(""), limit, all)?,
            };
            Output::new(output::products(&list), &list)
        }
        ProductCmd::Show { sku } => {
            let p = store.product_by_ref(&sku)?;
            Output::new(output::product(&p), &p)
        }
        ProductCmd::Merge { keep, other } => {
            let m = store.merge_products(&keep, &other)?;
            Output::new(
                format!(
                    "{} ({}) merged into {} ({}): archived, {} in stock moved",
                    m.archived.sku, m.archived.id, m.kept.sku, m.kept.id, m.moved_stock
                ),
                &m,
            )
        }
        ProductCmd::Import { file } => {
            let s = store.import_products_csv(&file, &mut progress())?;
            Output::new(
                format!(
                    "{} added, {} updated, {} unchanged",
                    s.added, s.updated, s.unchanged
                ),
                &s,
            )
        }
        ProductCmd::Export { file } => {
            let n = store.export_products_csv_to(&file)?;
            Output::new(
                format!("wrote {n} products to {}", file.display()),
                &json!({ "file": file, "products": n }),
            )
        }
    }
}

fn order(db: &Path, pins: &Pins, cmd: OrderCmd) -> Result<Output> {
    let mut store = open(db, pins)?;
    match cmd {
        OrderCmd::Show { id } => {
            let o = store.order(&id)?;
            Output::new(output::order(&o, store.zone()), &o)
        }
        OrderCmd::Accept { id, unavailable } => {
            let o = store.order_accept(&id, &unavailable)?;
            Output::new(output::order(&o, store.zone()), &o)
        }
        OrderCmd::Ready { id } => {
            let o = store.order_ready(&id)?;
            Output::new(output::order(&o, store.zone()), &o)
        }
        OrderCmd::Reject { id, reason } => {
            let o = store.order_reject(&id, &reason)?;
            Output::new(output::order(&o, store.zone()), &o)
        }
        OrderCmd::Collect { id, pay } => {
            let tenders = tenders(&store, &pay)?;
            let (o, r) = store.order_collect(&id, &tenders)?;
            Output::new(
                format!(
                    "{}\n{}",
                    output::receipt(&r),
                    output::order(&o, store.zone())
                ),
                &json!({ "order": o, "receipt": r }),
            )
        }
    }
}

fn category(db: &Path, pins: &Pins, cmd: CategoryCmd) -> Result<Output> {
    let mut store = open(db, pins)?;
    let one = |c: shopsync_core::types::Category| {
        let text = format!(
            "category {} ({}){}",
            c.name,
            c.id,
            if c.archived { ", archived" } else { "" }
        );
        Output::new(text, &c)
    };
    match cmd {
        CategoryCmd::Add { name } => one(store.add_category(&name)?),
        CategoryCmd::Rename { category, name } => one(store.rename_category(&category, &name)?),
        CategoryCmd::Archive { category } => one(store.set_category_archived(&category, true)?),
        CategoryCmd::Restore { category } => one(store.set_category_archived(&category, false)?),
        CategoryCmd::List { all } => {
            let list = store.categories(all)?;
            Output::new(output::categories(&list), &list)
        }
    }
}

fn supplier(db: &Path, pins: &Pins, cmd: SupplierCmd) -> Result<Output> {
    let mut store = open(db, pins)?;
    match cmd {
        SupplierCmd::Add {
            name,
            phone,
            email,
            notes,
        } => {
            let s = store.add_supplier(NewSupplier {
                name,
                phone,
                email,
                notes,
            })?;
            Output::new(format!("supplier {} ({})", s.name, s.id), &s)
        }
        SupplierCmd::Edit {
            id,
            name,
            phone,
            email,
            notes,
        } => {
            let s = store.edit_supplier(
                &id,
                SupplierEdit {
                    name,
                    phone: clearable(phone),
                    email: clearable(email),
                    notes: clearable(notes),
                },
            )?;
            Output::new(format!("supplier {} ({})", s.name, s.id), &s)
        }
        SupplierCmd::List => {
            let list = store.suppliers()?;
            Output::new(output::suppliers(&list), &list)
        }
    }
}

fn count(db: &Path, pins: &Pins, cmd: CountCmd) -> Result<Output> {
    let mut store = open(db, pins)?;
    match cmd {
        CountCmd::Start { skus } => {
            let scope = if skus.is_empty() {
                CountScope::WholeStore
            } else {
                CountScope::Products(skus)
            };
            let id = store.count_start(scope)?;
            Output::new(format!("count {id} started"), &json!({ "count_id": id }))
        }
        CountCmd::Record {
            count_id,
            sku,
            qty,
            recount,
        } => {
            let qty = parse::quantity(&qty, "qty")?;
            let line = if recount {
                store.count_recount(&count_id, &sku, qty)?
            } else {
                store.count_record(&count_id, &sku, qty)?
            };
            Output::new(
                format!("{}: counted {qty}, expected {}", line.sku, line.expected),
                &line,
            )
        }
        CountCmd::Show { count_id } => {
            let v = store.count_view(&count_id)?;
            Output::new(output::count(&v), &v)
        }
        CountCmd::Post { count_id } => {
            let v = store.count_post(&count_id)?;
            Output::new(output::count(&v), &v)
        }
        CountCmd::List => {
            let ids = store.open_counts()?;
            Output::new(
                if ids.is_empty() {
                    "no open counts".to_string()
                } else {
                    ids.join("\n")
                },
                &ids,
            )
        }
    }
}
