//! Money is an integer count of minor units (cents) with a known number of
//! decimals. It is parsed from and printed as a decimal string, never a float.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A currency: its ISO 4217 code and how many decimals its minor unit has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Currency {
    pub code: [u8; 3],
    pub decimals: u8,
}

impl Currency {
    /// A placeholder for a store whose settings are not loaded yet. It is
    /// not a currency anyone can choose: [`Currency::from_code`] refuses
    /// `XXX` ("no currency" in ISO 4217).
    pub const NONE: Currency = Currency {
        code: *b"XXX",
        decimals: 2,
    };

    /// Looks up an active ISO 4217 code (case-insensitive) and its minor
    /// unit. Codes that are not in the standard, and the codes ISO 4217 keeps
    /// for funds, metals and testing (no minor unit: XAU, XDR, XTS, XXX, …),
    /// are refused.
    pub fn from_code(code: &str) -> Result<Self, MoneyError> {
        let upper = code.trim().to_ascii_uppercase();
        let bytes = upper.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(MoneyError::BadCurrency(code.to_string()));
        }
        let decimals =
            iso4217_minor_unit(&upper).ok_or_else(|| MoneyError::UnknownCurrency(upper.clone()))?;
        Ok(Currency {
            code: [bytes[0], bytes[1], bytes[2]],
            decimals,
        })
    }

    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// Parses a decimal string ("12.3", "12.30", "-0.05") into minor units.
    /// More decimals than the currency has is an error, not a silent rounding.
    pub fn parse(&self, text: &str) -> Result<i64, MoneyError> {
        parse_minor(text, self.decimals)
    }

    pub fn amount(&self, minor: i64) -> Amount {
        Amount {
            minor,
            decimals: self.decimals,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("'{0}' is not an amount (expected digits with an optional decimal point, like 12.30)")]
    NotAnAmount(String),
    #[error("'{text}' has more than {decimals} decimal places")]
    TooPrecise { text: String, decimals: u8 },
    #[error("'{0}' is too large")]
    TooLarge(String),
    #[error("'{0}' groups its thousands wrongly (expected groups of three digits, like 1,234.50)")]
    BadGrouping(String),
    #[error(
        "'{0}' could be a decimal or a thousands separator: write the amount without it, or with both (like 1.234,000)"
    )]
    Ambiguous(String),
    #[error("'{text}' uses the wrong decimal separator (expected '{expected}')")]
    WrongDecimalSeparator { text: String, expected: char },
    #[error("'{0}' is not a currency code (expected three letters, like EUR)")]
    BadCurrency(String),
    #[error("'{0}' is not an ISO 4217 currency in use (expected a code like EUR, USD or JPY)")]
    UnknownCurrency(String),
}

/// ISO 4217 list one (active codes, amendments up to 179, 2024), with the
/// number of decimals of each currency's minor unit. Codes without a minor
/// unit (funds, precious metals, XDR, XTS, XXX) are left out: nobody prices
/// goods in them. Kept by hand from the standard's table; sorted by code.
#[rustfmt::skip]
const ISO_4217: &[(&str, u8)] = &[
    ("AED", 2), ("AFN", 2), ("ALL", 2), ("AMD", 2), ("AOA", 2), ("ARS", 2),
    ("AUD", 2), ("AWG", 2), ("AZN", 2), ("BAM", 2), ("BBD", 2), ("BDT", 2),
    ("BGN", 2), ("BHD", 3), ("BIF", 0), ("BMD", 2), ("BND", 2), ("BOB", 2),
    ("BOV", 2), ("BRL", 2), ("BSD", 2), ("BTN", 2), ("BWP", 2), ("BYN", 2),
    ("BZD", 2), ("CAD", 2), ("CDF", 2), ("CHE", 2), ("CHF", 2), ("CHW", 2),
    ("CLF", 4), ("CLP", 0), ("CNY", 2), ("COP", 2), ("COU", 2), ("CRC", 2),
    ("CUP", 2), ("CVE", 2), ("CZK", 2), ("DJF", 0), ("DKK", 2), ("DOP", 2),
    ("DZD", 2), ("EGP", 2), ("ERN", 2), ("ETB", 2), ("EUR", 2), ("FJD", 2),
    ("FKP", 2), ("GBP", 2), ("GEL", 2), ("GHS", 2), ("GIP", 2), ("GMD", 2),
    ("GNF", 0), ("GTQ", 2), ("GYD", 2), ("HKD", 2), ("HNL", 2), ("HTG", 2),
    ("HUF", 2), ("IDR", 2), ("ILS", 2), ("INR", 2), ("IQD", 3), ("IRR", 2),
    ("ISK", 0), ("JMD", 2), ("JOD", 3), ("JPY", 0), ("KES", 2), ("KGS", 2),
    ("KHR", 2), ("KMF", 0), ("KPW", 2), ("KRW", 0), ("KWD", 3), ("KYD", 2),
    ("KZT", 2), ("LAK", 2), ("LBP", 2), ("LKR", 2), ("LRD", 2), ("LSL", 2),
    ("LYD", 3), ("MAD", 2), ("MDL", 2), ("MGA", 2), ("MKD", 2), ("MMK", 2),
    ("MNT", 2), ("MOP", 2), ("MRU", 2), ("MUR", 2), ("MVR", 2), ("MWK", 2),
    ("MXN", 2), ("MXV", 2), ("MYR", 2), ("MZN", 2), ("NAD", 2), ("NGN", 2),
    ("NIO", 2), ("NOK", 2), ("NPR", 2), ("NZD", 2), ("OMR", 3), ("PAB", 2),
    ("PEN", 2), ("PGK", 2), ("PHP", 2), ("PKR", 2), ("PLN", 2), ("PYG", 0),
    ("QAR", 2), ("RON", 2), ("RSD", 2), ("RUB", 2), ("RWF", 0), ("SAR", 2),
    ("SBD", 2), ("SCR", 2), ("SDG", 2), ("SEK", 2), ("SGD", 2), ("SHP", 2),
    ("SLE", 2), ("SOS", 2), ("SRD", 2), ("SSP", 2), ("STN", 2), ("SVC", 2),
    ("SYP", 2), ("SZL", 2), ("THB", 2), ("TJS", 2), ("TMT", 2), ("TND", 3),
    ("TOP", 2), ("TRY", 2), ("TTD", 2), ("TWD", 2), ("TZS", 2), ("UAH", 2),
    ("UGX", 0), ("USD", 2), ("USN", 2), ("UYI", 0), ("UYU", 2), ("UYW", 4),
    ("UZS", 2), ("VED", 2), ("VES", 2), ("VND", 0), ("VUV", 0), ("WST", 2),
    ("XAF", 0), ("XCD", 2), ("XCG", 2), ("XOF", 0), ("XPF", 0), ("YER", 2),
    ("ZAR", 2), ("ZMW", 2), ("ZWG", 2),
    // Withdrawn since 2021 but still found on stores made before: accepted
    // so that such a store keeps opening (ANG until XCG, CUC, HRK, SLL, ZWL).
    ("ANG", 2), ("CUC", 2), ("HRK", 2), ("SLL", 2), ("ZWL", 2),
];

/// The minor unit (decimals) of an ISO 4217 code, `None` if it is unknown.
pub fn iso4217_minor_unit(code: &str) -> Option<u8> {
    ISO_4217.iter().find(|(c, _)| *c == code).map(|(_, d)| *d)
}

pub fn parse_minor(text: &str, decimals: u8) -> Result<i64, MoneyError> {
    let t = text.trim();
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (whole, frac) = match digits.split_once('.') {
        Some((w, f)) => (w, f),
        None => (digits, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !all_digits(whole) || !all_digits(frac) {
        return Err(MoneyError::NotAnAmount(text.to_string()));
    }
    if digits.ends_with('.') && frac.is_empty() && whole.is_empty() {
        return Err(MoneyError::NotAnAmount(text.to_string()));
    }
    if frac.len() > decimals as usize {
        return Err(MoneyError::TooPrecise {
            text: text.to_string(),
            decimals,
        });
    }
    let too_large = || MoneyError::TooLarge(text.to_string());
    let mut value: i64 = 0;
    for b in whole.bytes() {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(b - b'0')))
            .ok_or_else(too_large)?;
    }
    for i in 0..decimals as usize {
        let digit = frac.as_bytes().get(i).map_or(0, |b| i64::from(b - b'0'));
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(digit))
            .ok_or_else(too_large)?;
    }
    Ok(if negative { -value } else { value })
}

pub fn format_minor(minor: i64, decimals: u8) -> String {
    if decimals == 0 {
        return minor.to_string();
    }
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let unit = 10u64.pow(u32::from(decimals));
    format!(
        "{sign}{}.{:0width$}",
        abs / unit,
        abs % unit,
        width = decimals as usize
    )
}

/// An amount with its number of decimals, serialized as a decimal string
/// ("12.30") so that JSON consumers never see a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Amount {
    pub minor: i64,
    pub decimals: u8,
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_minor(self.minor, self.decimals))
    }
}

impl FromStr for Amount {
    type Err = MoneyError;
    /// The number of decimals is taken from the text itself.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let decimals = s.trim().split_once('.').map_or(0, |(_, f)| f.len());
        let decimals =
            u8::try_from(decimals).map_err(|_| MoneyError::NotAnAmount(s.to_string()))?;
        Ok(Amount {
            minor: parse_minor(s, decimals)?,
            decimals,
        })
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_formats_two_decimals() {
        assert_eq!(parse_minor("1.99", 2), Ok(199));
        assert_eq!(parse_minor("1.9", 2), Ok(190));
        assert_eq!(parse_minor("12", 2), Ok(1200));
        assert_eq!(parse_minor(".5", 2), Ok(50));
        assert_eq!(parse_minor("-0.05", 2), Ok(-5));
        assert_eq!(format_minor(199, 2), "1.99");
        assert_eq!(format_minor(-5, 2), "-0.05");
        assert_eq!(format_minor(7, 0), "7");
        assert_eq!(format_minor(1234, 3), "1.234");
    }

    #[test]
    fn rejects_bad_text() {
        for bad in ["", ".", "abc", "1.2.3", "1,50", "--1", "1e3", " - "] {
            assert!(parse_minor(bad, 2).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(
            parse_minor("1.999", 2),
            Err(MoneyError::TooPrecise {
                text: "1.999".into(),
                decimals: 2
            })
        );
        assert!(matches!(
            parse_minor("99999999999999999999", 2),
            Err(MoneyError::TooLarge(_))
        ));
    }

    #[test]
    fn currencies_know_their_decimals() {
        assert_eq!(Currency::from_code("eur").map(|c| c.decimals), Ok(2));
        assert_eq!(Currency::from_code("JPY").map(|c| c.decimals), Ok(0));
        assert_eq!(Currency::from_code("KWD").map(|c| c.decimals), Ok(3));
        assert!(Currency::from_code("EURO").is_err());
        assert!(Currency::from_code("E1R").is_err());
    }

    #[test]
    fn zero_decimal_currencies_of_iso_4217_are_known() {
        for code in ["XPF", "KMF", "GNF", "BIF", "DJF", "VUV", "CLP", "UYI"] {
            assert_eq!(
                Currency::from_code(code).map(|c| c.decimals),
                Ok(0),
                "{code}"
            );
        }
        assert_eq!(Currency::from_code("CLF").map(|c| c.decimals), Ok(4));
        assert_eq!(Currency::from_code("TND").map(|c| c.decimals), Ok(3));
    }

    #[test]
    fn unknown_and_non_trade_codes_are_refused() {
        for code in ["ABC", "EUX", "XXX", "XAU", "XTS", "XDR"] {
            assert_eq!(
                Currency::from_code(code),
                Err(MoneyError::UnknownCurrency(code.into())),
                "{code}"
            );
        }
    }

    #[test]
    fn the_currency_table_is_sorted_and_has_no_duplicates() {
        let (active, withdrawn) = ISO_4217.split_at(ISO_4217.len() - 5);
        assert!(active.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(
            withdrawn
                .iter()
                .all(|(c, _)| !active.iter().any(|(a, _)| a == c))
        );
        assert!(active.len() >= 150, "ISO 4217 has about 155 active codes");
    }

    #[test]
    fn amount_serializes_as_string() {
        let a = Amount {
            minor: 1230,
            decimals: 2,
        };
        assert_eq!(serde_json::to_string(&a).ok(), Some("\"12.30\"".into()));
        let back: Amount = serde_json::from_str("\"12.30\"").unwrap_or_default();
        assert_eq!(back, a);
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(minor in -1_000_000_000_000i64..1_000_000_000_000, decimals in 0u8..4) {
            prop_assert_eq!(parse_minor(&format_minor(minor, decimals), decimals), Ok(minor));
        }
    }
}
