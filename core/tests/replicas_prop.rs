//! Replicas of one store doing random operations and exchanging bundles in
//! random orders end up with identical projections, and on each of them the
//! incrementally maintained projections equal a rebuild from the documents.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{Till, at, cash, receive, send, till_from};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use shopsync_core::types::{ErrorCode, TenderKind};
use shopsync_core::{
    AdjustReason, CartLine, CoreError, CountScope, NewProduct, NewTaxClass, ProductEdit,
    RefundRequest, SalesFilter, Store, TenderInput,
};

type BoxErr = Box<dyn std::error::Error>;

#[derive(Debug, Clone)]
enum Op {
    AddProduct {
        price: i64,
        taxed: bool,
    },
    EditPrice {
        product: usize,
        price: i64,
    },
    EditName {
        product: usize,
        variant: u8,
    },
    Sell {
        product: usize,
        qty: i64,
        second: Option<(usize, i64)>,
        discount_bp: u32,
        by_card: bool,
    },
    Refund {
        sale: usize,
        all: bool,
        restock: bool,
    },
    Receive {
        product: usize,
        qty: i64,
    },
    Adjust {
        product: usize,
        delta: i64,
        reason: u8,
    },
    CountStart {
        product: Option<usize>,
    },
    CountRecord {
        product: usize,
        counted: i64,
    },
    CountPost,
    /// A whole count in one step: start, record some products, post.
    CountNow {
        whole: bool,
        lines: Vec<(usize, i64)>,
    },
    Sync {
        to: usize,
    },
}

/// One step: which replica acts, how far its clock moves, and what it does.
#[derive(Debug, Clone)]
struct Step {
    replica: usize,
    /// Seconds added to the shared clock before this step; replicas also
    /// have a fixed skew, so records are not dated in arrival order.
    tick: i64,
    op: Op,
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (1i64..2_000, any::<bool>()).prop_map(|(price, taxed)| Op::AddProduct { price, taxed }),
        2 => (any::<usize>(), 1i64..2_000).prop_map(|(product, price)| Op::EditPrice { product, price }),
        1 => (any::<usize>(), 0u8..4).prop_map(|(product, variant)| Op::EditName { product, variant }),
        5 => (
            any::<usize>(),
            1i64..4,
            proptest::option::of((any::<usize>(), 1i64..3)),
            prop_oneof![Just(0u32), Just(1000u32), Just(3333u32)],
            any::<bool>()
        )
            .prop_map(|(product, qty, second, discount_bp, by_card)| Op::Sell {
                product,
                qty,
                second,
                discount_bp,
                by_card
            }),
        2 => (any::<usize>(), any::<bool>(), any::<bool>())
            .prop_map(|(sale, all, restock)| Op::Refund { sale, all, restock }),
        2 => (any::<usize>(), 1i64..20).prop_map(|(product, qty)| Op::Receive { product, qty }),
        1 => (any::<usize>(), prop_oneof![-5i64..0, 1i64..6], 0u8..4)
            .prop_map(|(product, delta, reason)| Op::Adjust { product, delta, reason }),
        1 => proptest::option::of(any::<usize>()).prop_map(|product| Op::CountStart { product }),
        2 => (any::<usize>(), 0i64..15).prop_map(|(product, counted)| Op::CountRecord { product, counted }),
        1 => Just(Op::CountPost),
        2 => (any::<bool>(), proptest::collection::vec((any::<usize>(), 0i64..15), 1..3))
            .prop_map(|(whole, lines)| Op::CountNow { whole, lines }),
        4 => (0usize..3).prop_map(|to| Op::Sync { to }),
    ]
}

fn scenario() -> impl Strategy<Value = (usize, Vec<i64>, Vec<Step>)> {
    (2usize..=3)
        .prop_flat_map(|n| {
            (
                Just(n),
                proptest::collection::vec(-120i64..120, n),
                proptest::collection::vec(
                    (0..n, 0i64..90, op_strategy()).prop_map(|(replica, tick, op)| Step {
                        replica,
                        tick,
                        op,
                    }),
                    1..28,
                ),
            )
        })
        .prop_map(|(n, skew, mut steps)| {
            for s in &mut steps {
                if let Op::Sync { to } = &mut s.op {
                    *to %= n;
                }
            }
            (n, skew, steps)
        })
}

/// Twenty minutes before the end of a month: longer runs cross into the next
/// month, so tills write to a second ledger partition.
fn base_time() -> DateTime<Utc> {
    at(2026, 6, 30, 23, 40)
}

/// Errors a valid call may give for random input (a refund of a refunded
/// sale, a count line outside the count, ...). Anything else is a failure.
fn expected_refusal(e: &CoreError) -> bool {
    matches!(
        e.code(),
        ErrorCode::InvalidInput | ErrorCode::NotFound | ErrorCode::Conflict | ErrorCode::Payment
    )
}

fn tolerate<T>(r: Result<T, CoreError>) -> Result<Option<T>, BoxErr> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if expected_refusal(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

struct Replica {
    store: Store,
    open_count: Option<String>,
    added: u32,
}

impl Replica {
    /// The SKUs this replica knows, in a stable order.
    fn skus(&self) -> Result<Vec<String>, CoreError> {
        let mut v: Vec<String> = self
            .store
            .search_products("", u32::MAX, false)?
            .into_iter()
            .map(|p| p.sku)
            .collect();
        v.sort();
        Ok(v)
    }

    fn pick(&self, i: usize) -> Result<Option<String>, CoreError> {
        let skus = self.skus()?;
        Ok(if skus.is_empty() {
            None
        } else {
            Some(skus[i % skus.len()].clone())
        })
    }
}

fn apply(r: &mut Replica, idx: usize, op: &Op, others: &mut [&mut Replica]) -> Result<(), BoxErr> {
    match op {
        Op::AddProduct { price, taxed } => {
            r.added += 1;
            let sku = format!("R{idx}-{}", r.added);
            r.store.add_product(NewProduct {
                sku: sku.clone(),
                name: format!("Item {sku}"),
                price: *price,
                tax_class: taxed.then(|| "vat".to_string()),
                reorder_point: Some(3),
                ..NewProduct::default()
            })?;
        }
        Op::EditPrice { product, price } => {
            if let Some(sku) = r.pick(*product)? {
                tolerate(r.store.edit_product(
                    &sku,
                    ProductEdit {
                        price: Some(*price),
                        ..ProductEdit::default()
                    },
                ))?;
            }
        }
        Op::EditName { product, variant } => {
            if let Some(sku) = r.pick(*product)? {
                let name = ["Red", "Green", "Blue", "Plain"][usize::from(*variant) % 4];
                tolerate(r.store.edit_product(
                    &sku,
                    ProductEdit {
                        name: Some(format!("{name} {sku}")),
                        ..ProductEdit::default()
                    },
                ))?;
            }
        }
        Op::Sell {
            product,
            qty,
            second,
            discount_bp,
            by_card,
        } => {
            let Some(sku) = r.pick(*product)? else {
                return Ok(());
            };
            let mut cart = vec![CartLine {
                discount_bp: *discount_bp,
                ..CartLine::new(sku, *qty)
            }];
            if let Some((p2, q2)) = second
                && let Some(sku2) = r.pick(*p2)?
            {
                cart.push(CartLine::new(sku2, *q2));
            }
            let total = r.store.quote(&cart)?.total.minor;
            let tender = if *by_card || total == 0 {
                TenderInput {
                    kind: if total == 0 {
                        TenderKind::Cash
                    } else {
                        TenderKind::Card
                    },
                    amount: total.max(1),
                }
            } else {
                cash(total + 50)
            };
            r.store.sell(&cart, &[tender])?;
        }
        Op::Refund { sale, all, restock } => {
            let sales = r.store.sales(&SalesFilter::default())?;
            if sales.is_empty() {
                return Ok(());
            }
            let id = sales[*sale % sales.len()].sale_id.clone();
            let detail = r.store.sale(&id)?;
            let lines = if *all {
                vec![]
            } else {
                let l = &detail.lines[*sale % detail.lines.len()];
                vec![(l.sku.clone(), 1)]
            };
            tolerate(r.store.refund(
                &id,
                RefundRequest {
                    lines,
                    tender: None,
                    restock: *restock,
                },
            ))?;
        }
        Op::Receive { product, qty } => {
            if let Some(sku) = r.pick(*product)? {
                receive(&mut r.store, &sku, *qty)?;
            }
        }
        Op::Adjust {
            product,
            delta,
            reason,
        } => {
            if let Some(sku) = r.pick(*product)? {
                let reason = [
                    AdjustReason::Damaged,
                    AdjustReason::Lost,
                    AdjustReason::Found,
                    AdjustReason::Correction,
                ][usize::from(*reason) % 4];
                r.store.adjust(&sku, *delta, reason, None)?;
            }
        }
        Op::CountStart { product } => {
            if r.open_count.is_some() {
                return Ok(());
            }
            let scope = match product {
                None => CountScope::WholeStore,
                Some(p) => match r.pick(*p)? {
                    Some(sku) => CountScope::Products(vec![sku]),
                    None => return Ok(()),
                },
            };
            r.open_count = Some(r.store.count_start(scope)?);
        }
        Op::CountRecord { product, counted } => {
            let (Some(id), Some(sku)) = (r.open_count.clone(), r.pick(*product)?) else {
                return Ok(());
            };
            // Outside a chosen-products count: refused, and that is fine.
            tolerate(r.store.count_record(&id, &sku, *counted))?;
        }
        Op::CountPost => {
            if let Some(id) = r.open_count.clone()
                && tolerate(r.store.count_post(&id))?.is_some()
            {
                r.open_count = None;
            }
        }
        Op::CountNow { whole, lines } => {
            let mut skus = Vec::new();
            for (p, _) in lines {
                if let Some(sku) = r.pick(*p)? {
                    skus.push(sku);
                }
            }
            if skus.is_empty() {
                return Ok(());
            }
            let id = r.store.count_start(if *whole {
                CountScope::WholeStore
            } else {
                CountScope::Products(skus.clone())
            })?;
            for (sku, (_, counted)) in skus.iter().zip(lines) {
                r.store.count_record(&id, sku, *counted)?;
            }
            r.store.count_post(&id)?;
        }
        Op::Sync { to } => {
            // `to` indexes the other replicas (self excluded).
            if !others.is_empty() {
                let n = others.len();
                send(&r.store, &mut others[*to % n].store)?;
            }
        }
    }
    Ok(())
}

fn run(n: usize, skew: &[i64], steps: &[Step]) -> Result<(), BoxErr> {
    let dir = tempfile::tempdir()?;
    let mut first = Till {
        file: "r0.db",
        store: "Replicated",
        name: "R0",
        now: Some(base_time()),
        ..Till::default()
    }
    .open(dir.path())?;
    first.set_tax_class(NewTaxClass {
        id: "vat".into(),
        name: "VAT".into(),
        rate_bp: 2000,
        inclusive: false,
    })?;
    first.add_product(NewProduct {
        sku: "BASE".into(),
        name: "Base product".into(),
        price: 500,
        tax_class: Some("vat".into()),
        reorder_point: Some(2),
        ..NewProduct::default()
    })?;
    let mut replicas = vec![Replica {
        store: first,
        open_count: None,
        added: 0,
    }];
    for i in 1..n {
        let store = till_from(dir.path(), &replicas[0].store, &format!("R{i}"), None)?;
        replicas.push(Replica {
            store,
            open_count: None,
            added: 0,
        });
    }

    let mut clock = base_time();
    for (k, step) in steps.iter().enumerate() {
        // Every step gets a later time; each replica's clock is off by its skew.
        clock += Duration::seconds(step.tick) + Duration::milliseconds(1);
        let idx = step.replica % n;
        let when = clock + Duration::seconds(skew[idx]);
        let (before, rest) = replicas.split_at_mut(idx);
        let Some((me, after)) = rest.split_first_mut() else {
            return Err("replica index out of range".into());
        };
        me.store.set_now(Some(when));
        let mut others: Vec<&mut Replica> = before.iter_mut().chain(after.iter_mut()).collect();
        apply(me, idx, &step.op, &mut others)
            .map_err(|e| format!("step {k} ({step:?}) on R{idx}: {e}"))?;
    }

    // Everyone exchanges with everyone until nothing new moves.
    let mut rounds = 0;
    loop {
        let mut moved = 0;
        for i in 0..n {
            for j in 0..n {
                if i != j {
                    let (a, b) = if i < j {
                        let (x, y) = replicas.split_at_mut(j);
                        (&x[i].store, &mut y[0].store)
                    } else {
                        let (x, y) = replicas.split_at_mut(i);
                        (&y[0].store, &mut x[j].store)
                    };
                    moved += send(a, b)?;
                }
            }
        }
        rounds += 1;
        if moved == 0 {
            break;
        }
        if rounds > 4 {
            return Err("bundles kept bringing new changes".into());
        }
    }

    for (i, r) in replicas.iter().enumerate() {
        let report = r.store.verify(&mut |_| {})?;
        if !report.differences.is_empty() {
            return Err(format!("R{i}: incremental != rebuild: {:?}", report.differences).into());
        }
        if i > 0 {
            let (diffs, rows) = shopsync_core::projection::rebuild::compare(
                replicas[0].store.connection(),
                r.store.connection(),
            )?;
            if !diffs.is_empty() {
                return Err(format!("R0 and R{i} differ: {diffs:?}").into());
            }
            if rows == 0 {
                return Err("nothing was compared".into());
            }
        }
    }
    // The replicas agree on what matters to a user too.
    let levels: Vec<_> = replicas
        .iter()
        .map(|r| r.store.stock_levels(None, false))
        .collect::<Result<_, _>>()?;
    for l in &levels[1..] {
        if l != &levels[0] {
            return Err(format!("stock levels differ: {:?} against {:?}", levels[0], l).into());
        }
    }
    // money: no refund line of zero or fewer units is ever written, and every
    // replica flags the same over-refunded sales.
    let mut flags = Vec::new();
    for (i, r) in replicas.iter().enumerate() {
        let bad: i64 = r.store.connection().query_row(
            "SELECT COUNT(*) FROM refund_lines WHERE qty <= 0",
            [],
            |row| row.get(0),
        )?;
        if bad > 0 {
            return Err(format!("R{i}: {bad} refund lines of zero or fewer units").into());
        }
        let mut f: Vec<(String, bool)> = r
            .store
            .sales(&SalesFilter::default())?
            .into_iter()
            .map(|s| (s.sale_id, s.over_refunded))
            .collect();
        f.sort();
        flags.push(f);
    }
    if flags.iter().any(|f| f != &flags[0]) {
        return Err(format!("over-refunded flags differ: {flags:?}").into());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        // PROPTEST_CASES=500 for a longer local run.
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20),
        max_shrink_iters: 200,
        ..ProptestConfig::default()
    })]

    #[test]
    fn replicas_converge_and_projections_rebuild((n, skew, steps) in scenario()) {
        run(n, &skew, &steps).map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
}
