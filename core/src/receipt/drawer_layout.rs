//! The X and Z reports of cash drawer sessions, and the Z report of a store
//! day, as printed lines for the thermal printer: the receipt's header and
//! rows (see [`super::layout`]), then the session's cash, the closing count
//! and over/short, the time printed, and a cut.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use shopsync_types::ReceiptPaper;

use super::codepage::fold;
use super::commands::Align;
use super::labels;
use super::layout::{Builder, Piece, Shop, head};
use crate::drawer::report::{DrawerDayReport, DrawerReport, SessionState};

/// What a drawer report names besides the shop: staff and tills by name,
/// times on the store's clock face.
pub struct ReportContext<'a> {
    pub shop: &'a Shop,
    /// Staff ids to names (an id without a name prints as the id).
    pub staff: &'a HashMap<String, String>,
    /// This till's id: its sessions print the till's name, others' their id.
    pub this_till: &'a str,
    /// An instant on the store's clock face.
    pub local: &'a dyn Fn(DateTime<Utc>) -> NaiveDateTime,
    /// When the report is printed (an X report is a moment's picture).
    pub printed_at: DateTime<Utc>,
    pub paper: ReceiptPaper,
}

impl ReportContext<'_> {
    fn time(&self, t: DateTime<Utc>) -> String {
        (self.local)(t)
            .format(self.shop.locale.date_time_format())
            .to_string()
    }

    fn who(&self, id: Option<&str>) -> Option<String> {
        id.map(|id| {
            self.staff
                .get(id)
                .cloned()
                .unwrap_or_else(|| id.to_string())
        })
    }

    fn till(&self, id: &str) -> String {
        if id == self.this_till {
            self.shop.till_name.clone()
        } else {
            id.to_string()
        }
    }

    fn builder(&self) -> Builder<'_> {
        Builder {
            width: self.paper.columns(),
            words: labels::for_locale(self.shop.locale),
            shop: self.shop,
            out: Vec::new(),
        }
    }
}

/// "time" or "time, by name".
fn when_by(cx: &ReportContext, at: DateTime<Utc>, by: Option<&str>, word: &str) -> String {
    match cx.who(by) {
        Some(name) => format!("{}, {word} {name}", cx.time(at)),
        None => cx.time(at),
    }
}

fn title(b: &mut Builder, text: &str) {
    b.push(fold(text), Align::Center, true, false);
}

fn tail(b: &mut Builder, cx: &ReportContext) {
    b.rule();
    let printed = b.words.drawer.printed;
    b.row(printed, &cx.time(cx.printed_at), false);
    b.out.push(Piece::Feed(3));
    b.out.push(Piece::Cut);
}

/// One session: its X report while open, its Z report once closed.
pub fn session_report(r: &DrawerReport, cx: &ReportContext) -> Vec<Piece> {
    let mut b = cx.builder();
    let w = &b.words.drawer;
    let till = b.words.till;
    head(&mut b, false);
    let closed = r.state == SessionState::Closed;
    title(&mut b, if closed { w.z_title } else { w.x_title });
    b.row(&format!("{till} {}", cx.till(&r.till_id)), "", false);
    b.row(
        w.opened,
        &when_by(cx, r.opened_at, r.opened_by.as_deref(), w.by),
        false,
    );
    if let Some(at) = r.closed_at {
        b.row(
            w.closed,
            &when_by(cx, at, r.closed_by.as_deref(), w.by),
            false,
        );
    }
    b.rule();
    b.row(w.float, &b.money(r.float.minor), false);
    let sales = format!("{} ({})", w.cash_sales, r.sales_count);
    b.row(&sales, &b.money(r.cash_sales.minor), false);
    let refunds = format!("{} ({})", w.cash_refunds, r.refunds_count);
    b.row(&refunds, &b.money(-r.cash_refunds.minor), false);
    for m in &r.movements {
        let (word, sign) = if m.direction == "in" {
            (w.cash_in, 1)
        } else {
            (w.cash_out, -1)
        };
        let label = format!("{word}: {}", m.reason);
        b.row(&label, &b.money(sign * m.amount.minor), false);
    }
    b.rule();
    b.row(w.expected, &b.money(r.expected.minor), true);
    for d in &r.denominations {
        let label = format!("  {} x {}", b.money(d.denomination.minor), d.count);
        b.row(&label, &b.money(d.total.minor), false);
    }
    if let Some(c) = r.counted {
        b.row(w.counted, &b.money(c.minor), false);
    }
    if let Some(o) = r.over_short {
        b.row(w.over_short, &b.money(o.minor), true);
    }
    tail(&mut b, cx);
    b.out
}

/// The Z report of a store day: each session closed that day (till, close
/// time, over/short) and the day's totals.
pub fn day_report(r: &DrawerDayReport, cx: &ReportContext) -> Vec<Piece> {
    let mut b = cx.builder();
    let w = &b.words.drawer;
    let till = b.words.till;
    head(&mut b, false);
    title(&mut b, w.day_title);
    let date = r.date.format(cx.shop.locale.date_format()).to_string();
    b.row(b.words.date, &date, false);
    let whose = match &r.till_id {
        Some(id) => format!("{till} {}", cx.till(id)),
        None => w.all_tills.to_string(),
    };
    b.row(&whose, "", false);
    b.rule();
    if r.sessions.is_empty() {
        b.wrapped(w.no_sessions, Align::Left, false);
    } else {
        b.row(w.sessions, "", true);
        for s in &r.sessions {
            let closed = s.closed_at.map(|t| cx.time(t)).unwrap_or_default();
            b.wrapped(
                &format!("{} {closed}", cx.till(&s.till_id)),
                Align::Left,
                false,
            );
            let over = s.over_short.map_or(0, |o| o.minor);
            b.row(&format!("  {}", w.over_short), &b.money(over), false);
        }
        b.rule();
    }
    b.row(w.float, &b.money(r.float.minor), false);
    b.row(w.cash_sales, &b.money(r.cash_sales.minor), false);
    b.row(w.cash_refunds, &b.money(-r.cash_refunds.minor), false);
    b.row(w.cash_in, &b.money(r.cash_in.minor), false);
    b.row(w.cash_out, &b.money(-r.cash_out.minor), false);
    b.rule();
    b.row(w.expected, &b.money(r.expected.minor), true);
    b.row(w.counted, &b.money(r.counted.minor), false);
    b.row(w.over_short, &b.money(r.over_short.minor), true);
    tail(&mut b, cx);
    b.out
}
