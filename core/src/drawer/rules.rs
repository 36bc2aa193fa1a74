//! The record rules of the drawer's records, which the server and every
//! till check (`crate::validate::check_record`). The currency is not known
//! here: that a denomination is a note or coin of the store's currency is
//! checked when the till closes a session (`super::ops`).

use crate::validate::{Check, MAX_QTY, Rule, Violation, at, id, text};

use super::records::{DrawerCloseRecord, DrawerMoveRecord, DrawerOpenRecord};

/// Largest float, movement, count or denomination (minor units): a billion
/// of a currency with two decimals. Sums over any realistic number of
/// sessions stay far from i64's limit.
pub const MAX_DRAWER_AMOUNT: i64 = 100_000_000_000;
/// Most denominations in one closing count.
pub const MAX_DENOMINATIONS: usize = 64;
/// Bound of a close's `expected` (either sign). What a session should hold
/// is a sum over every sale, refund and movement of the session, so it can
/// pass [`MAX_DRAWER_AMOUNT`] honestly (a float at the limit and one cash
/// sale; a long session in a currency of large nominal amounts): a bound
/// there would make such a session impossible to close. It is only kept
/// for the audit trail and shown, never summed, so only i64's own limit
/// (halved, to leave room for a difference with `counted`) applies.
pub const MAX_EXPECTED: i64 = i64::MAX / 2;

fn within(key: &str, field: &str, value: i64, min: i64, max: i64) -> Check {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(Violation::new(
            key,
            Rule::Bounds,
            format!("{field} {value} is outside {min}..={max}"),
        ))
    }
}

pub fn check_open(key: &str, r: &DrawerOpenRecord) -> Check {
    at(key, "at", r.at)?;
    within(key, "float", r.float, 0, MAX_DRAWER_AMOUNT)
}

pub fn check_move(key: &str, r: &DrawerMoveRecord) -> Check {
    id(key, "session id", &r.session_id)?;
    at(key, "at", r.at)?;
    within(key, "amount", r.amount, 1, MAX_DRAWER_AMOUNT)?;
    text(key, "reason", &r.reason)?;
    if r.reason.trim().is_empty() {
        return Err(Violation::new(
            key,
            Rule::Bounds,
            "a cash movement needs a reason",
        ));
    }
    Ok(())
}

pub fn check_close(key: &str, r: &DrawerCloseRecord) -> Check {
    id(key, "session id", &r.session_id)?;
    at(key, "at", r.at)?;
    within(key, "counted", r.counted, 0, MAX_DRAWER_AMOUNT)?;
    // Expected can be below zero (more paid out than was in the drawer).
    within(key, "expected", r.expected, -MAX_EXPECTED, MAX_EXPECTED)?;
    if r.denominations.len() > MAX_DENOMINATIONS {
        return Err(Violation::new(
            key,
            Rule::Bounds,
            format!(
                "{} denominations is over the limit of {MAX_DENOMINATIONS}",
                r.denominations.len()
            ),
        ));
    }
    let mut sum: i128 = 0;
    for (&value, &count) in &r.denominations {
        within(key, "denomination", value, 1, MAX_DRAWER_AMOUNT)?;
        within(key, "denomination count", count, 0, MAX_QTY)?;
        sum += i128::from(value) * i128::from(count);
    }
    if !r.denominations.is_empty() && sum != i128::from(r.counted) {
        return Err(Violation::new(
            key,
            Rule::Bounds,
            format!(
                "the denominations add up to {sum}, not the counted {}",
                r.counted
            ),
        ));
    }
    Ok(())
}
