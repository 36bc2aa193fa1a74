//! Staff, PINs and permissions (issue 10): who may do what, approvals
//! recorded in the ledger, failed PINs, and a store without staff working
//! as before.

mod common;

use common::*;
use shopsync_core::records::{Record, SaleRecord};
use shopsync_core::staff::permissions::{allows, required_role};
use shopsync_core::staff::{Action, LOCKOUT_MS, Limits, MAX_WRONG_PINS, Operator, Pin, StaffRole};
use shopsync_core::{CartLine, CoreError, RefundRequest, SalesFilter, Store};

use StaffRole::{Cashier, Manager, Supervisor};

const ANN: &str = "1111";
const SUE: &str = "2222";
const CAL: &str = "3333";

/// Till A with MILK (1.00) and BREAD (2.50) in stock, and three staff:
/// Ann the manager, Sue the supervisor, Cal the cashier. Returns their ids.
fn shop(dir: &std::path::Path) -> Result<(Store, [String; 3]), CoreError> {
    let mut s = Till {
        now: m(0),
        stock: vec![
            (product("MILK", "Milk", 100), 50),
            (product("BREAD", "Bread", 250), 50),
        ],
        ..Till::default()
    }
    .open(dir)?;
    let ann = add_staff(&mut s, None, "Ann", Manager, ANN)?;
    let by_ann = Operator::new(ann.clone());
    let sue = add_staff(&mut s, Some(&by_ann), "Sue", Supervisor, SUE)?;
    let cal = add_staff(&mut s, Some(&by_ann), "Cal", Cashier, CAL)?;
    Ok((s, [ann, sue, cal]))
}

fn last_sale(s: &Store, id: &str) -> Result<(Option<String>, Option<String>), CoreError> {
    Ok(s.connection().query_row(
        "SELECT staff_id, approver_id FROM sales WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

#[test]
fn the_permission_table() {
    let limits = Limits {
        cashier_refund: 500,
        cashier_discount_bp: 1000,
    };
    // (action, lowest role that may do it alone)
    let table = [
        (Action::Sell, Cashier),
        (Action::Park, Cashier),
        (Action::OpenDrawerSession, Cashier),
        (Action::ReceiveStock, Cashier),
        (Action::PostCount, Cashier),
        (Action::Refund { amount: 500 }, Cashier),
        (Action::Refund { amount: 501 }, Supervisor),
        (Action::Discount { bp: 1000 }, Cashier),
        (Action::Discount { bp: 1001 }, Supervisor),
        (Action::PriceOverride, Supervisor),
        (Action::NoSaleDrawerOpen, Supervisor),
        (Action::Void, Supervisor),
        (Action::AdjustStock, Supervisor),
        (Action::EditCatalog, Manager),
        (Action::ManageStaff, Manager),
    ];
    for (action, lowest) in table {
        assert_eq!(required_role(action, &limits), lowest, "{action:?}");
        for role in StaffRole::ALL {
            assert_eq!(
                allows(role, action, &limits),
                role >= lowest,
                "{role} {action:?}"
            );
        }
    }
    // Unset limits are 0: every refund and discount needs a supervisor.
    assert_eq!(
        required_role(Action::Refund { amount: 1 }, &Limits::default()),
        Supervisor
    );
}

#[test]
fn staff_sign_in_by_pin_and_the_list_never_shows_hashes() -> R {
    let dir = tempfile::tempdir()?;
    let (mut s, [ann, sue, cal]) = shop(dir.path())?;
    assert_eq!(s.staff_by_pin(ANN)?.id, ann);
    assert_eq!(s.staff_by_pin(SUE)?.id, sue);
    let c = s.staff_by_pin(CAL)?;
    assert_eq!(
        (c.id.as_str(), c.name.as_str(), c.role.as_str()),
        (cal.as_str(), "Cal", "cashier")
    );
    assert!(matches!(
        s.staff_by_pin("9999"),
        Err(CoreError::WrongPin(4))
    ));
    assert!(matches!(
        s.staff_by_pin("12"),
        Err(CoreError::Invalid { .. })
    ));
    let listed = serde_json::to_string(&s.staff()?)?;
    assert!(
        listed.contains("Sue") && !listed.contains("argon2"),
        "{listed}"
    );
    // The catalog holds only the argon2id hash, never the PIN.
    let hash: String =
        s.connection()
            .query_row("SELECT pin_hash FROM staff WHERE id = ?1", [&ann], |r| {
                r.get(0)
            })?;
    assert!(
        hash.starts_with("$argon2id$") && !hash.contains(ANN),
        "{hash}"
    );
    verify_clean(&s)?;
    // A projection that disagrees is reported without the hash (reports
    // are pasted into support requests).
    s.connection().execute(
        "UPDATE staff SET pin_hash = 'x' || pin_hash WHERE id = ?1",
        [&ann],
    )?;
    let report = s.verify(&mut |_| {})?;
    let text = report.differences.join("\n");
    assert!(
        text.contains("staff") && text.contains("(hidden") && !text.contains("argon2"),
        "{text}"
    );
    Ok(())
}

#[test]
fn a_pin_another_staff_member_has_is_refused() -> R {
    let dir = tempfile::tempdir()?;
    let (mut s, [ann, _, cal]) = shop(dir.path())?;
    let by_ann = Operator::new(ann);
    let before = s.staff()?.len();
    let e = add_staff(&mut s, Some(&by_ann), "Dan", Cashier, CAL);
    assert!(matches!(e, Err(CoreError::Conflict(_))), "{e:?}");
    assert_eq!(s.staff()?.len(), before, "nothing added");
    let e = s.acting(Some(by_ann.clone()), |s| {
        s.set_staff_pin(&cal, &Pin::parse(SUE)?)
    });
    assert!(matches!(e, Err(CoreError::Conflict(_))), "{e:?}");
    // A member may keep their own PIN, and take a free one.
    s.acting(Some(by_ann), |s| {
        s.set_staff_pin("Cal", &Pin::parse("4444")?)
    })?;
    assert_eq!(s.staff_by_pin("4444")?.id, cal);
    assert!(matches!(s.staff_by_pin(CAL), Err(CoreError::WrongPin(_))));
    Ok(())
}

#[test]
fn managing_staff_needs_a_manager_and_keeps_one() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = Till::default().open(dir.path())?;
    // The first staff member must be a manager.
    let e = add_staff(&mut s, None, "Cal", Cashier, CAL);
    assert!(matches!(e, Err(CoreError::Invalid { .. })), "{e:?}");
    let ann = add_staff(&mut s, None, "Ann", Manager, ANN)?;
    // From now on, nobody signed in may add staff; a cashier neither.
    let e = add_staff(&mut s, None, "Cal", Cashier, CAL);
    assert!(matches!(e, Err(CoreError::SignInRequired)), "{e:?}");
    let cal = add_staff(
        &mut s,
        Some(&Operator::new(ann.clone())),
        "Cal",
        Cashier,
        CAL,
    )?;
    let e = add_staff(
        &mut s,
        Some(&Operator::new(cal.clone())),
        "Dan",
        Cashier,
        "5555",
    );
    assert!(matches!(e, Err(CoreError::ApprovalNeeded { .. })), "{e:?}");
    // ... unless a manager approves with their PIN.
    let approved = Operator::new(cal.clone()).approved_by(ann.clone());
    add_staff(&mut s, Some(&approved), "Dan", Cashier, "5555")?;
    // The last manager cannot be demoted or deactivated.
    let by_ann = Some(Operator::new(ann.clone()));
    let e = s.acting(by_ann.clone(), |s| s.set_staff_role(&ann, Cashier));
    assert!(matches!(e, Err(CoreError::Conflict(_))), "{e:?}");
    let e = s.acting(by_ann.clone(), |s| s.deactivate_staff("Ann"));
    assert!(matches!(e, Err(CoreError::Conflict(_))), "{e:?}");
    // A deactivated member's PIN signs in nobody.
    let off = s.acting(by_ann.clone(), |s| s.deactivate_staff("Cal"))?;
    assert!(!off.active);
    assert!(matches!(s.staff_by_pin(CAL), Err(CoreError::WrongPin(_))));
    s.acting(by_ann, |s| s.set_staff_role("Dan", Supervisor))?;
    assert_eq!(s.staff_member("dan")?.role, "supervisor");
    verify_clean(&s)
}

#[test]
fn a_store_without_staff_works_as_before() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = Till {
        now: m(0),
        stock: vec![(product("MILK", "Milk", 100), 10)],
        ..Till::default()
    }
    .open(dir.path())?;
    assert!(!s.staff_exist()?);
    let mut line = CartLine::new("MILK", 2);
    line.unit_price = Some(80);
    line.discount_bp = 5000;
    let sale = s.sell(&[line], &[cash(100)])?;
    s.refund(
        &sale.sale_id,
        RefundRequest {
            restock: true,
            ..RefundRequest::default()
        },
    )?;
    s.adjust("MILK", -1, shopsync_core::AdjustReason::Damaged, None)?;
    assert_eq!(last_sale(&s, &sale.sale_id)?, (None, None));
    // No staff: no PIN to check.
    assert!(matches!(
        s.staff_by_pin(ANN),
        Err(CoreError::Invalid { .. })
    ));
    verify_clean(&s)
}

#[test]
fn once_staff_exist_operations_need_someone_signed_in() -> R {
    let dir = tempfile::tempdir()?;
    let (mut s, [ann, _, cal]) = shop(dir.path())?;
    let e = sell_cash(&mut s, "MILK", 1, 100);
    assert!(matches!(e, Err(CoreError::SignInRequired)), "{e:?}");
    assert!(matches!(
        receive(&mut s, "MILK", 1),
        Err(CoreError::SignInRequired)
    ));
    // A cashier sells, but does not edit the catalog or its settings.
    let by_cal = Some(Operator::new(cal.clone()));
    let sale = s.acting(by_cal.clone(), |s| sell_cash(s, "MILK", 1, 100))?;
    assert_eq!(last_sale(&s, &sale.sale_id)?, (Some(cal.clone()), None));
    let e = s.acting(by_cal.clone(), |s| {
        s.add_product(product("EGG", "Eggs", 30))
    });
    assert!(matches!(e, Err(CoreError::ApprovalNeeded { .. })), "{e:?}");
    let e = s.acting(by_cal, |s| s.set_setting("cashier_refund_limit", "100000"));
    assert!(matches!(e, Err(CoreError::ApprovalNeeded { .. })), "{e:?}");
    s.acting(Some(Operator::new(ann)), |s| {
        s.add_product(product("EGG", "Eggs", 30))
    })?;
    // Nobody stays signed in after `acting`.
    assert!(s.operator().is_none());
    assert!(matches!(
        sell_cash(&mut s, "EGG", 1, 30),
        Err(CoreError::SignInRequired)
    ));
    Ok(())
}

#[test]
fn a_refund_above_the_cashier_limit_needs_a_supervisor_and_records_who() -> R {
    let dir = tempfile::tempdir()?;
    let (mut s, [ann, sue, cal]) = shop(dir.path())?;
    s.acting(Some(Operator::new(ann.clone())), |s| {
        s.set_setting("cashier_refund_limit", "300")
    })?;
    let by_cal = Operator::new(cal.clone());
    let sale = s.acting(Some(by_cal.clone()), |s| sell_cash(s, "BREAD", 2, 500))?;
    let one_bread = || RefundRequest {
        lines: vec![("BREAD".into(), 1)],
        restock: true,
        ..RefundRequest::default()
    };
    // 2.50 is within the limit of 3.00: the cashier refunds alone.
    let r1 = s.acting(Some(by_cal.clone()), |s| {
        s.refund(&sale.sale_id, one_bread())
    })?;
    let sale2 = s.acting(Some(by_cal.clone()), |s| sell_cash(s, "BREAD", 2, 500))?;
    let all = RefundRequest {
        restock: true,
        ..RefundRequest::default()
    };
    let e = s.acting(Some(by_cal.clone()), |s| {
        s.refund(&sale2.sale_id, all.clone())
    });
    assert!(
        matches!(&e, Err(CoreError::ApprovalNeeded { role, .. }) if role == "supervisor"),
        "{e:?}"
    );
    // Another cashier's PIN is no approval.
    let by_ann = Operator::new(ann);
    let dan = add_staff(&mut s, Some(&by_ann), "Dan", Cashier, "5555")?;
    let e = s.acting(Some(by_cal.clone().approved_by(dan)), |s| {
        s.refund(&sale2.sale_id, all.clone())
    });
    assert!(matches!(e, Err(CoreError::NotPermitted(_))), "{e:?}");
    let op = operator(&mut s, CAL, Some(SUE))?;
    let r2 = s.acting(Some(op), |s| s.refund(&sale2.sale_id, all.clone()))?;
    let who = |id: &str| -> Result<(Option<String>, Option<String>), CoreError> {
        Ok(s.connection().query_row(
            "SELECT staff_id, approver_id FROM refunds WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    };
    assert_eq!(who(&r1.refund_id)?, (Some(cal.clone()), None));
    assert_eq!(who(&r2.refund_id)?, (Some(cal.clone()), Some(sue.clone())));
    // Listings by staff member.
    let by = |staff: &str| SalesFilter {
        staff_id: Some(staff.into()),
        ..SalesFilter::default()
    };
    assert_eq!(s.refunds(&by(&cal))?.len(), 2);
    assert!(s.refunds(&by(&sue))?.is_empty());
    assert_eq!(
        s.refunds(&by(&cal))?[0].approver_id.as_deref(),
        Some(sue.as_str())
    );
    assert_eq!(s.sales(&by(&cal))?.len(), 2);
    assert!(s.sales(&by(&sue))?.is_empty());
    verify_clean(&s)
}

#[test]
fn the_day_report_of_one_staff_member_counts_only_theirs() -> R {
    let dir = tempfile::tempdir()?;
    let (mut s, [ann, sue, cal]) = shop(dir.path())?;
    let by_cal = Operator::new(cal.clone());
    let sale = s.acting(Some(by_cal.clone()), |s| sell_cash(s, "BREAD", 2, 500))?;
    s.acting(Some(Operator::new(sue.clone())), |s| {
        sell_cash(s, "MILK", 1, 100)
    })?;
    let one_bread = RefundRequest {
        lines: vec![("BREAD".into(), 1)],
        restock: true,
        ..RefundRequest::default()
    };
    s.acting(Some(by_cal.approved_by(sue.clone())), |s| {
        s.refund(&sale.sale_id, one_bread)
    })?;
    let day = t0().date_naive();
    let whole = s.z_report(day)?;
    let cals = s.z_report_for(day, Some(&cal))?;
    let sues = s.z_report_for(day, Some(&sue))?;
    let anns = s.z_report_for(day, Some(&ann))?;
    assert_eq!(
        (
            whole.sales_count,
            whole.gross_sales.minor,
            whole.refunds_count
        ),
        (2, 600, 1)
    );
    assert_eq!(
        (cals.sales_count, cals.gross_sales.minor, cals.refunds_count),
        (1, 500, 1)
    );
    assert_eq!(cals.net_sales.minor, 250);
    assert_eq!(cals.cash_expected.minor, 250);
    assert_eq!(
        (sues.sales_count, sues.gross_sales.minor, sues.refunds_count),
        (1, 100, 0)
    );
    assert_eq!(sues.tax.iter().map(|t| t.taxable.minor).sum::<i64>(), 100);
    assert_eq!((anns.sales_count, anns.refunds_count), (0, 0));
    assert!(anns.tenders.is_empty());
    verify_clean(&s)
}

#[test]
fn a_cashier_price_override_needs_approval_and_discounts_follow_the_limit() -> R {
    let dir = tempfile::tempdir()?;
    let (mut s, [ann, sue, cal]) = shop(dir.path())?;
    s.acting(Some(Operator::new(ann.clone())), |s| {
        s.set_settings(&[("cashier_discount_limit_bp", "1000")])
    })?;
    let mut cheaper = CartLine::new("MILK", 1);
    cheaper.unit_price = Some(50);
    let by_cal = Operator::new(cal.clone());
    let e = s.acting(Some(by_cal.clone()), |s| {
        s.sell(&[cheaper.clone()], &[cash(50)])
    });
    assert!(matches!(e, Err(CoreError::ApprovalNeeded { .. })), "{e:?}");
    assert!(
        s.sales(&SalesFilter::default())?.is_empty(),
        "nothing recorded"
    );
    let sale = s.acting(Some(by_cal.clone().approved_by(sue.clone())), |s| {
        s.sell(&[cheaper.clone()], &[cash(50)])
    })?;
    assert_eq!(
        last_sale(&s, &sale.sale_id)?,
        (Some(cal.clone()), Some(sue.clone()))
    );
    // The Sales screen's list and detail say who sold and who approved.
    let listed = s.sales(&SalesFilter::default())?;
    assert_eq!(listed[0].staff_id.as_deref(), Some(cal.as_str()));
    assert_eq!(listed[0].approver_id.as_deref(), Some(sue.as_str()));
    let detail = s.sale(&sale.sale_id)?.summary;
    assert_eq!(
        (detail.staff_id, detail.approver_id),
        (Some(cal.clone()), Some(sue.clone()))
    );
    // 10 % is within the cashier's limit; 20 % is not.
    let mut ten = CartLine::new("MILK", 1);
    ten.discount_bp = 1000;
    let plain = s.acting(Some(by_cal.clone().approved_by(sue.clone())), |s| {
        s.sell(&[ten.clone()], &[cash(90)])
    })?;
    assert_eq!(
        last_sale(&s, &plain.sale_id)?,
        (Some(cal.clone()), None),
        "no approval needed, none recorded"
    );
    let mut twenty = ten.clone();
    twenty.discount_bp = 2000;
    let e = s.acting(Some(by_cal.clone()), |s| {
        s.sell(&[twenty.clone()], &[cash(80)])
    });
    assert!(matches!(e, Err(CoreError::ApprovalNeeded { .. })), "{e:?}");
    // A supervisor does both alone.
    let own = s.acting(Some(Operator::new(sue.clone())), |s| {
        s.sell(&[twenty, cheaper], &[cash(130)])
    })?;
    assert_eq!(last_sale(&s, &own.sale_id)?, (Some(sue), None));
    // Limits are whole numbers in range.
    for bad in ["-1", "ten", "10001"] {
        let e = s.acting(Some(Operator::new(ann.clone())), |s| {
            s.set_setting("cashier_discount_limit_bp", bad)
        });
        assert!(matches!(e, Err(CoreError::Invalid { .. })), "{bad}: {e:?}");
    }
    verify_clean(&s)
}

#[test]
fn five_wrong_pins_pause_pin_checks_for_thirty_seconds() -> R {
    let dir = tempfile::tempdir()?;
    let (mut s, [ann, ..]) = shop(dir.path())?;
    s.set_now(m(10));
    for left in (1..MAX_WRONG_PINS).rev() {
        assert!(matches!(s.staff_by_pin("9999"), Err(CoreError::WrongPin(n)) if n == left));
    }
    assert!(matches!(
        s.staff_by_pin("9999"),
        Err(CoreError::WrongPin(0))
    ));
    // Even the right PIN is refused while paused, and the pause survives a reopen.
    assert!(matches!(s.staff_by_pin(ANN), Err(CoreError::PinLocked(30))));
    let path = s.path().to_path_buf();
    drop(s);
    let mut s = Store::open(&path)?;
    s.set_now(after(t0(), 10).map(|t| t + chrono::Duration::milliseconds(LOCKOUT_MS - 1000)));
    assert!(matches!(s.staff_by_pin(ANN), Err(CoreError::PinLocked(1))));
    s.set_now(after(t0(), 10).map(|t| t + chrono::Duration::milliseconds(LOCKOUT_MS)));
    assert_eq!(s.staff_by_pin(ANN)?.id, ann);
    // A right PIN in between does not clear the count: guessing four
    // times, signing in and guessing again still pauses at the fifth.
    for left in (2..MAX_WRONG_PINS).rev() {
        assert!(matches!(s.staff_by_pin("9999"), Err(CoreError::WrongPin(n)) if n == left));
    }
    s.staff_by_pin(ANN)?;
    assert!(matches!(
        s.staff_by_pin("9999"),
        Err(CoreError::WrongPin(1))
    ));
    assert!(matches!(
        s.staff_by_pin("9999"),
        Err(CoreError::WrongPin(0))
    ));
    // Wrong PINs further apart than the window do not add up.
    let later = after(t0(), 30).map(|t| t + chrono::Duration::milliseconds(LOCKOUT_MS));
    s.set_now(later);
    assert!(matches!(
        s.staff_by_pin("9999"),
        Err(CoreError::WrongPin(4))
    ));
    s.set_now(later.map(|t| t + chrono::Duration::minutes(11)));
    assert!(matches!(
        s.staff_by_pin("9999"),
        Err(CoreError::WrongPin(4))
    ));
    Ok(())
}

#[test]
fn records_name_their_staff_through_a_rebuild() -> R {
    let dir = tempfile::tempdir()?;
    let (mut s, [ann, sue, cal]) = shop(dir.path())?;
    let by_cal = Some(Operator::new(cal.clone()));
    let sale = s.acting(by_cal.clone(), |s| sell_cash(s, "MILK", 2, 200))?;
    let got = s.acting(by_cal.clone(), |s| receive(s, "MILK", 5))?;
    let adj = s.acting(
        Some(Operator::new(cal.clone()).approved_by(sue.clone())),
        |s| s.adjust("MILK", -1, shopsync_core::AdjustReason::Lost, None),
    )?;
    let count = s.acting(by_cal.clone(), |s| {
        let id = s.count_start(shopsync_core::CountScope::Products(vec!["BREAD".into()]))?;
        s.count_record(&id, "BREAD", 49)?;
        s.count_post(&id)?;
        Ok(id)
    })?;
    let record_of_count: String = s.connection().query_row(
        "SELECT record_id FROM count_sessions WHERE id = ?1",
        [&count],
        |r| r.get(0),
    )?;
    let who = |id: &str| -> Result<(Option<String>, Option<String>), CoreError> {
        Ok(s.connection().query_row(
            "SELECT staff_id, approver_id FROM stock_records WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    };
    assert_eq!(who(&got)?, (Some(cal.clone()), None));
    assert_eq!(who(&adj)?, (Some(cal.clone()), Some(sue)));
    assert_eq!(who(&record_of_count)?, (Some(cal.clone()), None));
    assert_eq!(last_sale(&s, &sale.sale_id)?, (Some(cal), None));
    verify_clean(&s)?;
    // The public catalog knows nothing of staff.
    s.acting(Some(Operator::new(ann)), |s| {
        s.set_setting("publish", "true")
    })?;
    let public = shopsync_core::public_catalog::derive(s.connection(), &s.info().store_id)?;
    let text = serde_json::to_string(&public)?;
    assert!(
        text.contains("Milk") && !text.contains("Cal") && !text.contains("argon2"),
        "{text}"
    );
    Ok(())
}

#[test]
fn records_of_other_versions_decode_and_bad_staff_ids_are_refused() -> R {
    // An older record (no staff fields) and a newer one (a field this
    // version does not know) both decode.
    let old =
        br#"{"kind":"adjustment","id":"a1","at":5,"product_id":"p","delta":-1,"reason":"lost"}"#;
    let newer = br#"{"kind":"adjustment","id":"a1","at":5,"product_id":"p","delta":-1,"reason":"lost","staff_id":"s1","shift":"late"}"#;
    for json in [&old[..], &newer[..]] {
        let mut bytes = vec![shopsync_core::records::RECORD_SCHEMA_VERSION];
        bytes.extend_from_slice(json);
        let r = Record::decode(&bytes)?;
        assert_eq!(r.id(), "a1");
    }
    // Staff ids follow the id rules of the server.
    let sale = Record::Sale(SaleRecord {
        id: "s1".into(),
        number: "A-1".into(),
        seq: 1,
        at: 5,
        lines: vec![],
        tenders: vec![],
        subtotal: 0,
        discount: 0,
        tax: 0,
        total: 0,
        change: 0,
        hlc: None,
        staff_id: Some("not an id".into()),
        approver_id: None,
        drawer_session: None,
    });
    let v = shopsync_core::validate::check_record("s1", &sale).err();
    assert_eq!(
        v.map(|v| v.rule),
        Some(shopsync_core::validate::Rule::BadId)
    );
    Ok(())
}

#[test]
fn two_tills_adding_staff_offline_converge() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, mut b) = two_tills(
        dir.path(),
        Till {
            now: m(0),
            ..Till::default()
        },
    )?;
    // Each till adds staff without having seen the other's.
    let ann = add_staff(&mut a, None, "Ann", Manager, ANN)?;
    let bob = add_staff(&mut b, None, "Bob", Manager, "7777")?;
    add_staff(
        &mut a,
        Some(&Operator::new(ann.clone())),
        "Cal",
        Cashier,
        CAL,
    )?;
    // Offline, both gave one PIN away twice.
    add_staff(
        &mut b,
        Some(&Operator::new(bob.clone())),
        "Dot",
        Cashier,
        CAL,
    )?;
    send(&a, &mut b)?;
    send(&b, &mut a)?;
    let names = |s: &Store| -> Result<Vec<String>, CoreError> {
        let mut v: Vec<String> = s.staff()?.into_iter().map(|m| m.name).collect();
        v.sort();
        Ok(v)
    };
    assert_eq!(names(&a)?, ["Ann", "Bob", "Cal", "Dot"]);
    assert_eq!(names(&a)?, names(&b)?);
    assert_eq!(a.staff_by_pin("7777")?.id, bob);
    assert_eq!(b.staff_by_pin(ANN)?.id, ann);
    // The shared PIN signs in nobody until a manager changes one.
    assert!(matches!(a.staff_by_pin(CAL), Err(CoreError::Conflict(_))));
    a.acting(Some(Operator::new(ann)), |s| {
        s.set_staff_pin("Dot", &Pin::parse("8888")?)
    })?;
    send(&a, &mut b)?;
    assert_eq!(b.staff_by_pin(CAL)?.name, "Cal");
    assert_eq!(b.staff_by_pin("8888")?.name, "Dot");
    verify_clean(&a)?;
    verify_clean(&b)
}

#[test]
fn a_store_upgraded_to_staff_projects_what_it_kept_once_on_open() -> R {
    let dir = tempfile::tempdir()?;
    let (mut s, [_, _, cal]) = shop(dir.path())?;
    let sale = s.acting(Some(Operator::new(cal.clone())), |s| {
        sell_cash(s, "MILK", 1, 100)
    })?;
    let path = s.path().to_path_buf();
    drop(s);
    // The file as version 7 leaves it: staff entities and staff ids kept
    // in the documents, with no table or column to project them to.
    rusqlite::Connection::open(&path)?.execute_batch(&format!(
        "{} {UNDO_MIGRATION_10} {UNDO_MIGRATION_09} {UNDO_MIGRATION_08} PRAGMA user_version = 7;",
        common::UNDO_MIGRATION_11
    ))?;
    let mut s = Store::open(&path)?;
    assert_eq!(s.staff()?.len(), 3);
    assert_eq!(last_sale(&s, &sale.sale_id)?, (Some(cal), None));
    assert_eq!(s.staff_by_pin(CAL)?.name, "Cal");
    let due: i64 = s.connection().query_row(
        "SELECT COUNT(*) FROM meta WHERE key = 'projection.rebuild_due'",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(due, 0, "once");
    verify_clean(&s)
}

/// The rules the sync server runs on every catalog change take `staff/`
/// entries, and check their fields' types.
#[test]
fn the_server_rules_take_staff_entries() -> R {
    use automerge::{AutoCommit, ObjType, ROOT, transaction::Transactable};
    let doc = shopsync_core::ids::DocId::catalog("s1");
    let real_hash = Pin::parse("4821")?.hash()?;
    let change =
        |active: automerge::ScalarValue, hash: &str| -> Result<automerge::Change, CoreError> {
            let mut cat = AutoCommit::new();
            let m = cat.put_object(ROOT, "staff/st-1", ObjType::Map)?;
            cat.put(&m, "name", "Ann")?;
            cat.put(&m, "role", "manager")?;
            cat.put(&m, "pin_hash", hash)?;
            cat.put(&m, "active", active)?;
            cat.commit();
            cat.get_last_local_change()
                .ok_or(CoreError::Corrupt("no change".into()))
        };
    let good = change(true.into(), &real_hash)?;
    assert_eq!(
        shopsync_core::validate::validate_changes(&doc, &[good]),
        Ok(())
    );
    let bad = change("yes".into(), &real_hash)?;
    let e = shopsync_core::validate::validate_changes(&doc, &[bad]).err();
    assert_eq!(
        e.map(|e| (e.record, e.rule)),
        Some((
            "staff/st-1".into(),
            shopsync_core::validate::Rule::FieldType
        ))
    );
    // A hash naming a ruinous cost (4 TiB of memory per check) is refused.
    let costly = change(
        true.into(),
        &real_hash.replacen("m=19456", "m=4294967295", 1),
    )?;
    let e = shopsync_core::validate::validate_changes(&doc, &[costly]).err();
    assert_eq!(
        e.map(|e| (e.record, e.rule)),
        Some(("staff/st-1".into(), shopsync_core::validate::Rule::Bounds))
    );
    Ok(())
}

#[test]
fn a_pause_set_under_a_clock_far_ahead_does_not_outlive_the_clock() -> R {
    let dir = tempfile::tempdir()?;
    let (mut s, [ann, ..]) = shop(dir.path())?;
    // The clock is twelve years ahead while five wrong PINs are typed.
    s.set_now(after(t0(), 60 * 24 * 365 * 12));
    for _ in 0..MAX_WRONG_PINS {
        let _ = s.staff_by_pin("9999");
    }
    assert!(matches!(s.staff_by_pin(ANN), Err(CoreError::PinLocked(_))));
    // Set right again, the till takes PINs at once.
    s.set_now(m(20));
    assert_eq!(s.staff_by_pin(ANN)?.id, ann);
    Ok(())
}

#[test]
fn order_steps_parking_and_till_settings_need_someone_signed_in() -> R {
    let dir = tempfile::tempdir()?;
    let (mut s, [_, _, cal]) = shop(dir.path())?;
    let lines = [shopsync_core::types::ipc::CartLineInput {
        code: "MILK".into(),
        qty: 1,
        unit_price: None,
        override_reason: None,
        discount_bp: 0,
    }];
    assert!(matches!(
        s.park_cart("", &lines),
        Err(CoreError::SignInRequired)
    ));
    assert!(matches!(
        s.order_ready("nope"),
        Err(CoreError::SignInRequired)
    ));
    assert!(matches!(
        s.rename_till("Till 9"),
        Err(CoreError::SignInRequired)
    ));
    // A cashier parks; renaming the till is a manager's.
    let by_cal = Some(Operator::new(cal));
    s.acting(by_cal.clone(), |s| s.park_cart("", &lines))?;
    assert!(matches!(
        s.acting(by_cal, |s| s.rename_till("Till 9")),
        Err(CoreError::ApprovalNeeded { .. })
    ));
    Ok(())
}

#[test]
fn two_tills_each_deactivating_a_manager_offline_can_name_a_manager_again() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, mut b) = two_tills(
        dir.path(),
        Till {
            now: m(0),
            ..Till::default()
        },
    )?;
    let ann = add_staff(&mut a, None, "Ann", Manager, ANN)?;
    let by_ann = Operator::new(ann.clone());
    let bob = add_staff(&mut a, Some(&by_ann), "Bob", Manager, "7777")?;
    add_staff(&mut a, Some(&by_ann), "Cal", Cashier, CAL)?;
    send(&a, &mut b)?;
    // Offline, each till deactivates the other manager: each keeps one.
    a.acting(Some(by_ann.clone()), |s| s.deactivate_staff(&bob))?;
    b.acting(Some(Operator::new(bob.clone())), |s| {
        s.deactivate_staff(&ann)
    })?;
    send(&a, &mut b)?;
    send(&b, &mut a)?;
    // Active staff remain, no manager does: a cashier still cannot manage
    // staff's other business, but a manager can be named again.
    assert!(
        a.staff()?
            .iter()
            .all(|m| !(m.active && m.role == "manager"))
    );
    let dee = add_staff(&mut a, None, "Dee", Manager, "5555")?;
    assert_eq!(a.staff_by_pin("5555")?.id, dee);
    // From then on staff management is a manager's again.
    assert!(matches!(
        add_staff(&mut a, None, "Eve", Cashier, "6666"),
        Err(CoreError::SignInRequired)
    ));
    verify_clean(&a)
}

#[test]
fn the_idle_lock_is_a_whole_number_of_minutes_set_by_a_manager() -> R {
    let dir = tempfile::tempdir()?;
    let (mut s, [ann, _, cal]) = shop(dir.path())?;
    let by_ann = Some(Operator::new(ann));
    for bad in ["", "five", "-1", "1.5", "1441"] {
        let e = s.acting(by_ann.clone(), |s| s.set_setting("lock_after_minutes", bad));
        assert!(
            matches!(&e, Err(CoreError::Invalid { field: Some(f), .. }) if f == "lock_after_minutes"),
            "{bad}: {e:?}"
        );
    }
    let e = s.acting(Some(Operator::new(cal)), |s| {
        s.set_setting("lock_after_minutes", "0")
    });
    assert!(
        matches!(&e, Err(CoreError::ApprovalNeeded { role, .. }) if role == "manager"),
        "{e:?}"
    );
    s.acting(by_ann, |s| s.set_setting("lock_after_minutes", "0"))?;
    let value = s
        .settings()?
        .into_iter()
        .find(|(k, _)| k == "lock_after_minutes")
        .map(|(_, v)| v);
    assert_eq!(value.as_deref(), Some("0"));
    Ok(())
}
