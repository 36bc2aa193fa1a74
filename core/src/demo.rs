//! `shopsync demo`: a store full of realistic data — products, suppliers, tax
//! classes, deliveries and weeks of sales across several tills — for trying
//! the app and for benchmarks.

use automerge::{
    ActorId, AutoCommit, ROOT, ScalarValue, transaction::CommitOptions, transaction::Transactable,
};
use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shopsync_types::{Progress, TenderKind};

use crate::bundle::apply_document;
use crate::error::{CoreError, Result};
use crate::ids::{DocId, new_id};
use crate::ops::{NewProduct, NewSupplier, NewTaxClass};
use crate::pricing::{TaxRule, price_line};
use crate::records::{ReceiptLine, ReceiptRecord, Record, SaleLine, SaleRecord, Tender};
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub products: u32,
    pub days: u32,
    pub tills: u32,
    /// Sales per till per day.
    pub sales_per_day: u32,
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            products: 2_000,
            days: 28,
            tills: 3,
            sales_per_day: 120,
            seed: 42,
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoSummary {
    pub store_id: String,
    pub products: u64,
    pub suppliers: u64,
    pub sales: u64,
    pub tills: u64,
}

const ADJECTIVES: &[&str] = &[
    "Organic",
    "Fresh",
    "Classic",
    "Smoked",
    "Wholegrain",
    "Free-range",
    "Sparkling",
    "Dark",
    "Mild",
    "Extra",
    "Local",
    "Crunchy",
    "Salted",
    "Sweet",
    "Spicy",
    "Light",
];
const NOUNS: &[&str] = &[
    "Milk",
    "Bread",
    "Butter",
    "Cheddar",
    "Eggs",
    "Apples",
    "Bananas",
    "Coffee",
    "Tea",
    "Orange Juice",
    "Pasta",
    "Rice",
    "Tomatoes",
    "Olive Oil",
    "Chocolate",
    "Yoghurt",
    "Water",
    "Crisps",
    "Honey",
    "Oats",
    "Ham",
    "Salmon",
    "Soap",
    "Toothpaste",
    "Batteries",
    "Candles",
    "Flour",
    "Sugar",
    "Lemonade",
    "Biscuits",
];
const SIZES: &[&str] = &[
    "100g",
    "250g",
    "500g",
    "1kg",
    "330ml",
    "500ml",
    "1L",
    "2L",
    "6 pack",
    "12 pack",
    "single",
    "family size",
];
const SUPPLIERS: &[&str] = &[
    "Green Valley Farms",
    "Northside Dairy",
    "Harbour Fish Co.",
    "Sunrise Bakery",
    "Alpine Beverages",
    "Meadow Fresh",
    "City Wholesale",
    "Coastal Imports",
    "Hillside Orchards",
    "Home Essentials Ltd",
    "Prime Pantry",
    "Riverbend Mills",
];

struct DemoProduct {
    id: String,
    sku: String,
    name: String,
    price: i64,
    tax: Option<(String, TaxRule)>,
}

fn make_sale(
    rng: &mut StdRng,
    products: &[DemoProduct],
    id: String,
    number: String,
    seq: u64,
    at: i64,
) -> Result<SaleRecord> {
    let n_lines = rng.random_range(1..=4usize);
    let mut lines = Vec::with_capacity(n_lines);
    let (mut subtotal, mut discount, mut tax, mut total) = (0, 0, 0, 0);
    for _ in 0..n_lines {
        // A fifth of the range sells most: pick from the front more often.
        let idx = if rng.random_bool(0.7) {
            rng.random_range(0..products.len().div_ceil(5))
        } else {
            rng.random_range(0..products.len())
        };
        let p = &products[idx];
        let qty = rng.random_range(1..=3);
        let disc = if rng.random_bool(0.05) { 1000 } else { 0 };
        let rule = p.tax.as_ref().map(|(_, r)| *r);
        let priced = price_line(qty, p.price, disc, rule)?;
        subtotal += priced.amount;
        discount += priced.discount;
        tax += priced.tax;
        total += priced.total;
        lines.push(SaleLine {
            product_id: p.id.clone(),
            sku: p.sku.clone(),
            name: p.name.clone(),
            qty,
            unit_price: p.price,
            override_reason: None,
            discount_bp: disc,
            discount: priced.discount,
            tax_class: p.tax.as_ref().map(|(c, _)| c.clone()),
            tax_rate_bp: rule.map_or(0, |r| r.rate_bp),
            tax_inclusive: rule.is_some_and(|r| r.inclusive),
            tax: priced.tax,
            total: priced.total,
        });
    }
    let (tenders, change) = if rng.random_bool(0.45) {
        // Cash, rounded up to the next 5 or 10 units.
        let step = if total > 2_000 { 1_000 } else { 500 };
        let given = (total / step + 1) * step;
        (
            vec![Tender {
                kind: TenderKind::Cash,
                amount: given,
            }],
            given - total,
        )
    } else {
        (
            vec![Tender {
                kind: TenderKind::Card,
                amount: total,
            }],
            0,
        )
    };
    Ok(SaleRecord {
        id,
        number,
        seq,
        at,
        lines,
        tenders,
        subtotal,
        discount,
        tax,
        total,
        change,
        // Generated history is dated in the past: its causal stamp is its date.
        hlc: Some(at),
        staff_id: None,
        approver_id: None,
        drawer_session: None,
    })
}

impl Store {
    pub fn demo(
        &mut self,
        opts: &DemoOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<DemoSummary> {
        if opts.products == 0 || opts.tills == 0 {
            return Err(CoreError::invalid(
                "demo",
                "a demo needs at least one product and one till",
            ));
        }
        let mut rng = StdRng::seed_from_u64(opts.seed);
        let now = self.now_ms();

        progress(Progress {
            stage: "catalog".into(),
            done: 0,
            total: u64::from(opts.products),
        });
        let taxes = [
            ("std", "Standard", 2000u32),
            ("reduced", "Reduced", 550),
            ("zero", "Zero-rated", 0),
        ];
        for (id, name, rate) in taxes {
            self.set_tax_class(NewTaxClass {
                id: id.into(),
                name: name.into(),
                rate_bp: rate,
                inclusive: true,
            })?;
        }
        let mut supplier_ids = Vec::new();
        for name in SUPPLIERS {
            supplier_ids.push(
                self.add_supplier(NewSupplier {
                    name: (*name).into(),
                    phone: Some(format!("+44 20 7946 {:04}", rng.random_range(0..10_000))),
                    email: None,
                    notes: None,
                })?
                .id,
            );
        }
        let offset = self.search_products("", u32::MAX, true)?.len();
        let mut items = Vec::with_capacity(opts.products as usize);
        for i in 0..opts.products as usize {
            let n = offset + i + 1;
            let name = format!(
                "{} {} {}",
                ADJECTIVES[rng.random_range(0..ADJECTIVES.len())],
                NOUNS[rng.random_range(0..NOUNS.len())],
                SIZES[rng.random_range(0..SIZES.len())]
            );
            let price = rng.random_range(39..2_500);
            items.push((
                None,
                NewProduct {
                    sku: format!("P{n:06}"),
                    name,
                    price,
                    cost: Some(price * 6 / 10),
                    barcodes: vec![format!("20{n:011}")],
                    tax_class: Some(taxes[rng.random_range(0..taxes.len())].0.to_string()),
                    supplier: Some(supplier_ids[n % supplier_ids.len()].clone()),
                    category: None,
                    reorder_point: Some(rng.random_range(3..15)),
                    reorder_target: None,
                },
            ));
        }
        let total_products = items.len() as u64;
        self.upsert_products(items, &mut |done| {
            progress(Progress {
                stage: "catalog".into(),
                done,
                total: total_products,
            });
        })?;
        let rules: std::collections::HashMap<String, TaxRule> = self
            .tax_classes()?
            .into_iter()
            .map(|t| {
                (
                    t.id,
                    TaxRule {
                        rate_bp: t.rate_bp,
                        inclusive: t.inclusive,
                    },
                )
            })
            .collect();
        let products: Vec<DemoProduct> = self
            .search_products("", u32::MAX, false)?
            .into_iter()
            .map(|p| DemoProduct {
                tax: p
                    .tax_class
                    .as_ref()
                    .and_then(|c| rules.get(c).map(|r| (c.clone(), *r))),
                id: p.id,
                sku: p.sku,
                name: p.name,
                price: p.price.minor,
            })
            .collect();

        // Opening stock, delivered before the first day of sales.
        let start = now - i64::from(opts.days) * 86_400_000;
        let sales_per_day = i64::from(opts.sales_per_day) * i64::from(opts.tills);
        let mut receipt_lines: Vec<ReceiptLine> = Vec::new();
        for p in &products {
            let expected = sales_per_day * i64::from(opts.days) * 5 / products.len() as i64;
            receipt_lines.push(ReceiptLine {
                product_id: p.id.clone(),
                qty: rng.random_range(10..40) + expected,
                unit_cost: Some(p.price * 6 / 10),
            });
        }
        let supplier = supplier_ids.first().cloned();
        // One receipt per MAX_LINES products: a record holds at most that
        // many lines (validate::rules), and a 100k catalog is bigger.
        self.write(|w| {
            for lines in receipt_lines.chunks(crate::validate::MAX_LINES) {
                w.append(&Record::Receipt(ReceiptRecord {
                    id: new_id(),
                    at: start - 3_600_000,
                    supplier_id: supplier.clone(),
                    lines: lines.to_vec(),
                    hlc: Some(start - 3_600_000),
                    staff_id: None,
                    approver_id: None,
                    order_id: None,
                }))?;
            }
            Ok(())
        })?;

        let total_sales =
            u64::from(opts.days) * u64::from(opts.tills) * u64::from(opts.sales_per_day);
        let mut made = 0u64;
        let day_times = |rng: &mut StdRng, day: u32| -> Vec<i64> {
            // Opening hours 08:00-20:00 UTC, busier around midday.
            let base = start + i64::from(day) * 86_400_000;
            let mut times: Vec<i64> = (0..opts.sales_per_day)
                .map(|_| {
                    let h: f64 = 8.0 + 12.0 * (rng.random::<f64>() + rng.random::<f64>()) / 2.0;
                    base + (h * 3_600_000.0) as i64 - base.rem_euclid(86_400_000)
                })
                .collect();
            times.sort_unstable();
            times
        };

        // This till: through the normal write path, a day per transaction.
        for day in 0..opts.days {
            let times = day_times(&mut rng, day);
            let till_name = self.info.till_name.clone();
            let mut err = None;
            self.write(|w| {
                for at in times.iter().copied().filter(|t| *t < now) {
                    let seq = w.next_sale_seq()?;
                    let sale = make_sale(
                        &mut rng,
                        &products,
                        new_id(),
                        format!("{till_name}-{seq:06}"),
                        seq,
                        at,
                    )?;
                    w.append(&Record::Sale(sale))?;
                    made += 1;
                }
                Ok(())
            })
            .unwrap_or_else(|e| err = Some(e));
            if let Some(e) = err {
                return Err(e);
            }
            progress(Progress {
                stage: "sales".into(),
                done: made,
                total: total_sales,
            });
        }

        // Other tills: their own documents, merged as if they had synced.
        for t in 2..=opts.tills {
            let till_id = new_id();
            let actor = ActorId::random();
            let mut seq = 0u64;
            // One document per partition for the whole month: a weekly flush
            // sends only the changes made since the last one. (Starting a new
            // document with the same actor would reuse sequence numbers.)
            let mut partition: Option<(DocId, AutoCommit, Vec<automerge::ChangeHash>)> = None;
            let flush = |store: &mut Store,
                         part: &mut Option<(DocId, AutoCommit, Vec<automerge::ChangeHash>)>|
             -> Result<()> {
                if let Some((id, doc, sent)) = part.as_mut() {
                    let changes = doc.get_changes(sent);
                    if !changes.is_empty() {
                        store.write(|w| {
                            apply_document(
                                w.conn,
                                w.docs,
                                id,
                                changes,
                                w.now,
                                crate::quarantine::Projecting::Careful,
                            )
                            .map(|_| ())
                        })?;
                    }
                    *sent = doc.get_heads();
                }
                Ok(())
            };
            for day in 0..opts.days {
                for at in day_times(&mut rng, day).into_iter().filter(|t| *t < now) {
                    let when = DateTime::<Utc>::from_timestamp_millis(at).unwrap_or_default();
                    let doc_id = DocId::ledger(&self.info.store_id, &till_id, when, 1);
                    if partition.as_ref().is_none_or(|(id, _, _)| *id != doc_id) {
                        flush(self, &mut partition)?;
                        partition = Some((
                            doc_id,
                            AutoCommit::new().with_actor(actor.clone()),
                            Vec::new(),
                        ));
                    }
                    seq += 1;
                    let sale = make_sale(
                        &mut rng,
                        &products,
                        new_id(),
                        format!("Till {t}-{seq:06}"),
                        seq,
                        at,
                    )?;
                    if let Some((_, doc, _)) = partition.as_mut() {
                        doc.put(
                            ROOT,
                            sale.id.as_str(),
                            ScalarValue::Bytes(Record::Sale(sale.clone()).encode()?),
                        )?;
                        doc.commit_with(CommitOptions::default().with_time(at / 1000));
                    }
                    made += 1;
                }
                if day % 7 == 6 {
                    flush(self, &mut partition)?;
                }
                progress(Progress {
                    stage: "sales".into(),
                    done: made,
                    total: total_sales,
                });
            }
            flush(self, &mut partition)?;
        }
        Ok(DemoSummary {
            store_id: self.info.store_id.clone(),
            products: products.len() as u64,
            suppliers: supplier_ids.len() as u64,
            sales: made,
            tills: u64::from(opts.tills),
        })
    }
}
