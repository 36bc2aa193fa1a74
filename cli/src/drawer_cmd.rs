//! `shopsync drawer …` for drawer sessions (issue 10): open, cash in/out,
//! close with the count, and the X/Z reports. (`drawer open`, the no-sale
//! kick, is in `printer_cmd`.)

use std::collections::BTreeMap;
use std::fmt::Write;

use shopsync_core::drawer::report::DrawerDayReport;
use shopsync_core::drawer::{ClosingCount, DrawerReport, SessionState};
use shopsync_core::types::Currency;
use shopsync_core::{CoreError, Result, Store};

use crate::args::{CashMoveArgs, DrawerCmd};
use crate::output::Output;
use crate::parse;

fn money(c: Currency, field: &str, text: &str) -> Result<i64> {
    c.parse(text)
        .map_err(shopsync_core::error::money_err(field))
}

/// `--count VALUE=N`, each note or coin once.
fn closing_count(c: Currency, count: &[String], total: Option<&str>) -> Result<ClosingCount> {
    if let Some(t) = total {
        return Ok(ClosingCount::Total(money(c, "counted total", t)?));
    }
    if count.is_empty() {
        return Err(CoreError::invalid(
            "count",
            "give the count: --count 50.00=2 --count 0.20=13 … (or --counted-total X)",
        ));
    }
    let mut map = BTreeMap::new();
    for item in count {
        let (value, n) = item.split_once('=').ok_or_else(|| {
            CoreError::invalid("count", format!("'{item}' is not VALUE=N (e.g. 20.00=3)"))
        })?;
        let value = money(c, "count", value)?;
        let n = parse::quantity(n, "count")?;
        if map.insert(value, n).is_some() {
            return Err(CoreError::invalid(
                "count",
                format!("{} is counted twice", c.amount(value)),
            ));
        }
    }
    Ok(ClosingCount::Denominations(map))
}

pub fn drawer(store: &mut Store, cmd: DrawerCmd) -> Result<Output> {
    let c = store.currency();
    match cmd {
        DrawerCmd::Open => crate::printer_cmd::open_drawer(store),
        DrawerCmd::OpenSession { float } => {
            let r = store.open_drawer_session(money(c, "float", &float)?)?;
            Output::new(session(&r), &r)
        }
        DrawerCmd::CashIn(CashMoveArgs { amount, reason }) => {
            let r = store.drawer_cash_in(money(c, "amount", &amount)?, &reason)?;
            Output::new(session(&r), &r)
        }
        DrawerCmd::CashOut(CashMoveArgs { amount, reason }) => {
            let r = store.drawer_cash_out(money(c, "amount", &amount)?, &reason)?;
            Output::new(session(&r), &r)
        }
        DrawerCmd::CloseSession {
            count,
            counted_total,
        } => {
            let count = closing_count(c, &count, counted_total.as_deref())?;
            let r = store.close_drawer_session(count)?;
            Output::new(session(&r), &r)
        }
        DrawerCmd::Status => {
            let r = store.drawer_status()?;
            let human = match &r {
                Some(r) => session(r),
                None => "no drawer session is open on this till".to_string(),
            };
            Output::new(human, &r)
        }
        DrawerCmd::XReport => {
            let r = store.drawer_x_report()?;
            Output::new(session(&r), &r)
        }
        DrawerCmd::ZReport {
            session: Some(id), ..
        } => {
            let r = store.drawer_session_report(&id)?;
            Output::new(session(&r), &r)
        }
        DrawerCmd::ZReport {
            date,
            till,
            store: all,
            ..
        } => {
            let date = match date {
                Some(d) => parse::date(&d)?,
                None => store.today(),
            };
            let till = match (all, till) {
                (true, _) => None,
                (false, Some(t)) => Some(t),
                (false, None) => Some(store.info().till_id.clone()),
            };
            let r = store.drawer_day_report(date, till.as_deref())?;
            Output::new(day(&r), &r)
        }
        DrawerCmd::Sessions { date, till } => {
            let date = date.as_deref().map(parse::date).transpose()?;
            let list = store.drawer_sessions(date, till.as_deref())?;
            let human: String = list.iter().map(summary_line).collect();
            Output::new(
                if list.is_empty() {
                    "no drawer sessions".to_string()
                } else {
                    human
                },
                &list,
            )
        }
    }
}

fn summary_line(r: &DrawerReport) -> String {
    format!(
        "{}  till {}  {}  float {}  expected {}{}\n",
        r.session_id,
        r.till_id,
        match r.state {
            SessionState::Open => "open  ",
            SessionState::Closed => "closed",
        },
        r.float,
        r.expected,
        match (&r.counted, &r.over_short) {
            (Some(c), Some(o)) => format!("  counted {c}  over/short {o}"),
            _ => String::new(),
        }
    )
}

/// An X report (open) or Z report (closed) of one session.
fn session(r: &DrawerReport) -> String {
    let mut s = String::new();
    let title = match r.state {
        SessionState::Open => "X report",
        SessionState::Closed => "Z report",
    };
    let _ = writeln!(
        s,
        "{title}: drawer session {} (till {})",
        r.session_id, r.till_id
    );
    let _ = writeln!(
        s,
        "  opened         {}",
        r.opened_at.format("%Y-%m-%d %H:%M UTC")
    );
    let _ = writeln!(s, "  float          {:>12}", r.float.to_string());
    let _ = writeln!(
        s,
        "  cash sales     {:>12}   ({} sales)",
        r.cash_sales.to_string(),
        r.sales_count
    );
    let _ = writeln!(
        s,
        "  cash refunds   {:>12}   ({} refunds)",
        r.cash_refunds.to_string(),
        r.refunds_count
    );
    for m in &r.movements {
        let _ = writeln!(
            s,
            "  cash {:<3}       {:>12}   {}",
            m.direction,
            m.amount.to_string(),
            m.reason
        );
    }
    let _ = writeln!(s, "  expected       {:>12}", r.expected.to_string());
    if let (Some(counted), Some(over)) = (&r.counted, &r.over_short) {
        for d in &r.denominations {
            let _ = writeln!(
                s,
                "  {:>10} × {:<5} {:>12}",
                d.denomination.to_string(),
                d.count,
                d.total.to_string()
            );
        }
        let _ = writeln!(s, "  counted        {:>12}", counted.to_string());
        let _ = writeln!(s, "  over/short     {:>12}", over.to_string());
        if let Some(at_close) = r.expected_at_close
            && at_close != r.expected
        {
            let _ = writeln!(
                s,
                "  (expected when closed {at_close}: records of the session arrived later)"
            );
        }
    }
    s.trim_end().to_string()
}

fn day(r: &DrawerDayReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Drawer Z report {} ({})",
        r.date,
        r.till_id
            .as_deref()
            .map_or_else(|| "every till".to_string(), |t| format!("till {t}"))
    );
    for x in &r.sessions {
        s.push_str("  ");
        s.push_str(&summary_line(x));
    }
    let _ = writeln!(s, "  float          {:>12}", r.float.to_string());
    let _ = writeln!(s, "  cash sales     {:>12}", r.cash_sales.to_string());
    let _ = writeln!(s, "  cash refunds   {:>12}", r.cash_refunds.to_string());
    let _ = writeln!(s, "  cash in        {:>12}", r.cash_in.to_string());
    let _ = writeln!(s, "  cash out       {:>12}", r.cash_out.to_string());
    let _ = writeln!(s, "  expected       {:>12}", r.expected.to_string());
    let _ = writeln!(s, "  counted        {:>12}", r.counted.to_string());
    let _ = writeln!(s, "  over/short     {:>12}", r.over_short.to_string());
    s.trim_end().to_string()
}
