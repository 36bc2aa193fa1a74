//! Random partial deliveries against one purchase order on two tills,
//! exchanged at random moments: after a full exchange both tills show, per
//! product, received = the sum delivered and outstanding = max(0, ordered −
//! received), and their projections equal a rebuild.

mod common;

use common::{Till, delivered, m, po_line, product, send, supplier, till_from, verify_clean};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use shopsync_core::{NewProduct, Store};

type BoxErr = Box<dyn std::error::Error>;

const SKUS: [&str; 2] = ["P", "Q"];

/// One step: till 0 or 1 receives `qty` of product `p`, or the tills
/// exchange everything (`p` = 2).
fn step() -> impl Strategy<Value = (usize, usize, i64)> {
    (0usize..2, 0usize..3, 1i64..9)
}

fn outstanding_of(s: &Store, id: &str, sku: &str) -> Result<(i64, i64, i64), BoxErr> {
    let o = s.purchase_order(id)?;
    let l = o.lines.iter().find(|l| l.sku == sku).ok_or("no line")?;
    Ok((l.received, l.outstanding, l.over))
}

fn run(ordered: [i64; 2], steps: &[(usize, usize, i64)]) -> Result<(), BoxErr> {
    let dir = tempfile::tempdir()?;
    let mut a = Till {
        now: m(0),
        ..Till::default()
    }
    .open(dir.path())?;
    let acme = supplier(&mut a, "Acme")?;
    for sku in SKUS {
        a.add_product(NewProduct {
            supplier: Some(acme.clone()),
            ..product(sku, sku, 100)
        })?;
    }
    let lines: Vec<_> = SKUS
        .iter()
        .zip(ordered)
        .map(|(sku, q)| po_line(sku, q, None))
        .collect();
    let po = a.create_purchase_order(&acme, &lines, None)?;
    let b = till_from(dir.path(), &a, "B", m(1))?;
    let mut tills = [a, b];
    let mut sent = [0i64; 2];
    for (i, &(till, p, qty)) in steps.iter().enumerate() {
        if p == 2 {
            let [x, y] = &mut tills;
            send(x, y)?;
            send(y, x)?;
            continue;
        }
        tills[till].set_now(m(2 + i as i64));
        tills[till].receive_purchase_order(&po.id, &[delivered(SKUS[p], qty)], false)?;
        sent[p] += qty;
    }
    let [x, y] = &mut tills;
    send(x, y)?;
    send(y, x)?;
    for s in &tills {
        for (k, sku) in SKUS.iter().enumerate() {
            let want = (
                sent[k],
                (ordered[k] - sent[k]).max(0),
                (sent[k] - ordered[k]).max(0),
            );
            assert_eq!(outstanding_of(s, &po.id, sku)?, want, "{sku}");
        }
    }
    assert_eq!(
        tills[0].purchase_order(&po.id)?,
        tills[1].purchase_order(&po.id)?
    );
    verify_clean(&tills[1])?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn outstanding_is_ordered_less_everything_received_on_any_till(
        ordered in [1i64..20, 1i64..20],
        steps in prop::collection::vec(step(), 1..10),
    ) {
        run(ordered, &steps).map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
}
