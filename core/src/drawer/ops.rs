//! Opening a drawer session, cash in and out, closing it. Each checks its
//! input and the session's state inside the write's transaction, appends
//! one record, and returns the session's report — or changes nothing and
//! returns a typed error.

use std::collections::BTreeMap;

use crate::error::{CoreError, Result};
use crate::ids::new_id;
use crate::records::{
    DrawerCloseRecord, DrawerMoveRecord, DrawerOpenRecord, MoveDirection, Record,
};
use crate::staff::Action;
use crate::store::Store;
use crate::validate::{MAX_QTY, MAX_TEXT_LEN};

use super::denominations;
use super::report::{DrawerReport, session_report};
use super::rules::{MAX_DRAWER_AMOUNT, MAX_EXPECTED};
use super::session;

/// What was counted in the drawer at close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClosingCount {
    /// Denomination (minor units) → how many; only the store currency's
    /// notes and coins (`super::denominations`).
    Denominations(BTreeMap<i64, i64>),
    /// The total counted directly (any currency).
    Total(i64),
}

fn amount_in_range(field: &str, value: i64, min: i64) -> Result<i64> {
    if (min..=MAX_DRAWER_AMOUNT).contains(&value) {
        Ok(value)
    } else if value < min {
        Err(CoreError::invalid(
            field,
            if min > 0 {
                format!("{field} must be more than zero")
            } else {
                format!("{field} must not be negative")
            },
        ))
    } else {
        Err(CoreError::invalid(
            field,
            format!("{field} is over the limit of {MAX_DRAWER_AMOUNT} minor units"),
        ))
    }
}

impl Store {
    /// Opens a drawer session on this till with `float` (minor units)
    /// counted in the drawer. Refused while one is open here.
    pub fn open_drawer_session(&mut self, float: i64) -> Result<DrawerReport> {
        let float = amount_in_range("float", float, 0)?;
        let who = self.authorize_acting(&[Action::OpenDrawerSession])?;
        let till = self.info.till_id.clone();
        let id = self.write(|w| {
            if let Some(open) = session::current(w.conn, &till)? {
                return Err(CoreError::DrawerSessionOpen(open));
            }
            let record = DrawerOpenRecord {
                id: new_id(),
                at: w.now,
                float,
                hlc: None,
                staff_id: who.staff_id,
                approver_id: who.approver_id,
            };
            w.append(&Record::DrawerOpen(record.clone()))?;
            Ok(record.id)
        })?;
        session_report(&self.conn, self.currency, &till, &id)
    }

    /// Puts cash into this till's open session's drawer.
    pub fn drawer_cash_in(&mut self, amount: i64, reason: &str) -> Result<DrawerReport> {
        self.drawer_move(MoveDirection::In, amount, reason)
    }

    /// Takes cash out of this till's open session's drawer.
    pub fn drawer_cash_out(&mut self, amount: i64, reason: &str) -> Result<DrawerReport> {
        self.drawer_move(MoveDirection::Out, amount, reason)
    }

    fn drawer_move(
        &mut self,
        direction: MoveDirection,
        amount: i64,
        reason: &str,
    ) -> Result<DrawerReport> {
        let amount = amount_in_range("amount", amount, 1)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(CoreError::invalid(
                "reason",
                "say why the cash moves (e.g. \"bank drop\", \"paid to supplier\")",
            ));
        }
        if reason.len() > MAX_TEXT_LEN {
            return Err(CoreError::invalid(
                "reason",
                format!("the reason is over {MAX_TEXT_LEN} bytes"),
            ));
        }
        let action = match direction {
            MoveDirection::In => Action::DrawerCashIn,
            MoveDirection::Out => Action::DrawerCashOut { amount },
        };
        let who = self.authorize_acting(&[action])?;
        let till = self.info.till_id.clone();
        let session = self.write(|w| {
            let session = session::current(w.conn, &till)?.ok_or(CoreError::NoDrawerSession)?;
            w.append(&Record::DrawerMove(DrawerMoveRecord {
                id: new_id(),
                session_id: session.clone(),
                at: w.now,
                direction,
                amount,
                reason: reason.to_string(),
                hlc: None,
                staff_id: who.staff_id,
                approver_id: who.approver_id,
            }))?;
            Ok(session)
        })?;
        session_report(&self.conn, self.currency, &till, &session)
    }

    /// Closes this till's open session with what was counted, recording
    /// what the till expected; returns its Z report.
    pub fn close_drawer_session(&mut self, count: ClosingCount) -> Result<DrawerReport> {
        let code = self.currency.code().to_string();
        let (counted, denominations) = match count {
            ClosingCount::Total(t) => (amount_in_range("counted total", t, 0)?, BTreeMap::new()),
            ClosingCount::Denominations(map) => {
                if denominations::of(&code).is_none() {
                    return Err(CoreError::invalid(
                        "count",
                        format!(
                            "{code} has no table of notes and coins here: give the counted total"
                        ),
                    ));
                }
                let mut total: i128 = 0;
                let mut kept = BTreeMap::new();
                for (value, n) in map {
                    if !denominations::is_known(&code, value) {
                        return Err(CoreError::invalid(
                            "count",
                            format!(
                                "{} is not a {code} note or coin",
                                self.currency.amount(value)
                            ),
                        ));
                    }
                    if !(0..=MAX_QTY).contains(&n) {
                        return Err(CoreError::invalid(
                            "count",
                            format!("a count of {n} is not 0 to {MAX_QTY}"),
                        ));
                    }
                    total += i128::from(value) * i128::from(n);
                    if n > 0 {
                        kept.insert(value, n);
                    }
                }
                let total = i64::try_from(total)
                    .ok()
                    .filter(|t| *t <= MAX_DRAWER_AMOUNT)
                    .ok_or_else(|| {
                        CoreError::invalid(
                            "count",
                            format!(
                                "the count is over the limit of {MAX_DRAWER_AMOUNT} minor units"
                            ),
                        )
                    })?;
                (total, kept)
            }
        };
        let who = self.authorize_acting(&[Action::CloseDrawerSession])?;
        let till = self.info.till_id.clone();
        let session = self.write(|w| {
            let session = session::current(w.conn, &till)?.ok_or(CoreError::NoDrawerSession)?;
            let expected = super::report::cash(w.conn, &till, &session)?
                .ok_or_else(|| CoreError::not_found("drawer session", session.clone()))?
                .expected()?;
            if expected.checked_abs().is_none_or(|e| e > MAX_EXPECTED) {
                return Err(CoreError::Corrupt(format!(
                    "the session's expected cash {expected} is past what a close can record"
                )));
            }
            w.append(&Record::DrawerClose(DrawerCloseRecord {
                id: new_id(),
                session_id: session.clone(),
                at: w.now,
                counted,
                denominations,
                expected,
                hlc: None,
                staff_id: who.staff_id,
                approver_id: who.approver_id,
            }))?;
            Ok(session)
        })?;
        session_report(&self.conn, self.currency, &till, &session)
    }
}
