//! The store's time zone: report days, charts and "today" follow the
//! store's `time_zone` setting, not the machine's zone, on every till.

mod common;

use chrono::NaiveDate;
use common::{R, Till, at, product, sell_cash, send};
use shopsync_core::{SalesFilter, Store};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn shop(dir: &std::path::Path) -> Result<Store, shopsync_core::CoreError> {
    Till {
        now: Some(at(2026, 12, 1, 9, 0)),
        stock: vec![(product("TEA", "Tea", 300), 100)],
        ..Till::default()
    }
    .open(dir)
}

fn sales_on(s: &Store, d: NaiveDate) -> Result<usize, shopsync_core::CoreError> {
    Ok(s.sales(&SalesFilter {
        from: Some(d),
        to: Some(d),
        ..SalesFilter::default()
    })?
    .len())
}

#[test]
fn a_late_evening_sale_is_on_the_store_day_not_the_utc_day() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = shop(dir.path())?;
    // 23:30 UTC on 1 December is 12:30 on 2 December in Auckland (UTC+13)
    // and 15:30 on 1 December in Los Angeles (UTC-8).
    s.set_now(Some(at(2026, 12, 1, 23, 30)));
    sell_cash(&mut s, "TEA", 1, 300)?;

    s.set_setting("time_zone", "Pacific/Auckland")?;
    assert_eq!(s.info().time_zone, "Pacific/Auckland");
    assert_eq!(s.today(), date(2026, 12, 2));
    assert_eq!(s.z_report(date(2026, 12, 2))?.sales_count, 1);
    assert_eq!(s.z_report(date(2026, 12, 1))?.sales_count, 0);
    assert_eq!(
        (
            sales_on(&s, date(2026, 12, 1))?,
            sales_on(&s, date(2026, 12, 2))?
        ),
        (0, 1)
    );
    let chart = s.sales_chart(date(2026, 12, 2), date(2026, 12, 1), date(2026, 12, 2))?;
    assert_eq!(chart.by_hour[12].sales, 1, "{:?}", chart.by_hour);
    assert_eq!(
        chart.by_day.iter().map(|b| b.sales).collect::<Vec<_>>(),
        vec![0, 1]
    );

    s.set_setting("time_zone", "America/Los_Angeles")?;
    assert_eq!(s.today(), date(2026, 12, 1));
    assert_eq!(s.z_report(date(2026, 12, 1))?.sales_count, 1);
    assert_eq!(s.z_report(date(2026, 12, 2))?.sales_count, 0);
    let chart = s.sales_chart(date(2026, 12, 1), date(2026, 12, 1), date(2026, 12, 2))?;
    assert_eq!(chart.by_hour[15].sales, 1, "{:?}", chart.by_hour);
    assert_eq!(
        chart.by_day.iter().map(|b| b.sales).collect::<Vec<_>>(),
        vec![1, 0]
    );
    Ok(())
}

#[test]
fn the_repeated_hour_of_a_25_hour_day_adds_up_in_one_bucket() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = shop(dir.path())?;
    s.set_setting("time_zone", "Europe/Berlin")?;
    // Berlin goes from UTC+2 to UTC+1 at 01:00 UTC on 25 October 2026:
    // 00:30 UTC and 01:30 UTC are both 02:30 local.
    for (h, mi) in [(0, 30), (1, 30), (22, 59), (23, 0)] {
        s.set_now(Some(at(2026, 10, 25, h, mi)));
        sell_cash(&mut s, "TEA", 1, 300)?;
    }
    let day = date(2026, 10, 25);
    let chart = s.sales_chart(day, day, day)?;
    assert_eq!(chart.by_hour[2].sales, 2, "{:?}", chart.by_hour);
    // 22:59 UTC is 23:59 local, still the 25th; 23:00 UTC is the 26th.
    assert_eq!(chart.by_hour[23].sales, 1);
    assert_eq!(chart.by_day[0].sales, 3);
    assert_eq!(s.z_report(day)?.sales_count, 3);
    assert_eq!(s.z_report(date(2026, 10, 26))?.sales_count, 1);
    Ok(())
}

#[test]
fn an_unknown_zone_is_refused_and_changes_nothing() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = shop(dir.path())?;
    s.set_setting("time_zone", "Europe/Berlin")?;
    for bad in ["Mars/Olympus", "UTC+2", "Europe/Berlin; DROP"] {
        let err = s.set_setting("time_zone", bad).unwrap_err();
        assert!(err.to_string().contains("time zone"), "{err}");
    }
    // Several settings at once: one bad value refuses them all.
    assert!(
        s.set_settings(&[("store_name", "Renamed"), ("time_zone", "Nowhere/Land")])
            .is_err()
    );
    assert_eq!(s.info().store_name, "S");
    assert_eq!(s.info().time_zone, "Europe/Berlin");
    // Empty goes back to the machine's zone.
    s.set_setting("time_zone", "")?;
    assert_eq!(s.info().time_zone, "");
    Ok(())
}

#[test]
fn the_zone_travels_to_other_tills_and_a_zone_they_do_not_know_falls_back() -> R {
    let dir = tempfile::tempdir()?;
    let mut a = shop(dir.path())?;
    let mut b = common::till_from(dir.path(), &a, "B", Some(at(2026, 12, 1, 9, 0)))?;
    b.set_now(Some(at(2026, 12, 1, 23, 30)));
    sell_cash(&mut b, "TEA", 1, 300)?;
    a.set_setting("time_zone", "Pacific/Auckland")?;
    send(&a, &mut b)?;
    send(&b, &mut a)?;
    assert_eq!(b.info().time_zone, "Pacific/Auckland");
    assert_eq!(
        a.z_report(date(2026, 12, 2))?,
        b.z_report(date(2026, 12, 2))?
    );
    assert_eq!(b.z_report(date(2026, 12, 2))?.sales_count, 1);

    // A name from a newer zone database (here: written straight into the
    // projection) must not stop the till from opening: its days follow the
    // machine until it is updated.
    let path = b.path().to_path_buf();
    b.connection().execute(
        "UPDATE settings SET value = 'Mars/Olympus' WHERE key = 'time_zone'",
        [],
    )?;
    drop(b);
    let b = Store::open(&path)?;
    assert_eq!(b.info().time_zone, "");
    assert_eq!(b.info().store_name, "S");
    Ok(())
}
