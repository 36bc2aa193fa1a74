//! Defects the shop simulator found (sim/regressions.txt replays the
//! histories; these pin each fix down in the core alone).

mod common;

use automerge::{AutoCommit, ROOT, ScalarValue, transaction::Transactable};
use chrono::{DateTime, Duration, Utc};
use common::{R, Till, after, at, product, sell_cash};
use shopsync_core::access::Role;
use shopsync_core::bundle::Bundle;
use shopsync_core::ids::DocId;
use shopsync_core::records::{Record, RefundLine, RefundRecord};
use shopsync_core::sync::SyncConfig;
use shopsync_core::types::TenderKind;
use shopsync_core::{CoreError, SalesFilter, Store};

/// This file's test day, 2026-06-01 08:00 UTC (`reusing` writes into June's
/// ledger).
fn june() -> DateTime<Utc> {
    at(2026, 6, 1, 8, 0)
}

/// Till A with 10 of P, its bundle at that point, and B made from it.
fn two_tills(dir: &std::path::Path) -> Result<(Store, Store), CoreError> {
    common::two_tills(
        dir,
        Till {
            now: after(june(), 0),
            stock: vec![(product("P", "P", 100), 10)],
            ..Till::default()
        },
    )
}

/// A hostile till's ledger holding a refund that reuses `id`.
fn reusing(store: &Store, id: &str) -> Result<Bundle, Box<dyn std::error::Error>> {
    let store_id = store.info().store_id.clone();
    let doc_id = DocId::parse(&format!(
        "store/{store_id}/ledger/01a00000-0000-7000-8000-00000000beef/2026-06"
    ))
    .ok_or("doc id")?;
    let at = (june() + Duration::minutes(3)).timestamp_millis();
    let r = Record::Refund(RefundRecord {
        id: id.to_string(),
        sale_id: id.to_string(),
        at,
        lines: vec![RefundLine {
            line_no: 1,
            product_id: "no-such-product".into(),
            qty: 1,
            amount: 100,
            tax: 0,
        }],
        amount: 100,
        tax: 0,
        tender: TenderKind::Cash,
        restock: true,
        hlc: Some(at),
        staff_id: None,
        approver_id: None,
        drawer_session: None,
    });
    let mut doc = AutoCommit::new();
    doc.put(ROOT, id, ScalarValue::Bytes(r.encode()?))?;
    doc.commit();
    Ok(Bundle {
        store_id,
        docs: vec![(doc_id, doc.get_changes(&[]))],
    })
}

fn rows(s: &Store, sql: &str) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    Ok(s.connection()
        .prepare(sql)?
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<_>>()?)
}

#[test]
fn a_record_id_used_by_two_tills_is_set_aside_whatever_arrives_first() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, mut b) = two_tills(dir.path())?;
    a.set_now(after(june(), 2));
    let sale = sell_cash(&mut a, "P", 1, 100)?.sale_id;
    // B meets the hostile record first, then A's sale; A the other way round.
    b.import_bundle(reusing(&a, &sale)?)?;
    b.import_bundle(a.export_bundle()?)?;
    a.import_bundle(reusing(&a, &sale)?)?;
    for (name, s) in [("A", &a), ("B", &b)] {
        assert!(
            s.sales(&SalesFilter::default())?.is_empty(),
            "{name}: neither record counts"
        );
        let clashed = rows(
            s,
            "SELECT record_key FROM quarantine WHERE rule = 'id_clash' ORDER BY till_id",
        )?;
        assert_eq!(
            clashed,
            vec![sale.clone(), sale.clone()],
            "{name}: both set aside"
        );
        assert_eq!(
            s.stock_levels(Some("P"), false)?[0].on_hand,
            10,
            "{name}: the set-aside sale moved no stock"
        );
        let v = s.verify(&mut |_| {})?;
        assert!(v.differences.is_empty(), "{name}: {:?}", v.differences);
    }
    let (diffs, _) = shopsync_core::projection::rebuild::compare(a.connection(), b.connection())?;
    assert!(diffs.is_empty(), "{diffs:?}");
    Ok(())
}

#[test]
fn a_till_holding_another_tills_changes_says_so_and_never_sends_them() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, mut b) = two_tills(dir.path())?;
    let cfg = |role| SyncConfig {
        server: "https://sync.example".into(),
        device_id: "d".into(),
        token: "t".into(),
        role,
    };
    b.set_sync_config(&cfg(Role::Till))?;
    a.set_now(after(june(), 5));
    sell_cash(&mut a, "P", 1, 100)?;
    b.import_bundle(a.export_bundle()?)?;
    // (B also holds A's catalog from the bundle it was made from: no server
    // has confirmed it either.)
    let held = b.sync_status()?.held_for_others;
    let of_a = held
        .iter()
        .find(|h| h.till_id.as_deref() == Some(a.info().till_id.as_str()))
        .ok_or("A's sale is not reported")?;
    assert!(of_a.changes >= 1);
    assert!(
        of_a.message().contains("import it on that till"),
        "{}",
        of_a.message()
    );
    // Never sent from here, even by a manager: only their till writes them.
    b.set_sync_config(&cfg(Role::Manager))?;
    assert!(
        b.sync_status()?
            .held_for_others
            .iter()
            .any(|h| h.till_id.as_deref() == Some(a.info().till_id.as_str())),
        "a manager's device reports them too"
    );
    let out = b.sync_outbox(usize::MAX)?;
    assert!(
        out.docs
            .iter()
            .all(|d| !d.doc_id.contains(&a.info().till_id)),
        "A's ledger is not in B's outbox"
    );
    // Carried back to A, they are A's own again and A sends them.
    a.import_bundle(b.export_bundle()?)?;
    assert!(a.sync_waiting()? >= 1);
    Ok(())
}

#[test]
fn a_till_whose_clock_is_far_behind_what_it_has_seen_flags_itself() -> R {
    let dir = tempfile::tempdir()?;
    let (_a, mut b) = two_tills(dir.path())?;
    b.set_clock_skew_limit_ms(60_000)?;
    // B saw A's receipt at 08:00; its clock now says a day earlier.
    b.set_now(Some(june() - Duration::days(1)));
    assert!(b.clock_flags()?.is_empty());
    sell_cash(&mut b, "P", 1, 100)?;
    let flags = b.clock_flags()?;
    assert_eq!(flags.len(), 1, "{flags:?}");
    assert!(flags[0].own, "the flag is about this till's own clock");
    assert!(flags[0].ahead_ms >= 24 * 3600 * 1000 - 1);
    assert!(flags[0].message().contains("set it right"));
    Ok(())
}

#[test]
fn a_till_far_off_the_servers_clock_flags_itself() -> R {
    let dir = tempfile::tempdir()?;
    let (_a, mut b) = two_tills(dir.path())?;
    b.set_clock_skew_limit_ms(60_000)?;
    b.set_now(after(june(), 10));
    let server = (june() + Duration::minutes(10)).timestamp_millis();
    b.check_clock_against_server(server + 30_000)?;
    assert!(b.clock_flags()?.is_empty(), "within the limit");
    b.check_clock_against_server(server - 52 * 60_000)?;
    let flags = b.clock_flags()?;
    assert_eq!(flags.len(), 1);
    assert!(flags[0].own);
    Ok(())
}

#[test]
fn a_stamp_far_ahead_of_its_date_does_not_make_an_honest_till_flag_itself() -> R {
    let dir = tempfile::tempdir()?;
    let (a, mut b) = two_tills(dir.path())?;
    // A record dated now but stamped a year ahead (hostile, or relayed from
    // a fast till through another): B's stamps move ahead, its clock did not.
    let mut hostile = reusing(&a, "far-stamp")?;
    let at = (june() + Duration::minutes(1)).timestamp_millis();
    let r = Record::Refund(RefundRecord {
        id: "far-stamp".into(),
        sale_id: "no-such-sale".into(),
        at,
        lines: vec![RefundLine {
            line_no: 1,
            product_id: "no-such-product".into(),
            qty: 1,
            amount: 100,
            tax: 0,
        }],
        amount: 100,
        tax: 0,
        tender: TenderKind::Cash,
        restock: false,
        hlc: Some(at + 365 * 24 * 3600 * 1000),
        staff_id: None,
        approver_id: None,
        drawer_session: None,
    });
    let mut d = AutoCommit::new();
    d.put(ROOT, "far-stamp", ScalarValue::Bytes(r.encode()?))?;
    d.commit();
    hostile.docs[0].1 = d.get_changes(&[]);
    b.set_now(after(june(), 2));
    b.import_bundle(hostile)?;
    sell_cash(&mut b, "P", 1, 100)?;
    assert!(
        b.clock_flags()?.iter().all(|f| !f.own),
        "{:?}",
        b.clock_flags()?
    );
    Ok(())
}

#[test]
fn a_fast_clock_set_right_does_not_keep_flagging_itself() -> R {
    let dir = tempfile::tempdir()?;
    let (_a, mut b) = two_tills(dir.path())?;
    b.set_now(Some(june() + Duration::days(365)));
    sell_cash(&mut b, "P", 1, 100)?;
    b.set_now(after(june(), 30));
    sell_cash(&mut b, "P", 1, 100)?;
    assert!(
        b.clock_flags()?.iter().all(|f| !f.own),
        "{:?}",
        b.clock_flags()?
    );
    Ok(())
}
