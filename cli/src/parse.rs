//! Parsing the CLI's compact item syntax: `SKU[xQTY][@PRICE]`, `SKU:PERCENT`,
//! `cash:12.30`.

use shopsync_core::types::{Currency, TenderKind};
use shopsync_core::{CoreError, Result};

/// `SKU[xQTY][@PRICE]`. A SKU that itself ends in `x` and digits (`BOX12`)
/// is taken whole when `is_known` says it exists.
pub fn item(
    token: &str,
    currency: Currency,
    is_known: &dyn Fn(&str) -> bool,
) -> Result<(String, i64, Option<i64>)> {
    let (head, price) = match token.rsplit_once('@') {
        Some((h, p)) => (
            h,
            Some(
                currency
                    .parse(p)
                    .map_err(|e| CoreError::invalid("price", format!("{token}: {e}")))?,
            ),
        ),
        None => (token, None),
    };
    let mut code = head.to_string();
    let mut qty = 1;
    if !is_known(head)
        && let Some((sku, q)) = head.rsplit_once(['x', 'X'])
    {
        let qty_text = q.trim_start_matches(['+', '-']);
        if !sku.is_empty() && !qty_text.is_empty() && qty_text.bytes().all(|b| b.is_ascii_digit()) {
            qty = q.parse::<i64>().map_err(|_| {
                CoreError::invalid("qty", format!("{token}: quantity is too large"))
            })?;
            code = sku.to_string();
        }
    }
    if code.is_empty() {
        return Err(CoreError::invalid(
            "sku",
            format!("'{token}' names no product"),
        ));
    }
    Ok((code, qty, price))
}

/// `12.5` percent → 1250 basis points.
pub fn percent_bp(text: &str, field: &str) -> Result<u32> {
    let bp = shopsync_core::types::money::parse_minor(text.trim_end_matches('%'), 2)
        .map_err(|e| CoreError::invalid(field, format!("{field}: {e}")))?;
    u32::try_from(bp)
        .ok()
        .filter(|b| *b <= 10_000)
        .ok_or_else(|| {
            CoreError::invalid(
                field,
                format!("{field} must be between 0 and 100 %, not {text}"),
            )
        })
}

/// `SKU:PERCENT`.
pub fn discount(text: &str) -> Result<(String, u32)> {
    let (sku, pct) = text.rsplit_once(':').ok_or_else(|| {
        CoreError::invalid(
            "discount",
            format!("'{text}': expected SKU:PERCENT, like MILK:10"),
        )
    })?;
    Ok((sku.to_string(), percent_bp(pct, "discount")?))
}

pub fn tender_kind(text: &str) -> Result<TenderKind> {
    match text.trim().to_ascii_lowercase().as_str() {
        "cash" => Ok(TenderKind::Cash),
        "card" => Ok(TenderKind::Card),
        "other" => Ok(TenderKind::Other),
        other => Err(CoreError::invalid(
            "pay",
            format!("unknown tender '{other}': use cash, card or other"),
        )),
    }
}

/// `cash:12.30`.
pub fn tender(text: &str, currency: Currency) -> Result<(TenderKind, i64)> {
    let (kind, amount) = text.split_once(':').ok_or_else(|| {
        CoreError::invalid(
            "pay",
            format!("'{text}': expected KIND:AMOUNT, like cash:20"),
        )
    })?;
    let amount = currency
        .parse(amount)
        .map_err(|e| CoreError::invalid("pay", format!("{text}: {e}")))?;
    Ok((tender_kind(kind)?, amount))
}

/// A whole number of units, possibly signed (`+3`, `-2`).
pub fn quantity(text: &str, field: &str) -> Result<i64> {
    text.trim()
        .trim_start_matches('+')
        .parse::<i64>()
        .map_err(|_| {
            CoreError::invalid(
                field,
                format!("{field} must be a whole number, not '{text}'"),
            )
        })
}

pub fn date(text: &str) -> Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| CoreError::invalid("date", format!("'{text}' is not a date (use YYYY-MM-DD)")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur() -> Currency {
        Currency::from_code("EUR").unwrap_or(Currency {
            code: *b"EUR",
            decimals: 2,
        })
    }

    #[test]
    fn parses_items() -> Result<()> {
        let none = |_: &str| false;
        assert_eq!(item("MILK", eur(), &none)?, ("MILK".into(), 1, None));
        assert_eq!(item("MILKx3", eur(), &none)?, ("MILK".into(), 3, None));
        assert_eq!(
            item("MILKx3@1.50", eur(), &none)?,
            ("MILK".into(), 3, Some(150))
        );
        assert_eq!(item("MILK@2", eur(), &none)?, ("MILK".into(), 1, Some(200)));
        assert_eq!(item("MILKx0", eur(), &none)?, ("MILK".into(), 0, None));
        assert_eq!(item("MILKx-2", eur(), &none)?, ("MILK".into(), -2, None));
        // A SKU that looks like SKUxQTY is taken whole when it exists.
        let known = |s: &str| s == "BOX12";
        assert_eq!(item("BOX12", eur(), &known)?, ("BOX12".into(), 1, None));
        assert_eq!(item("BOX12x2", eur(), &known)?, ("BOX12".into(), 2, None));
        assert!(item("MILK@1.999", eur(), &none).is_err());
        assert!(item("@1", eur(), &none).is_err());
        Ok(())
    }

    #[test]
    fn parses_percent_tender_quantity() -> Result<()> {
        assert_eq!(percent_bp("10", "d")?, 1000);
        assert_eq!(percent_bp("12.5%", "d")?, 1250);
        assert!(percent_bp("101", "d").is_err());
        assert!(percent_bp("-5", "d").is_err());
        assert_eq!(discount("MILK:15")?, ("MILK".into(), 1500));
        assert_eq!(tender("card:12.30", eur())?, (TenderKind::Card, 1230));
        assert!(tender("cheque:1", eur()).is_err());
        assert!(tender("cash", eur()).is_err());
        assert_eq!(quantity("+3", "delta")?, 3);
        assert_eq!(quantity("-2", "delta")?, -2);
        assert!(quantity("two", "delta").is_err());
        Ok(())
    }
}
