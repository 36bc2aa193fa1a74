//! What must hold once every till has synced fully (docs/TESTING.md, "The
//! shop simulator"). Each check returns the first thing it finds wrong.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Result, anyhow, bail};
use shopsync_core::projection::rebuild::compare;
use shopsync_core::types::{OrderStatus, OrderView};
use shopsync_core::{SalesFilter, Store};

use crate::world::World;

pub fn all(w: &mut World) -> Result<()> {
    documents_load(w)?;
    same_everywhere(w)?;
    sales_kept(w)?;
    numbers(w)?;
    refunds(w)?;
    hostile_set_aside(w)?;
    shelves(w)?;
    orders_agree(w)?;
    reserved(w)?;
    collected(w)?;
    public_catalog(w)?;
    Ok(())
}

/// The first till that is not stranded (the order checks compare with it;
/// a stranded till is the known exception of `same_everywhere`).
fn reference(w: &World) -> usize {
    (0..w.tills.len())
        .find(|k| !w.stranded.contains(k))
        .unwrap_or(0)
}

/// What of an order every device must agree on.
type OrderKey = (
    String,
    String,
    String,
    Vec<(u32, Option<String>, String, i64, bool)>,
    Option<String>,
    Option<String>,
);

fn order_key(o: &OrderView) -> OrderKey {
    (
        o.customer_id.clone(),
        o.id.clone(),
        o.status.as_str().to_string(),
        o.lines
            .iter()
            .map(|l| (l.line, l.sku.clone(), l.text.clone(), l.qty, l.unavailable))
            .collect(),
        o.sale_id.clone(),
        o.conflict.clone(),
    )
}

fn keys(mut v: Vec<OrderKey>) -> Vec<OrderKey> {
    v.sort();
    v
}

/// Every till's orders (status, lines, unavailable, sale, conflict) are the
/// same, and the same as each customer's documents give.
pub fn orders_agree(w: &mut World) -> Result<()> {
    let stranded = w.stranded.clone();
    let mut first: Option<(String, Vec<OrderKey>)> = None;
    for (k, t) in w.tills.iter_mut().enumerate() {
        if stranded.contains(&k) {
            continue;
        }
        let name = t.name.clone();
        let mine = keys(t.store()?.orders(true)?.iter().map(order_key).collect());
        match &first {
            None => first = Some((name, mine)),
            Some((n0, theirs)) => {
                if *theirs != mine {
                    bail!(
                        "orders disagree: {n0} has {}, {name} has {}",
                        clip(&format!("{theirs:?}")),
                        clip(&format!("{mine:?}"))
                    );
                }
            }
        }
    }
    let Some((n0, tills)) = first else {
        return Ok(());
    };
    let store = w.store_id.clone();
    let lost = lost_on_the_shop_side(w)?;
    for (c, cu) in w.customers.iter_mut().enumerate() {
        let mut seen = keys(cu.orders(&store).iter().map(order_key).collect());
        let mut at_till: Vec<OrderKey> = tills.iter().filter(|k| k.0 == cu.id).cloned().collect();
        seen.retain(|k| !lost.contains(&k.1));
        at_till.retain(|k| !lost.contains(&k.1));
        if seen != at_till {
            bail!(
                "orders disagree: customer {c}'s documents give {}, {n0} has {}",
                clip(&format!("{seen:?}")),
                clip(&format!("{at_till:?}"))
            );
        }
    }
    Ok(())
}

/// Orders whose shop-side records (accepted, ready, collected, ...) a
/// customer's phone holds and the first till lacks, in a history where the
/// server went back to a backup and a till to an older copy: the restores
/// took every shop copy, and the phone may not write the shop's document
/// (docs/TESTING.md, known limits). Empty in any other history.
fn lost_on_the_shop_side(w: &mut World) -> Result<BTreeSet<String>> {
    use shopsync_core::ids::DocId;
    use shopsync_core::orders::state::read_doc;
    let mut out = BTreeSet::new();
    if !(w.server_restored && w.till_restored) {
        return Ok(out);
    }
    let store = w.store_id.clone();
    let ids: Vec<String> = w.customers.iter().map(|c| c.id.clone()).collect();
    for (k, cid) in ids.iter().enumerate() {
        let doc_id = DocId::order_status(&store, cid);
        let till_doc = shopsync_core::docs::load(
            {
                let r = reference(w);
                &mut w.tills[r]
            }
            .store()?
            .connection(),
            &doc_id.to_string(),
            None,
        )?;
        let have: BTreeSet<String> = read_doc(&till_doc.doc).iter().map(|r| r.key()).collect();
        let phone = read_doc(w.customers[k].doc(&doc_id));
        for r in phone {
            if !have.contains(&r.key()) {
                out.insert(r.order_id().to_string());
            }
        }
    }
    Ok(out)
}

/// Every till's reserved stock of a product is the sum of the available
/// lines of accepted or ready orders (as the customers' documents give
/// them); available is on hand less reserved.
pub fn reserved(w: &mut World) -> Result<()> {
    let store = w.store_id.clone();
    let mut want: BTreeMap<String, i64> = BTreeMap::new();
    // Orders whose shop records survive only on a phone (the known limit
    // of `orders_agree`) count as the tills have them.
    let lost = lost_on_the_shop_side(w)?;
    let mut orders: Vec<OrderView> = {
        let r = reference(w);
        &mut w.tills[r]
    }
    .store()?
    .orders(true)?
    .into_iter()
    .filter(|o| lost.contains(&o.id))
    .collect();
    for cu in &mut w.customers {
        orders.extend(
            cu.orders(&store)
                .into_iter()
                .filter(|o| !lost.contains(&o.id)),
        );
    }
    {
        for o in orders {
            if !matches!(o.status, OrderStatus::Accepted | OrderStatus::Ready) {
                continue;
            }
            for l in o.lines.iter().filter(|l| !l.unavailable) {
                if let Some(sku) = &l.sku {
                    *want.entry(sku.clone()).or_default() += l.qty;
                }
            }
        }
    }
    let stranded = w.stranded.clone();
    for (k, t) in w.tills.iter_mut().enumerate() {
        if stranded.contains(&k) {
            continue;
        }
        let name = t.name.clone();
        for l in t.store()?.stock_levels(None, false)? {
            let expected = want.get(&l.sku).copied().unwrap_or(0);
            if l.reserved != expected {
                bail!(
                    "{name} reserves {} of {} but accepted orders hold back {expected}",
                    l.reserved,
                    l.sku
                );
            }
            if l.available != l.on_hand - l.reserved {
                bail!(
                    "{name} shows {} of {} available with {} on hand and {} reserved",
                    l.available,
                    l.sku,
                    l.on_hand,
                    l.reserved
                );
            }
        }
    }
    Ok(())
}

/// Every collected order's sale exists on every till (a stranded till is
/// excused); an order collected by two tills shows a conflict naming both
/// sales.
pub fn collected(w: &mut World) -> Result<()> {
    let orders = {
        let r = reference(w);
        &mut w.tills[r]
    }
    .store()?
    .orders(true)?;
    let stranded = w.stranded.clone();
    for o in orders.iter().filter(|o| o.status == OrderStatus::Collected) {
        let Some(sale) = &o.sale_id else {
            bail!("order {} is collected with no sale", o.id);
        };
        for (k, t) in w.tills.iter_mut().enumerate() {
            if stranded.contains(&k) {
                continue;
            }
            let name = t.name.clone();
            let has: i64 = t.store()?.connection().query_row(
                "SELECT COUNT(*) FROM sales WHERE id = ?1",
                [sale],
                |r| r.get(0),
            )?;
            if has == 0 {
                bail!(
                    "order {}'s sale {sale} (collected) is missing on {name}",
                    o.id
                );
            }
        }
    }
    let mut by_order: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (order, sale, _) in &w.collects {
        if !w.maybe_lost.contains(sale) {
            by_order.entry(order).or_default().insert(sale);
        }
    }
    for (order, sales) in by_order.iter().filter(|(_, s)| s.len() > 1) {
        let shown = orders.iter().find(|o| o.id == *order);
        let conflict = shown.and_then(|o| o.conflict.clone()).unwrap_or_default();
        if let Some(missing) = sales.iter().find(|s| !conflict.contains(**s)) {
            bail!(
                "order {order} was collected by two tills (sales {sales:?}) and its conflict does not name sale {missing}: {conflict:?}"
            );
        }
    }
    Ok(())
}

/// After a final derivation the public catalog (as a customer reads it)
/// shows each product in the band of a till's available stock.
pub fn public_catalog(w: &mut World) -> Result<()> {
    let store = w.store_id.clone();
    let Some(cu) = w.customers.first_mut() else {
        return Ok(());
    };
    let id = shopsync_core::ids::DocId::Public {
        store: store.clone(),
    };
    let catalog = shopsync_core::public_catalog::read(cu.doc(&id), &store)
        .map_err(|e| anyhow!("the public catalog does not read: {e}"))?;
    if !catalog.published {
        bail!("the public catalog says the shop does not publish");
    }
    // A till that is not stranded (those agree with the server's feed).
    let levels = {
        let r = reference(w);
        &mut w.tills[r]
    }
    .store()?
    .stock_levels(None, false)?;
    for l in &levels {
        let want = shopsync_core::public_catalog::band(l.available, l.reorder_point);
        let shown = catalog.products.iter().find(|p| p.sku == l.sku);
        match shown {
            Some(p) if p.availability == want => {}
            Some(p) => bail!(
                "the public catalog shows {} as {:?}, the tills have {} available ({want:?})",
                l.sku,
                p.availability,
                l.available
            ),
            None => bail!("the public catalog lacks {}", l.sku),
        }
    }
    Ok(())
}

/// Every till's documents load (a restart of every till, then a rebuild of
/// a scratch copy that equals the live projections).
fn documents_load(w: &mut World) -> Result<()> {
    for t in &mut w.tills {
        t.store = None;
        let s = Store::open(&t.path).map_err(|e| anyhow!("{} does not open: {e}", t.name))?;
        let v = s
            .verify(&mut |_| {})
            .map_err(|e| anyhow!("{}'s documents do not rebuild: {e}", t.name))?;
        if !v.differences.is_empty() {
            bail!(
                "{}'s projections differ from a rebuild of its documents: {}",
                t.name,
                clip(&v.differences.join("; "))
            );
        }
        t.store = Some(s);
    }
    Ok(())
}

/// Every till shows the same stock, sales, refunds, counts and conflicts.
fn same_everywhere(w: &mut World) -> Result<()> {
    // A till left holding hostile records a restored server lost is the
    // one known exception (docs/TESTING.md): the others must agree.
    let stranded = w.stranded.clone();
    let mut tills: Vec<&mut crate::world::Till> = w
        .tills
        .iter_mut()
        .enumerate()
        .filter(|(k, _)| !stranded.contains(k))
        .map(|(_, t)| t)
        .collect();
    let Some((first, rest)) = tills.split_first_mut() else {
        return Ok(());
    };
    let first_name = first.name.clone();
    let a = first.store()?;
    for t in rest {
        let name = t.name.clone();
        let b = t.store()?;
        let (diffs, _) = compare(a.connection(), b.connection())?;
        if !diffs.is_empty() {
            bail!(
                "{first_name} and {name} disagree after syncing fully: {}",
                clip(&diffs.join("; "))
            );
        }
    }
    Ok(())
}

/// No sale a till completed is missing, unless a restore took the only copy;
/// no sale appears that no till completed.
fn sales_kept(w: &mut World) -> Result<()> {
    let clashed = clashed_ids(w)?;
    let sales = w.tills[0].store()?.sales(&SalesFilter::default())?;
    let have: BTreeSet<String> = sales.iter().map(|s| s.sale_id.clone()).collect();
    for (id, seen) in &w.sales {
        if !have.contains(id) && !w.maybe_lost.contains(id) && !clashed.contains(id) {
            bail!(
                "sale {id} (till {}, step {}) is missing after syncing",
                seen.till,
                seen.step
            );
        }
    }
    for id in &have {
        if !w.sales.contains_key(id) {
            bail!("sale {id} is in the projections but no till completed it");
        }
    }
    Ok(())
}

/// A sale number given twice is flagged on both sales.
fn numbers(w: &mut World) -> Result<()> {
    let sales = w.tills[0].store()?.sales(&SalesFilter::default())?;
    let mut by_number: BTreeMap<&str, Vec<&shopsync_core::types::SaleSummary>> = BTreeMap::new();
    for s in &sales {
        by_number.entry(s.number.as_str()).or_default().push(s);
    }
    for (number, group) in by_number {
        if group.len() > 1 && group.iter().any(|s| s.same_number.is_empty()) {
            bail!(
                "sale number {number} was given to {} sales without being flagged",
                group.len()
            );
        }
    }
    Ok(())
}

/// No refund of nothing or of a negative amount; a line refunded beyond
/// what was sold shows as a conflict.
fn refunds(w: &mut World) -> Result<()> {
    let s = w.tills[0].store()?;
    let conn = s.connection();
    let bad: i64 = conn.query_row(
        "SELECT COUNT(*) FROM refunds r WHERE r.amount <= 0
         OR EXISTS (SELECT 1 FROM refund_lines l WHERE l.refund_id = r.id AND l.qty <= 0)",
        [],
        |r| r.get(0),
    )?;
    if bad > 0 {
        bail!("{bad} refund(s) of nothing or of a negative amount");
    }
    let over: Vec<String> = conn
        .prepare(
            "SELECT DISTINCT l.sale_id FROM sale_lines l
             WHERE l.qty < (SELECT COALESCE(SUM(r.qty), 0) FROM refund_lines r
                            WHERE r.sale_id = l.sale_id AND r.line_no = l.line_no)",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let sales = s.sales(&SalesFilter::default())?;
    for id in over {
        let shown = sales.iter().any(|x| x.sale_id == id && x.over_refunded);
        if !shown {
            bail!("sale {id} is refunded beyond what was sold and no conflict shows it");
        }
    }
    Ok(())
}

/// A hostile till's records that reached the tills are set aside, never
/// projected.
fn hostile_set_aside(w: &mut World) -> Result<()> {
    let hostile = w.hostile_till.clone();
    let s = w.tills[0].store()?;
    // A record reusing the id of a sale a restore destroyed everywhere
    // clashes with nothing: it is a refund of an unknown sale, which a till
    // must accept (the sale may still arrive). Any other is a failure.
    let projected: Vec<String> = s
        .connection()
        .prepare(
            "SELECT id FROM sales WHERE till_id = ?1
             UNION ALL SELECT id FROM refunds WHERE till_id = ?1
             UNION ALL SELECT id FROM stock_records WHERE till_id = ?1",
        )?
        .query_map([&hostile], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let unexplained = projected
        .iter()
        .filter(|id| !w.maybe_lost.contains(*id))
        .count();
    if unexplained > 0 {
        bail!("{unexplained} record(s) of the hostile till were projected");
    }
    // An honest record is set aside only when the hostile till reused its id.
    let honest_quarantined: i64 = s.connection().query_row(
        "SELECT COUNT(*) FROM quarantine q WHERE q.till_id IS NOT ?1
         AND NOT (q.rule = 'id_clash' AND EXISTS (SELECT 1 FROM quarantine h
                  WHERE h.record_key = q.record_key AND h.till_id = ?1))",
        [&hostile],
        |r| r.get(0),
    )?;
    if honest_quarantined > 0 {
        bail!("{honest_quarantined} honest record(s) were quarantined");
    }
    Ok(())
}

/// Stock equals the shelves, unless the difference is explained: a restore
/// lost a record of that product, or a clock was wrong and a till flagged it.
fn shelves(w: &mut World) -> Result<()> {
    let clashed = clashed_ids(w)?;
    let set_aside: BTreeSet<usize> = w
        .made
        .iter()
        .filter(|m| m.id.as_ref().is_some_and(|id| clashed.contains(id)))
        .flat_map(|m| m.products.iter().copied())
        .collect();
    let mut flagged = false;
    for t in &mut w.tills {
        let n: i64 =
            t.store()?
                .connection()
                .query_row("SELECT COUNT(*) FROM clock_flags", [], |r| r.get(0))?;
        flagged |= n > 0;
    }
    let levels = w.tills[0].store()?.stock_levels(None, false)?;
    for (p, sku) in w.skus.iter().enumerate() {
        let on_hand = levels
            .iter()
            .find(|l| &l.sku == sku)
            .map_or(0, |l| l.on_hand);
        let shelf = w.shelves[p];
        if on_hand == shelf {
            continue;
        }
        if w.lost_products.contains(&p) || set_aside.contains(&p) {
            continue;
        }
        // Stock of a product never counted is a plain sum of movements: no
        // clock explains a difference there.
        let counted = w.counted.contains(&p);
        if counted && ((w.clocks_were_wrong && flagged) || w.clock_wrong_unseen) {
            continue;
        }
        bail!(
            "{sku}: the tills say {on_hand}, the shelf holds {shelf}, and nothing reported explains it{}",
            if w.clocks_were_wrong {
                " (a clock was wrong, but no till flagged it)"
            } else {
                ""
            }
        );
    }
    Ok(())
}

/// Honest record ids set aside because the hostile till reused them (the
/// quarantine shows them).
fn clashed_ids(w: &mut World) -> Result<BTreeSet<String>> {
    let hostile = w.hostile_till.clone();
    let s = w.tills[0].store()?;
    let ids: BTreeSet<String> = s
        .connection()
        .prepare(
            "SELECT DISTINCT record_key FROM quarantine WHERE rule = 'id_clash' AND till_id = ?1",
        )?
        .query_map([&hostile], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// At most this much of a long difference list goes into a failure.
pub fn clip(s: &str) -> String {
    const MAX: usize = 1200;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} more bytes)", &s[..end], s.len() - end)
}
