//! The notes and coins of each currency the till can count by, in minor
//! units, largest first. A currency without a table here is counted as a
//! total.

/// Euro: 500 to 5 euro notes, 2 euro to 1 cent coins.
const EUR: &[i64] = &[
    50_000, 20_000, 10_000, 5_000, 2_000, 1_000, 500, 200, 100, 50, 20, 10, 5, 2, 1,
];
/// US dollar: 100 to 1 dollar notes (and the dollar coin), 50 to 1 cent coins.
const USD: &[i64] = &[10_000, 5_000, 2_000, 1_000, 500, 200, 100, 50, 25, 10, 5, 1];
/// Pound sterling: 50 to 5 pound notes, 2 pound to 1 penny coins.
const GBP: &[i64] = &[5_000, 2_000, 1_000, 500, 200, 100, 50, 20, 10, 5, 2, 1];
/// Swiss franc: 1000 to 10 franc notes, 5 franc to 5 rappen coins.
const CHF: &[i64] = &[
    100_000, 20_000, 10_000, 5_000, 2_000, 1_000, 500, 200, 100, 50, 20, 10, 5,
];

/// The denominations of `currency` (an ISO 4217 code), or `None` when the
/// till counts that currency as a total.
pub fn of(currency: &str) -> Option<&'static [i64]> {
    match currency.to_ascii_uppercase().as_str() {
        "EUR" => Some(EUR),
        "USD" => Some(USD),
        "GBP" => Some(GBP),
        "CHF" => Some(CHF),
        _ => None,
    }
}

/// Whether `minor` is a note or coin of `currency`.
pub fn is_known(currency: &str, minor: i64) -> bool {
    of(currency).is_some_and(|t| t.contains(&minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_largest_first_without_repeats() {
        for code in ["EUR", "USD", "GBP", "CHF"] {
            let t = of(code).unwrap_or_default();
            assert!(!t.is_empty(), "{code}");
            assert!(t.windows(2).all(|w| w[0] > w[1]), "{code}");
        }
    }

    #[test]
    fn other_currencies_count_a_total() {
        assert!(of("JPY").is_none());
        assert!(is_known("eur", 5_000));
        assert!(!is_known("EUR", 2_500));
        assert!(!is_known("JPY", 1_000));
    }
}
