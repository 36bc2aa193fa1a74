//! Cash drawer sessions (issue 10): thin commands over the core's drawer
//! operations, acting as the signed-in staff member (an approver's PIN
//! passes through like on every other write). Money arrives as the decimal
//! text the cashier typed and is parsed here with the store's currency.

use std::collections::{BTreeMap, HashMap};

use shopsync_core::drawer::report::DrawerDayReport;
use shopsync_core::drawer::{ClosingCount, DrawerReport, SessionState, denominations};
use shopsync_core::error::money_err;
use shopsync_core::{CoreError, Result, Store};
use shopsync_types::Currency;
use shopsync_types::drawer::{
    DrawerCloseInput, DrawerCountLine, DrawerDayInput, DrawerDayView, DrawerMoveInput,
    DrawerMovementView, DrawerOpenInput, DrawerSessionState, DrawerSessionView, DrawerStatusView,
};
use shopsync_types::ipc::IdInput;
use tauri::State;

use crate::state::{AppState, CmdResult};

type S<'a> = State<'a, AppState>;

fn money(c: Currency, field: &str, text: &str) -> Result<i64> {
    c.parse(text.trim()).map_err(money_err(field))
}

/// The close form's input as the core's count: the counted total when
/// given, else the count by note and coin (each once; zero lines dropped).
pub fn closing_count(c: Currency, req: &DrawerCloseInput) -> Result<ClosingCount> {
    if let Some(total) = req
        .counted_total
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        return Ok(ClosingCount::Total(money(c, "counted total", total)?));
    }
    let mut map = BTreeMap::new();
    for line in &req.counts {
        let value = money(c, "count", &line.denomination)?;
        if map.insert(value, line.count).is_some() {
            return Err(CoreError::invalid(
                "count",
                format!("{} is counted twice", c.amount(value)),
            ));
        }
    }
    Ok(ClosingCount::Denominations(map))
}

/// Staff ids to names, for "opened by" and the like.
fn names(s: &Store) -> Result<HashMap<String, String>> {
    Ok(s.staff()?.into_iter().map(|m| (m.id, m.name)).collect())
}

fn name_of(names: &HashMap<String, String>, id: Option<String>) -> Option<String> {
    // An id without a name here (staff not synced yet) is still shown.
    id.map(|id| names.get(&id).cloned().unwrap_or(id))
}

pub fn session_view(r: DrawerReport, names: &HashMap<String, String>) -> DrawerSessionView {
    DrawerSessionView {
        session_id: r.session_id,
        till_id: r.till_id,
        state: match r.state {
            SessionState::Open => DrawerSessionState::Open,
            SessionState::Closed => DrawerSessionState::Closed,
        },
        opened_at: r.opened_at,
        opened_by: name_of(names, r.opened_by),
        float: r.float,
        sales_count: r.sales_count,
        cash_sales: r.cash_sales,
        refunds_count: r.refunds_count,
        cash_refunds: r.cash_refunds,
        cash_in: r.cash_in,
        cash_out: r.cash_out,
        movements: r
            .movements
            .into_iter()
            .map(|m| DrawerMovementView {
                at: m.at,
                direction: m.direction,
                amount: m.amount,
                reason: m.reason,
                by: name_of(names, m.staff_id),
            })
            .collect(),
        expected: r.expected,
        closed_at: r.closed_at,
        closed_by: name_of(names, r.closed_by),
        counted: r.counted,
        over_short: r.over_short,
        expected_at_close: r.expected_at_close.filter(|e| *e != r.expected),
        denominations: r
            .denominations
            .into_iter()
            .map(|d| DrawerCountLine {
                denomination: d.denomination,
                count: d.count,
                total: d.total,
            })
            .collect(),
    }
}

fn day_view(r: DrawerDayReport, names: &HashMap<String, String>) -> DrawerDayView {
    DrawerDayView {
        date: r.date,
        till_id: r.till_id,
        sessions: r
            .sessions
            .into_iter()
            .map(|x| session_view(x, names))
            .collect(),
        float: r.float,
        cash_sales: r.cash_sales,
        cash_refunds: r.cash_refunds,
        cash_in: r.cash_in,
        cash_out: r.cash_out,
        expected: r.expected,
        counted: r.counted,
        over_short: r.over_short,
    }
}

/// A session's report as the UI sees it (staff named).
fn report(s: &Store, r: DrawerReport) -> Result<DrawerSessionView> {
    Ok(session_view(r, &names(s)?))
}

/// The Drawer screen's state: the open session's X report, whether cash
/// needs a session, and the notes and coins to count by.
pub fn status(s: &Store) -> Result<DrawerStatusView> {
    let required = s
        .settings()?
        .iter()
        .any(|(k, v)| k == shopsync_core::drawer::session::SETTING && v.trim() == "required");
    let c = s.currency();
    Ok(DrawerStatusView {
        session: s.drawer_status()?.map(|r| report(s, r)).transpose()?,
        required,
        denominations: denominations::of(c.code())
            .unwrap_or_default()
            .iter()
            .map(|&d| c.amount(d))
            .collect(),
    })
}

#[tauri::command]
pub async fn drawer_status(state: S<'_>) -> CmdResult<DrawerStatusView> {
    state.with(|s| status(s)).await
}

#[tauri::command]
pub async fn drawer_open_session(
    state: S<'_>,
    req: DrawerOpenInput,
    approve_pin: Option<String>,
) -> CmdResult<DrawerSessionView> {
    state
        .with_approval(approve_pin, move |s| {
            let float = money(s.currency(), "float", &req.float)?;
            let r = s.open_drawer_session(float)?;
            report(s, r)
        })
        .await
}

#[tauri::command]
pub async fn drawer_cash_in(
    state: S<'_>,
    req: DrawerMoveInput,
    approve_pin: Option<String>,
) -> CmdResult<DrawerSessionView> {
    state
        .with_approval(approve_pin, move |s| {
            let amount = money(s.currency(), "amount", &req.amount)?;
            let r = s.drawer_cash_in(amount, &req.reason)?;
            report(s, r)
        })
        .await
}

#[tauri::command]
pub async fn drawer_cash_out(
    state: S<'_>,
    req: DrawerMoveInput,
    approve_pin: Option<String>,
) -> CmdResult<DrawerSessionView> {
    state
        .with_approval(approve_pin, move |s| {
            let amount = money(s.currency(), "amount", &req.amount)?;
            let r = s.drawer_cash_out(amount, &req.reason)?;
            report(s, r)
        })
        .await
}

/// Closes this till's open session; answers its Z report.
#[tauri::command]
pub async fn drawer_close_session(
    state: S<'_>,
    req: DrawerCloseInput,
    approve_pin: Option<String>,
) -> CmdResult<DrawerSessionView> {
    state
        .with_approval(approve_pin, move |s| {
            let count = closing_count(s.currency(), &req)?;
            let r = s.close_drawer_session(count)?;
            report(s, r)
        })
        .await
}

#[tauri::command]
pub async fn drawer_x_report(state: S<'_>) -> CmdResult<DrawerSessionView> {
    state
        .with(|s| {
            let r = s.drawer_x_report()?;
            report(s, r)
        })
        .await
}

/// One session's report (X while open, Z once closed), of any till.
#[tauri::command]
pub async fn drawer_session_report(state: S<'_>, req: IdInput) -> CmdResult<DrawerSessionView> {
    state
        .with(move |s| {
            let r = s.drawer_session_report(&req.id)?;
            report(s, r)
        })
        .await
}

/// The Z report of a store day, for this till or the whole store.
#[tauri::command]
pub async fn drawer_day_report(state: S<'_>, req: DrawerDayInput) -> CmdResult<DrawerDayView> {
    state
        .with(move |s| {
            let till = (!req.whole_store).then(|| s.info().till_id.clone());
            let r = s.drawer_day_report(req.date, till.as_deref())?;
            Ok(day_view(r, &names(s)?))
        })
        .await
}

/// The sessions opened or closed on a store day (this till or every till).
#[tauri::command]
pub async fn drawer_sessions(
    state: S<'_>,
    req: DrawerDayInput,
) -> CmdResult<Vec<DrawerSessionView>> {
    state
        .with(move |s| {
            let till = (!req.whole_store).then(|| s.info().till_id.clone());
            let list = s.drawer_sessions(Some(req.date), till.as_deref())?;
            let names = names(s)?;
            Ok(list.into_iter().map(|r| session_view(r, &names)).collect())
        })
        .await
}

#[cfg(test)]
mod tests {
    use shopsync_core::InitOptions;
    use shopsync_types::ErrorCode;
    use shopsync_types::drawer::{DRAWER_SESSION_FIELD, DrawerCountInput};

    use super::*;

    fn store(dir: &tempfile::TempDir, currency: &str) -> Result<Store> {
        Store::init(
            &dir.path().join("till.db"),
            InitOptions {
                store_name: "Corner Shop".into(),
                till_name: "Till 1".into(),
                currency: currency.into(),
            },
        )
    }

    fn count(denomination: &str, count: i64) -> DrawerCountInput {
        DrawerCountInput {
            denomination: denomination.into(),
            count,
        }
    }

    #[test]
    fn the_close_form_becomes_the_cores_count() -> Result<()> {
        let eur = Currency::from_code("EUR").map_err(money_err("currency"))?;
        let by_notes = DrawerCloseInput {
            counts: vec![count("20.00", 2), count(" 0.50 ", 3)],
            counted_total: Some("  ".into()),
        };
        assert_eq!(
            closing_count(eur, &by_notes)?,
            ClosingCount::Denominations(BTreeMap::from([(2_000, 2), (50, 3)]))
        );
        let total = DrawerCloseInput {
            counts: vec![count("20.00", 2)],
            counted_total: Some("41.50".into()),
        };
        assert_eq!(closing_count(eur, &total)?, ClosingCount::Total(4_150));
        Ok(())
    }

    #[test]
    fn a_note_counted_twice_or_a_bad_amount_is_refused() {
        let Ok(eur) = Currency::from_code("EUR") else {
            panic!("EUR is a currency");
        };
        let twice = DrawerCloseInput {
            counts: vec![count("20.00", 2), count("20", 1)],
            counted_total: None,
        };
        let err = closing_count(eur, &twice).map(|_| ()).unwrap_err().info();
        assert_eq!(err.code, ErrorCode::InvalidInput);
        assert!(err.message.contains("counted twice"), "{}", err.message);
        let bad = DrawerCloseInput {
            counts: vec![],
            counted_total: Some("12,3,4".into()),
        };
        let err = closing_count(eur, &bad).map(|_| ()).unwrap_err().info();
        assert_eq!(err.field.as_deref(), Some("counted total"));
    }

    #[test]
    fn status_shows_the_open_session_and_the_notes_to_count() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| CoreError::io("temp dir", e))?;
        let mut s = store(&dir, "EUR")?;
        let closed = status(&s)?;
        assert!(closed.session.is_none());
        assert!(!closed.required);
        assert_eq!(closed.denominations.len(), 15);
        assert_eq!(closed.denominations[0].to_string(), "500.00");

        s.set_setting("cash_sessions", "required")?;
        s.open_drawer_session(10_000)?;
        s.drawer_cash_out(2_500, "bank drop")?;
        let open = status(&s)?;
        assert!(open.required);
        let Some(session) = open.session else {
            panic!("no open session shown");
        };
        assert_eq!(session.state, DrawerSessionState::Open);
        assert_eq!(session.expected.minor, 7_500);
        assert_eq!(session.movements.len(), 1);
        assert_eq!(session.movements[0].reason, "bank drop");
        assert_eq!(session.expected_at_close, None);
        Ok(())
    }

    #[test]
    fn a_closed_session_reports_over_short_and_its_count() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| CoreError::io("temp dir", e))?;
        let mut s = store(&dir, "EUR")?;
        s.open_drawer_session(5_000)?;
        let c = s.currency();
        let count = closing_count(
            c,
            &DrawerCloseInput {
                counts: vec![count("20.00", 2), count("5.00", 1), count("2.00", 2)],
                counted_total: None,
            },
        )?;
        let closed = s.close_drawer_session(count)?;
        let z = report(&s, closed)?;
        assert_eq!(z.state, DrawerSessionState::Closed);
        assert_eq!(z.counted.map(|a| a.minor), Some(4_900));
        assert_eq!(z.over_short.map(|a| a.minor), Some(-100));
        assert_eq!(z.denominations.len(), 3);
        assert_eq!(z.denominations[0].total.minor, 4_000);
        Ok(())
    }

    #[test]
    fn a_currency_without_notes_counts_a_total() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| CoreError::io("temp dir", e))?;
        let s = store(&dir, "JPY")?;
        assert!(status(&s)?.denominations.is_empty());
        Ok(())
    }

    #[test]
    fn a_missing_session_names_the_drawer_not_the_cli() {
        for e in [CoreError::DrawerSessionRequired, CoreError::NoDrawerSession] {
            let info = crate::convert::error_info(e);
            assert_eq!(info.code, ErrorCode::Conflict);
            assert_eq!(info.field.as_deref(), Some(DRAWER_SESSION_FIELD));
            assert!(!info.message.contains("shopsync"), "{}", info.message);
        }
    }
}
