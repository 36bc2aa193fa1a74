//! A stock count reconciles by causal order, then by date, never by arrival:
//! stock = the counted quantity + every movement after the count, wherever
//! and whenever that movement was recorded. A movement made on a till that had
//! already seen the count is after it, whatever the clocks say; a movement and
//! a count made without knowledge of each other are ordered by their tills'
//! clocks. Tills exchange bundles; their clocks are pinned with `set_now`.

mod common;

use chrono::Duration;
use common::{R, Till, m, on_hand, product, receive, sell_cash, send, t0, till_from};
use shopsync_core::bundle::Bundle;
use shopsync_core::types::StockStatus;
use shopsync_core::{CoreError, CountScope, NewProduct, Store};

/// Till A with product P received `stock` units, and till B made from A's bundle.
fn two_tills(dir: &tempfile::TempDir, stock: i64) -> Result<(Store, Store), CoreError> {
    common::two_tills(
        dir.path(),
        Till {
            store: "Two Tills",
            now: m(0),
            stock: vec![(
                NewProduct {
                    reorder_point: Some(2),
                    ..product("P", "Product P", 100)
                },
                stock,
            )],
            ..Till::default()
        },
    )
}

/// Sells `qty` of P for cash at minute `when`; returns the sale id.
fn sell(s: &mut Store, when: i64, qty: i64) -> Result<String, CoreError> {
    s.set_now(m(when));
    Ok(sell_cash(s, "P", qty, 100 * qty)?.sale_id)
}

fn count(s: &mut Store, start: i64, record: i64, post: i64, counted: i64) -> R {
    s.set_now(m(start));
    let id = s.count_start(CountScope::Products(vec!["P".into()]))?;
    s.set_now(m(record));
    s.count_record(&id, "P", counted)?;
    s.set_now(m(post));
    s.count_post(&id)?;
    Ok(())
}

fn same_everywhere(a: &Store, b: &Store) -> R {
    let (diffs, _) = shopsync_core::projection::rebuild::compare(a.connection(), b.connection())?;
    assert!(diffs.is_empty(), "tills differ: {diffs:?}");
    for s in [a, b] {
        let report = s.verify(&mut |_| {})?;
        assert!(
            report.differences.is_empty(),
            "incremental != rebuild on {}: {:?}",
            s.info().till_name,
            report.differences
        );
    }
    Ok(())
}

#[test]
fn movements_from_the_other_till_count_by_their_date() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, mut b) = two_tills(&dir, 20)?;
    assert_eq!(on_hand(&b, "P")?, 20);

    // Before the count:
    sell(&mut b, 10, 2)?; // B, synced to A before the count
    send(&b, &mut a)?;
    assert_eq!(on_hand(&a, "P")?, 18);
    sell(&mut b, 20, 3)?; // B, reaches A only after the count
    sell(&mut a, 30, 1)?; // A itself
    assert_eq!(on_hand(&a, "P")?, 17, "A has not seen B's second sale yet");

    // A counts at 09:00 what is really on the shelf: 20 − 2 − 3 − 1 = 14.
    // Recorded at minute 60, a sale at 61 (before posting at 62) is after it.
    a.set_now(m(59));
    let id = a.count_start(CountScope::Products(vec!["P".into()]))?;
    a.set_now(m(60));
    let line = a.count_record(&id, "P", 14)?;
    assert_eq!(line.expected, 17);
    assert_eq!(line.difference, Some(-3));
    sell(&mut a, 61, 1)?;
    a.set_now(m(62));
    a.count_post(&id)?;
    assert_eq!(on_hand(&a, "P")?, 13, "14 counted − 1 sold after the count");

    // After the count:
    sell(&mut a, 70, 1)?;
    assert_eq!(on_hand(&a, "P")?, 12);
    sell(&mut b, 80, 2)?; // B, after the count, not yet at A
    assert_eq!(
        on_hand(&b, "P")?,
        13,
        "B: 20 − 2 − 3 − 2 (it has not seen A yet)"
    );

    // B's bundle reaches A: the sale at 20 is inside the count, the one at
    // 80 comes after it.
    assert!(send(&b, &mut a)? > 0);
    assert_eq!(on_hand(&a, "P")?, 10);
    // A's bundle reaches B: the count arrives after B's own later sale.
    assert!(send(&a, &mut b)? > 0);
    assert_eq!(on_hand(&b, "P")?, 10);
    let level = &b.stock_levels(Some("P"), false)?[0];
    assert_eq!(level.last_counted_at, m(60));

    // B has seen the count now: a sale it makes is after the count even
    // when B's clock reads a time before it (B's clock was set back).
    sell(&mut b, 40, 5)?;
    assert_eq!(on_hand(&b, "P")?, 5, "made after B saw the count: after it");
    b.set_now(m(90));
    receive(&mut b, "P", 6)?;
    assert_eq!(on_hand(&b, "P")?, 11);
    send(&b, &mut a)?;
    assert_eq!(on_hand(&a, "P")?, 11);
    // Nothing more to exchange.
    assert_eq!(send(&a, &mut b)?, 0);
    assert_eq!(send(&b, &mut a)?, 0);
    same_everywhere(&a, &b)
}

#[test]
fn sales_arriving_before_the_count_is_posted_elsewhere() -> R {
    // B's movements are already at A when A counts; A's count reaches B,
    // whose own movements after the count must be added on top.
    let dir = tempfile::tempdir()?;
    let (mut a, mut b) = two_tills(&dir, 10)?;
    sell(&mut b, 5, 1)?;
    sell(&mut a, 6, 1)?;
    send(&b, &mut a)?;
    send(&a, &mut b)?;
    assert_eq!((on_hand(&a, "P")?, on_hand(&b, "P")?), (8, 8));
    count(&mut a, 10, 11, 12, 7)?; // one missing on the shelf
    assert_eq!(on_hand(&a, "P")?, 7);
    sell(&mut b, 9, 1)?; // B, dated before the count
    sell(&mut b, 15, 2)?; // B, after the count, before it knows of it
    assert_eq!(on_hand(&b, "P")?, 5);
    send(&a, &mut b)?;
    assert_eq!(on_hand(&b, "P")?, 5, "7 counted − 2 sold at minute 15");
    send(&b, &mut a)?;
    assert_eq!(on_hand(&a, "P")?, 5);
    same_everywhere(&a, &b)
}

#[test]
fn the_later_dated_count_wins_whatever_the_arrival_order() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, mut b) = two_tills(&dir, 10)?;
    send(&a, &mut b)?;
    // B counts later (by date) but posts first; A counts earlier, posts later.
    count(&mut b, 30, 31, 32, 6)?;
    a.set_now(m(20));
    let id = a.count_start(CountScope::Products(vec!["P".into()]))?;
    a.set_now(m(21));
    a.count_record(&id, "P", 8)?;
    sell(&mut a, 25, 1)?; // between the two counts: inside B's count
    sell(&mut a, 35, 1)?; // after both
    a.set_now(m(40));
    a.count_post(&id)?;
    assert_eq!(on_hand(&a, "P")?, 6, "A alone: 8 counted − 2 sold after");
    assert_eq!(on_hand(&b, "P")?, 6);
    send(&a, &mut b)?;
    assert_eq!(
        on_hand(&b, "P")?,
        5,
        "B's count (minute 31) wins: 6 − 1 sold at 35"
    );
    send(&b, &mut a)?;
    assert_eq!(on_hand(&a, "P")?, 5);
    let counts: i64 = a
        .connection()
        .query_row("SELECT COUNT(*) FROM stock_counts", [], |r| r.get(0))?;
    assert_eq!(counts, 2, "both counts are kept in the history");
    same_everywhere(&a, &b)
}

#[test]
fn both_tills_sell_the_last_unit_offline() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, mut b) = two_tills(&dir, 1)?;
    assert_eq!((on_hand(&a, "P")?, on_hand(&b, "P")?), (1, 1));
    // Both sales succeed: a till never refuses a sale for lack of stock.
    sell(&mut a, 10, 1)?;
    sell(&mut b, 11, 1)?;
    assert_eq!((on_hand(&a, "P")?, on_hand(&b, "P")?), (0, 0));
    assert!(a.negative_stock_alerts()?.is_empty());
    send(&a, &mut b)?;
    send(&b, &mut a)?;
    for s in [&a, &b] {
        assert_eq!(on_hand(s, "P")?, -1, "on {}", s.info().till_name);
        let alerts = s.negative_stock_alerts()?;
        assert_eq!(alerts.len(), 1, "on {}", s.info().till_name);
        assert_eq!(alerts[0].sku, "P");
        assert_eq!(alerts[0].on_hand, -1);
        assert_eq!(alerts[0].status, StockStatus::Negative);
        let low = s.stock_levels(None, true)?;
        assert!(low.iter().any(|l| l.sku == "P" && l.on_hand == -1));
        // Both sales are there: nothing lost, nothing "corrected".
        assert_eq!(
            s.sales(&shopsync_core::SalesFilter::default())?.len(),
            2,
            "on {}",
            s.info().till_name
        );
    }
    same_everywhere(&a, &b)
}

// -- wrong clocks (issue 7, part 2) ------------------------------------------

/// Sets a till's clock to `minutes` after the start of the test day, as that
/// till's clock reads it: wrong by `offset`.
fn clock_at(s: &mut Store, minutes: i64, offset: Duration) {
    s.set_now(Some(t0() + Duration::minutes(minutes) + offset));
}

fn count_now(s: &mut Store, counted: i64) -> R {
    let id = s.count_start(CountScope::Products(vec!["P".into()]))?;
    s.count_record(&id, "P", counted)?;
    s.count_post(&id)?;
    Ok(())
}

#[test]
fn a_count_from_a_till_a_year_ahead_does_not_freeze_stock() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, mut b) = two_tills(&dir, 40)?;
    let year = Duration::days(365);
    // B's clock runs a year ahead. The shelf really holds 50.
    clock_at(&mut b, 10, year);
    count_now(&mut b, 50)?;
    assert_eq!(on_hand(&b, "P")?, 50);
    a.set_now(m(20));
    send(&b, &mut a)?;
    assert_eq!(on_hand(&a, "P")?, 50);

    // A has seen the count: what it receives and sells afterwards is after it.
    a.set_now(m(30));
    receive(&mut a, "P", 100)?;
    sell(&mut a, 31, 3)?;
    assert_eq!(on_hand(&a, "P")?, 147, "50 counted + 100 received − 3 sold");
    send(&a, &mut b)?;
    assert_eq!(on_hand(&b, "P")?, 147);

    // A correct recount is not ignored either, and keeps human dates.
    a.set_now(m(40));
    count_now(&mut a, 145)?;
    assert_eq!(on_hand(&a, "P")?, 145);
    send(&a, &mut b)?;
    assert_eq!(on_hand(&b, "P")?, 145);
    let level = &a.stock_levels(Some("P"), false)?[0];
    assert_eq!(level.last_counted_at, m(40), "dates stay this year's");
    let sales = a.sales(&shopsync_core::SalesFilter::default())?;
    assert_eq!(sales[0].at, m(31).unwrap_or_default());

    // A names B, and by how much its records were ahead.
    let flags = a.clock_flags()?;
    assert_eq!(flags.len(), 1, "{flags:?}");
    assert_eq!(flags[0].till_id, b.info().till_id);
    let expected = (year - Duration::minutes(10)).num_milliseconds();
    assert_eq!(flags[0].ahead_ms, expected);
    assert!(
        flags[0].message().contains("364 d 23 h"),
        "{}",
        flags[0].message()
    );
    assert_eq!(a.sync_status()?.clock_flags, flags);
    let view = a.sync_status()?.view(false);
    assert_eq!(view.clock_warnings.len(), 1);
    assert!(view.clock_warnings[0].contains(&b.info().till_id));
    same_everywhere(&a, &b)
}

#[test]
fn a_till_two_hours_slow_sells_after_the_count_it_has_seen() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, mut b) = two_tills(&dir, 20)?;
    let slow = -Duration::hours(2);
    // A counts 10 at 09:00; B, two hours slow, imports it at 09:10 (07:10
    // on its clock) and then sells 3. The shelf holds 7.
    a.set_now(m(60));
    count_now(&mut a, 10)?;
    clock_at(&mut b, 70, slow);
    send(&a, &mut b)?;
    assert_eq!(on_hand(&b, "P")?, 10);
    clock_at(&mut b, 75, slow);
    sell_cash(&mut b, "P", 3, 300)?;
    assert_eq!(on_hand(&b, "P")?, 7, "sold after B saw the count");
    a.set_now(m(80));
    send(&b, &mut a)?;
    assert_eq!(on_hand(&a, "P")?, 7);

    // B's own clock is the wrong one: A's records look ahead to B.
    let flags = b.clock_flags()?;
    assert_eq!(flags.len(), 1, "{flags:?}");
    assert_eq!(flags[0].till_id, a.info().till_id);
    assert_eq!(
        flags[0].ahead_ms,
        Duration::minutes(60 - (70 - 120)).num_milliseconds()
    );
    assert!(
        a.clock_flags()?.is_empty(),
        "records dated behind are normal"
    );
    same_everywhere(&a, &b)
}

#[test]
fn records_within_the_limit_raise_no_flag_and_the_limit_is_configurable() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, mut b) = two_tills(&dir, 5)?;
    clock_at(&mut b, 9, Duration::zero());
    sell(&mut b, 9, 1)?;
    a.set_now(m(0));
    send(&b, &mut a)?;
    assert!(a.clock_flags()?.is_empty(), "9 minutes ahead is within 10");
    a.set_clock_skew_limit_ms(60_000)?;
    assert_eq!(a.clock_skew_limit_ms()?, 60_000);
    sell(&mut b, 8, 1)?;
    send(&b, &mut a)?;
    assert_eq!(a.clock_flags()?.len(), 1, "8 minutes ahead is more than 1");
    assert!(a.set_clock_skew_limit_ms(0).is_err());
    // A flag is shown for a day after the last record that raised it.
    a.set_now(Some(t0() + Duration::days(2)));
    assert!(a.clock_flags()?.is_empty());
    Ok(())
}

#[test]
fn correcting_a_count_line_keeps_its_time_and_a_recount_takes_a_new_one() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, _b) = two_tills(&dir, 20)?;
    a.set_now(m(10));
    let id = a.count_start(CountScope::Products(vec!["P".into()]))?;
    a.set_now(m(11));
    a.count_record(&id, "P", 14)?;
    sell(&mut a, 12, 1)?; // after the line was counted
    a.set_now(m(13));
    let line = a.count_record(&id, "P", 15)?; // a typing error corrected
    assert_eq!(
        line.counted_at,
        m(11),
        "a correction keeps the counted time"
    );
    assert_eq!(line.expected, 20, "expected when it was counted");
    a.set_now(m(14));
    a.count_post(&id)?;
    assert_eq!(
        on_hand(&a, "P")?,
        14,
        "15 counted − 1 sold after it was counted"
    );

    a.set_now(m(20));
    let id = a.count_start(CountScope::Products(vec!["P".into()]))?;
    a.set_now(m(21));
    a.count_record(&id, "P", 10)?;
    sell(&mut a, 22, 1)?;
    a.set_now(m(23));
    let line = a.count_recount(&id, "P", 12)?; // counted again
    assert_eq!(line.counted_at, m(23));
    assert_eq!(line.expected, 13);
    a.set_now(m(24));
    a.count_post(&id)?;
    assert_eq!(
        on_hand(&a, "P")?,
        12,
        "the sale at 22 is inside the recount"
    );
    let level = &a.stock_levels(Some("P"), false)?[0];
    assert_eq!(level.last_counted_at, m(23));
    Ok(())
}

mod random_clocks {
    //! Tills with random clock offsets (a second to a year, either way).
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;

    #[derive(Debug, Clone)]
    enum Step {
        Sell { till: usize, qty: i64 },
        Receive { till: usize, qty: i64 },
        Count { till: usize },
        Send { from: usize, to: usize },
        Wait { minutes: i64 },
    }

    const TILLS: usize = 3;

    fn offset() -> impl Strategy<Value = i64> {
        // Seconds: none, a few, minutes, hours, days, up to a year.
        let magnitude = prop_oneof![
            Just(0i64),
            1i64..60,
            60i64..3_600,
            3_600i64..86_400,
            86_400i64..31_536_000,
            Just(31_536_000i64),
        ];
        (magnitude, any::<bool>()).prop_map(|(s, ahead)| if ahead { s * 1000 } else { -s * 1000 })
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => (0..TILLS, 1i64..5).prop_map(|(till, qty)| Step::Sell { till, qty }),
            2 => (0..TILLS, 1i64..20).prop_map(|(till, qty)| Step::Receive { till, qty }),
            2 => (0..TILLS).prop_map(|till| Step::Count { till }),
            3 => (0..TILLS, 0..TILLS).prop_map(|(from, to)| Step::Send { from, to }),
            1 => (1i64..600).prop_map(|minutes| Step::Wait { minutes }),
        ]
    }

    /// Runs the steps; real time moves a minute per step. With `causal`,
    /// a till gathers every other till's records before it counts and
    /// sends its count to every till straight after, so every movement is
    /// causally before or after every count. Returns the shelf's truth.
    fn run(
        offsets: &[i64],
        steps: &[Step],
        causal: bool,
    ) -> Result<(tempfile::TempDir, Vec<Store>, i64), BoxErr> {
        let dir = tempfile::tempdir()?;
        let (a, b) = two_tills(&dir, 30)?;
        let c = till_from(dir.path(), &a, "C", None)?;
        let mut tills = vec![a, b, c];
        let mut truth = 30;
        let mut real = 0i64;
        let set = |s: &mut Store, real: i64, k: usize| {
            s.set_now(Some(
                t0() + Duration::minutes(real) + Duration::milliseconds(offsets[k]),
            ));
        };
        for st in steps {
            real += 1;
            match *st {
                Step::Sell { till, qty } => {
                    set(&mut tills[till], real, till);
                    sell_cash(&mut tills[till], "P", qty, 100 * qty)?;
                    truth -= qty;
                }
                Step::Receive { till, qty } => {
                    set(&mut tills[till], real, till);
                    receive(&mut tills[till], "P", qty)?;
                    truth += qty;
                }
                Step::Count { till } => {
                    if causal {
                        for k in 0..TILLS {
                            if k != till {
                                exchange(&mut tills, k, till, real, offsets)?;
                            }
                        }
                    }
                    set(&mut tills[till], real, till);
                    // Sold past what was received, the shelf is empty (the
                    // till's figure goes negative, a shelf cannot): what is
                    // counted is the truth from here on.
                    truth = truth.max(0);
                    count_now(&mut tills[till], truth)?;
                    if causal {
                        for k in 0..TILLS {
                            if k != till {
                                exchange(&mut tills, till, k, real, offsets)?;
                            }
                        }
                    }
                }
                Step::Send { from, to } if from != to => {
                    exchange(&mut tills, from, to, real, offsets)?;
                }
                Step::Send { .. } => {}
                Step::Wait { minutes } => real += minutes,
            }
        }
        real += 1;
        for _ in 0..2 {
            for from in 0..TILLS {
                for to in 0..TILLS {
                    if from != to {
                        exchange(&mut tills, from, to, real, offsets)?;
                    }
                }
            }
        }
        Ok((dir, tills, truth))
    }

    fn exchange(
        tills: &mut [Store],
        from: usize,
        to: usize,
        real: i64,
        offsets: &[i64],
    ) -> Result<(), BoxErr> {
        tills[to].set_now(Some(
            t0() + Duration::minutes(real) + Duration::milliseconds(offsets[to]),
        ));
        let bundle = Bundle::decode(&tills[from].export_bundle()?.encode()?)?;
        tills[to].import_bundle(bundle)?;
        Ok(())
    }

    type BoxErr = Box<dyn std::error::Error>;

    fn agree(tills: &[Store]) -> Result<(), BoxErr> {
        for k in 1..tills.len() {
            let (diffs, _) = shopsync_core::projection::rebuild::compare(
                tills[0].connection(),
                tills[k].connection(),
            )?;
            if !diffs.is_empty() {
                return Err(format!("till {k} differs from till 0: {diffs:?}").into());
            }
        }
        let report = tills[0].verify(&mut |_| {})?;
        if !report.differences.is_empty() {
            return Err(format!("incremental != rebuild: {:?}", report.differences).into());
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 24,
            max_shrink_iters: 200,
            ..ProptestConfig::default()
        })]

        /// Whatever the clocks: every replica agrees; when every count is
        /// causally ordered with every movement, stock is the shelf's truth.
        #[test]
        fn causal_histories_reach_the_shelf_truth_whatever_the_clocks(
            offsets in proptest::collection::vec(offset(), TILLS),
            steps in proptest::collection::vec(step(), 1..25),
        ) {
            let (_dir, tills, truth) = run(&offsets, &steps, true)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            agree(&tills).map_err(|e| TestCaseError::fail(e.to_string()))?;
            for (k, t) in tills.iter().enumerate() {
                let on_hand = on_hand(t, "P").map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(on_hand, truth, "till {} of {:?}", k, offsets);
            }
        }

        /// Counts and movements made without knowledge of each other (any
        /// exchange order): every replica still agrees.
        #[test]
        fn concurrent_histories_agree_whatever_the_clocks(
            offsets in proptest::collection::vec(offset(), TILLS),
            steps in proptest::collection::vec(step(), 1..25),
        ) {
            let (_dir, tills, _) = run(&offsets, &steps, false)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            agree(&tills).map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
    }
}
