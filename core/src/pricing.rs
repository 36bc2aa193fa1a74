//! Prices, discounts, tax and tenders, in integer minor units.
//!
//! Rounding rule (one rule everywhere): a fractional minor unit is rounded half
//! away from zero, once per line, at the last step that produces it. Tax is
//! computed per line, so a receipt's tax is the sum of its lines' tax.

use shopsync_types::{Currency, TenderKind};

use crate::error::{CoreError, Result};
use crate::records::Tender;

/// `n / d` rounded half away from zero. `d` must be positive.
pub fn div_round(n: i128, d: i128) -> i128 {
    let q = n / d;
    let r = n % d;
    if 2 * r.abs() >= d { q + n.signum() } else { q }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaxRule {
    pub rate_bp: u32,
    pub inclusive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinePrice {
    /// qty × unit price, before discount.
    pub amount: i64,
    pub discount: i64,
    pub tax: i64,
    /// What the customer pays for the line, tax included.
    pub total: i64,
}

fn to_i64(v: i128) -> Result<i64> {
    i64::try_from(v).map_err(|_| CoreError::invalid("amount", "amount is too large"))
}

pub fn price_line(
    qty: i64,
    unit_price: i64,
    discount_bp: u32,
    tax: Option<TaxRule>,
) -> Result<LinePrice> {
    if discount_bp > 10_000 {
        return Err(CoreError::invalid(
            "discount",
            "a discount cannot exceed 100 %",
        ));
    }
    let amount = i128::from(qty) * i128::from(unit_price);
    let discount = div_round(amount * i128::from(discount_bp), 10_000);
    let after = amount - discount;
    let (tax, total) = match tax {
        None => (0, after),
        Some(TaxRule {
            rate_bp,
            inclusive: true,
        }) => {
            let rate = i128::from(rate_bp);
            (div_round(after * rate, 10_000 + rate), after)
        }
        Some(TaxRule {
            rate_bp,
            inclusive: false,
        }) => {
            let t = div_round(after * i128::from(rate_bp), 10_000);
            (t, after + t)
        }
    };
    Ok(LinePrice {
        amount: to_i64(amount)?,
        discount: to_i64(discount)?,
        tax: to_i64(tax)?,
        total: to_i64(total)?,
    })
}

/// Checks tenders against a total and returns the change due. Change is only
/// ever given from cash: card and other tenders may not exceed what is due.
pub fn settle(total: i64, tenders: &[Tender], currency: Currency) -> Result<i64> {
    let money = |m: i64| currency.amount(m).to_string();
    if tenders.is_empty() {
        return Err(CoreError::Payment("no payment given".into()));
    }
    let mut paid: i64 = 0;
    let mut non_cash: i64 = 0;
    for t in tenders {
        if t.amount <= 0 {
            return Err(CoreError::invalid(
                "pay",
                format!("a {} payment must be more than zero", t.kind.as_str()),
            ));
        }
        paid = paid
            .checked_add(t.amount)
            .ok_or_else(|| CoreError::invalid("pay", "payment is too large"))?;
        if t.kind != TenderKind::Cash {
            non_cash += t.amount;
        }
    }
    if non_cash > total {
        return Err(CoreError::Payment(
            "card and other payments exceed the total; only cash can be given change".into(),
        ));
    }
    if paid < total {
        return Err(CoreError::Payment(format!(
            "payment is short by {} (total {}, paid {})",
            money(total - paid),
            money(total),
            money(paid)
        )));
    }
    Ok(paid - total)
}

/// The part of `whole` that belongs to `done + now` of `of` units, less the part
/// already given for `done`. Refunding every unit, in any number of steps,
/// returns exactly `whole`.
pub fn pro_rata(whole: i64, done: i64, now: i64, of: i64) -> i64 {
    if of <= 0 {
        return 0;
    }
    let share = |k: i64| div_round(i128::from(whole) * i128::from(k), i128::from(of));
    let v = share(done + now) - share(done);
    i64::try_from(v).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const EUR: Currency = Currency {
        code: *b"EUR",
        decimals: 2,
    };

    fn cash(a: i64) -> Tender {
        Tender {
            kind: TenderKind::Cash,
            amount: a,
        }
    }
    fn card(a: i64) -> Tender {
        Tender {
            kind: TenderKind::Card,
            amount: a,
        }
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(div_round(5, 10), 1);
        assert_eq!(div_round(4, 10), 0);
        assert_eq!(div_round(-5, 10), -1);
        assert_eq!(div_round(-4, 10), 0);
        assert_eq!(div_round(15, 10), 2);
        assert_eq!(div_round(25, 10), 3);
    }

    #[test]
    fn exclusive_tax_is_added() -> Result<()> {
        // 3 × 1.99 at 20 % on top: 5.97 + 1.194 → 1.19 tax, 7.16 total.
        let p = price_line(
            3,
            199,
            0,
            Some(TaxRule {
                rate_bp: 2000,
                inclusive: false,
            }),
        )?;
        assert_eq!(
            p,
            LinePrice {
                amount: 597,
                discount: 0,
                tax: 119,
                total: 716
            }
        );
        Ok(())
    }

    #[test]
    fn inclusive_tax_is_extracted() -> Result<()> {
        // 10.00 including 20 %: tax = 10.00 × 20/120 = 1.6667 → 1.67.
        let p = price_line(
            1,
            1000,
            0,
            Some(TaxRule {
                rate_bp: 2000,
                inclusive: true,
            }),
        )?;
        assert_eq!(
            p,
            LinePrice {
                amount: 1000,
                discount: 0,
                tax: 167,
                total: 1000
            }
        );
        Ok(())
    }

    #[test]
    fn discount_applies_before_tax() -> Result<()> {
        // 2 × 2.50 = 5.00, 15 % off = 0.75, 4.25 + 7 % = 0.2975 → 0.30.
        let p = price_line(
            2,
            250,
            1500,
            Some(TaxRule {
                rate_bp: 700,
                inclusive: false,
            }),
        )?;
        assert_eq!(
            p,
            LinePrice {
                amount: 500,
                discount: 75,
                tax: 30,
                total: 455
            }
        );
        // A discount of 12.5 % on 0.99: 0.12375 → 0.12.
        assert_eq!(price_line(1, 99, 1250, None)?.discount, 12);
        assert!(price_line(1, 99, 10_001, None).is_err());
        Ok(())
    }

    #[test]
    fn untaxed_line_has_no_tax() -> Result<()> {
        assert_eq!(
            price_line(4, 25, 0, None)?,
            LinePrice {
                amount: 100,
                discount: 0,
                tax: 0,
                total: 100
            }
        );
        Ok(())
    }

    #[test]
    fn settles_split_tender_with_cash_change() -> Result<()> {
        assert_eq!(settle(1230, &[card(1000), cash(500)], EUR)?, 270);
        assert_eq!(settle(1230, &[cash(1230)], EUR)?, 0);
        Ok(())
    }

    #[test]
    fn rejects_short_or_card_overpayment() {
        assert!(matches!(
            settle(1230, &[cash(1000)], EUR),
            Err(CoreError::Payment(_))
        ));
        assert!(matches!(
            settle(1230, &[card(1300)], EUR),
            Err(CoreError::Payment(_))
        ));
        assert!(matches!(settle(1230, &[], EUR), Err(CoreError::Payment(_))));
        assert!(matches!(
            settle(1230, &[cash(0), card(1230)], EUR),
            Err(CoreError::Invalid { .. })
        ));
        assert!(matches!(
            settle(1230, &[cash(-5), card(1235)], EUR),
            Err(CoreError::Invalid { .. })
        ));
    }

    #[test]
    fn pro_rata_of_one_third() {
        // 10.00 over 3 units: 3.33, 3.34, 3.33 - and always 10.00 in total.
        assert_eq!(pro_rata(1000, 0, 1, 3), 333);
        assert_eq!(pro_rata(1000, 1, 1, 3), 334);
        assert_eq!(pro_rata(1000, 2, 1, 3), 333);
    }

    proptest! {
        #[test]
        fn refunds_in_any_steps_sum_to_the_whole(whole in 0i64..10_000_000, of in 1i64..50, cuts in proptest::collection::vec(1i64..10, 0..10)) {
            let mut done = 0;
            let mut sum = 0;
            for c in cuts {
                let now = c.min(of - done);
                if now == 0 { break; }
                sum += pro_rata(whole, done, now, of);
                done += now;
            }
            sum += pro_rata(whole, done, of - done, of);
            prop_assert_eq!(sum, whole);
        }

        #[test]
        fn inclusive_tax_never_exceeds_the_total(qty in 1i64..1000, price in 0i64..1_000_000, rate in 0u32..10_000, disc in 0u32..=10_000) {
            let p = price_line(qty, price, disc, Some(TaxRule { rate_bp: rate, inclusive: true }))?;
            prop_assert!(p.tax >= 0 && p.tax <= p.total);
            prop_assert_eq!(p.total, p.amount - p.discount);
        }

        #[test]
        fn exclusive_total_is_net_plus_tax(qty in 1i64..1000, price in 0i64..1_000_000, rate in 0u32..10_000) {
            let p = price_line(qty, price, 0, Some(TaxRule { rate_bp: rate, inclusive: false }))?;
            prop_assert_eq!(p.total, p.amount + p.tax);
            // Tax is within half a minor unit of the exact value.
            let exact = i128::from(p.amount) * i128::from(rate);
            prop_assert!((i128::from(p.tax) * 10_000 - exact).abs() <= 5_000);
        }
    }
}
