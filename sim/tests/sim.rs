//! The shop simulator as a test: regression histories, a few seeded ones,
//! and proof that its checks fail when the shop and the tills disagree.
//! (`.ci/run` also runs `shopsync-sim --seeds 300` in release: see
//! scripts/test.sh.)

use shopsync_sim::world::World;
use shopsync_sim::{History, check, run};

type R = anyhow::Result<()>;

/// (seed, the events kept if shrunk, what broke)
type Regression = (u64, Option<Vec<usize>>, String);

fn regressions() -> anyhow::Result<Vec<Regression>> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/regressions.txt"))?;
    let mut out = Vec::new();
    for line in text.lines() {
        let (body, note) = line.split_once('#').unwrap_or((line, ""));
        let mut parts = body.split_whitespace();
        let Some(seed) = parts.next() else { continue };
        let keep = parts
            .next()
            .map(|k| {
                k.split(',')
                    .map(str::parse)
                    .collect::<Result<Vec<usize>, _>>()
            })
            .transpose()?;
        out.push((seed.parse()?, keep, note.trim().to_string()));
    }
    Ok(out)
}

#[test]
fn every_regression_history_passes() -> R {
    let cases = regressions()?;
    assert!(
        cases.len() >= 8,
        "the regression file lists the seeds found"
    );
    for (seed, keep, note) in cases {
        let mut h = History::generate(seed, 0);
        if let Some(k) = &keep {
            h = h.keep(k);
            assert_eq!(
                h.steps.len(),
                k.len(),
                "seed {seed}: every kept event exists"
            );
        }
        if let Err(f) = run(&h) {
            panic!("seed {seed} ({note}) fails again: {}", f.message);
        }
    }
    Ok(())
}

#[test]
fn seeded_histories_pass() -> R {
    let n: u64 = std::env::var("SIM_TEST_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    for seed in 10_000..10_000 + n {
        if let Err(f) = run(&History::generate(seed, 0)) {
            panic!(
                "seed {seed} fails ({}): {}\nreplay: SIM_SEED={seed} cargo run --release -p shopsync-sim",
                f.kind, f.message
            );
        }
    }
    Ok(())
}

#[test]
fn a_replayed_seed_gives_the_same_trace() -> R {
    let h = History::generate(3, 0);
    let a = run(&h).map_err(|f| anyhow::anyhow!(f.message))?;
    let b = run(&h).map_err(|f| anyhow::anyhow!(f.message))?;
    assert!(a.len() > 20, "a real history: {} lines", a.len());
    assert_eq!(
        a, b,
        "the same seed replays exactly (ids, numbers, outcomes)"
    );
    Ok(())
}

/// Plays `seed` to the end and syncs, without checking.
fn settled(seed: u64) -> anyhow::Result<World> {
    let h = History::generate(seed, 60);
    shopsync_core::ids::seed_ids_on_this_thread(Some(seed));
    let mut w = World::new(&h)?;
    for (i, dt, e) in &h.steps {
        w.step = *i;
        w.apply(*dt, e)?;
    }
    w.settle()?;
    shopsync_core::ids::seed_ids_on_this_thread(None);
    Ok(w)
}

#[test]
fn the_checks_pass_on_an_honest_history_and_catch_goods_nobody_recorded() -> R {
    let mut w = settled(10_001)?;
    check::all(&mut w)?;
    // Goods vanish from a shelf with no record of it.
    let p = w.shelves.iter().position(|q| *q > 0).unwrap_or(0);
    w.shelves[p] -= 1;
    w.clocks_were_wrong = false;
    w.clock_wrong_unseen = false;
    w.lost_products.clear();
    let err = check::all(&mut w)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("nothing reported explains it"),
        "the shelf check failed: {err}"
    );
    Ok(())
}

#[test]
fn the_checks_catch_a_till_that_differs_from_the_others() -> R {
    let mut w = settled(10_002)?;
    check::all(&mut w)?;
    // One till loses a projected row behind the documents' back.
    let s = w.tills[1].store()?;
    let n = s.connection().execute(
        "DELETE FROM sale_tenders WHERE sale_id = (SELECT MIN(sale_id) FROM sale_tenders)",
        [],
    )?;
    assert_eq!(n, 1, "the history has a sale");
    let err = check::all(&mut w)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("differ from a rebuild"),
        "the rebuild check failed: {err}"
    );
    Ok(())
}

/// Puts an order (and, with `accept`, the shop's acceptance of it) in
/// customer 0's documents without syncing them: what only the customer
/// believes.
fn customer_believes(w: &mut World, accept: bool) -> anyhow::Result<String> {
    use automerge::{ROOT, ScalarValue, transaction::Transactable};
    use shopsync_core::ids::DocId;
    use shopsync_core::orders::customer_side;
    use shopsync_core::orders::records::{Accept, OrderRecord, OrderRequest, RequestLine};
    let store = w.store_id.clone();
    let sku = w.skus[0].clone();
    let cu = &mut w.customers[0];
    let id = "order-only-the-customer-knows".to_string();
    let name = cu.name.clone();
    customer_side::put_order(
        cu.doc(&DocId::order_requests(&store, &cu.id)),
        OrderRequest {
            id: id.clone(),
            customer_name: name,
            list_id: None,
            list_name: "Shopping".into(),
            note: None,
            sent_at: 1,
            lines: vec![RequestLine {
                line: 1,
                sku: Some(sku),
                text: "two".into(),
                qty: 2,
            }],
        },
    )?;
    if accept {
        let r = OrderRecord::Accept(Accept {
            order: id.clone(),
            till: "some-till".into(),
            at: 2,
            unavailable: Vec::new(),
        });
        cu.doc(&DocId::order_status(&store, &cu.id)).put(
            ROOT,
            r.key().as_str(),
            ScalarValue::Bytes(r.encode()?),
        )?;
    }
    Ok(id)
}

fn err_of(r: anyhow::Result<()>) -> String {
    r.err().map(|e| e.to_string()).unwrap_or_default()
}

#[test]
fn the_checks_catch_an_order_the_customer_and_the_tills_see_differently() -> R {
    let mut w = settled(10_001)?;
    check::all(&mut w)?;
    customer_believes(&mut w, false)?;
    let err = err_of(check::all(&mut w));
    assert!(
        err.contains("orders disagree"),
        "the orders check failed: {err}"
    );
    Ok(())
}

#[test]
fn the_checks_catch_reserved_stock_the_orders_do_not_explain() -> R {
    let mut w = settled(10_002)?;
    check::reserved(&mut w)?;
    customer_believes(&mut w, true)?;
    let err = err_of(check::reserved(&mut w));
    assert!(
        err.contains("reserves") && err.contains("accepted orders hold back"),
        "the reserved check failed: {err}"
    );
    Ok(())
}

#[test]
fn the_checks_catch_a_public_catalog_that_does_not_show_the_stock() -> R {
    use shopsync_core::ids::DocId;
    use shopsync_core::types::Availability;
    let mut w = settled(10_003)?;
    check::public_catalog(&mut w)?;
    let store = w.store_id.clone();
    let doc = w.customers[0].doc(&DocId::Public {
        store: store.clone(),
    });
    let mut catalog = shopsync_core::public_catalog::read(doc, &store)?;
    let p = &mut catalog.products[0];
    p.availability = match p.availability {
        Availability::InStock => Availability::Out,
        _ => Availability::InStock,
    };
    shopsync_core::public_catalog::write(doc, &catalog)?;
    let err = err_of(check::public_catalog(&mut w));
    assert!(
        err.contains("the public catalog shows"),
        "the catalog check failed: {err}"
    );
    Ok(())
}

#[test]
fn the_checks_catch_a_collected_orders_sale_missing_and_a_double_collection_unflagged() -> R {
    // The first of these histories in which an order was collected.
    let mut found = None;
    for seed in 10_000..10_040 {
        let w = settled(seed)?;
        if !w.collects.is_empty() {
            found = Some(w);
            break;
        }
    }
    let mut w = found.ok_or_else(|| anyhow::anyhow!("no history collected an order"))?;
    check::all(&mut w)?;
    let (order, sale, _) = w.collects[0].clone();
    // Two tills collected it, and nothing shows the conflict.
    w.collects.push((order.clone(), "another-sale".into(), 1));
    let err = err_of(check::collected(&mut w));
    assert!(
        err.contains("collected by two tills"),
        "the double collection check failed: {err}"
    );
    w.collects.pop();
    // The sale of a collected order is gone from one till.
    let last = w.tills.len() - 1;
    let c = w.tills[last].store()?.connection();
    c.execute_batch("PRAGMA foreign_keys = OFF")?;
    assert_eq!(c.execute("DELETE FROM sales WHERE id = ?1", [&sale])?, 1);
    let err = err_of(check::collected(&mut w));
    assert!(
        err.contains("(collected) is missing"),
        "the collected sale check failed: {err}"
    );
    Ok(())
}
