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
    /// Looks up a code. Unknown three-letter codes get two decimals, which is
    /// right for the great majority of currencies.
    pub fn from_code(code: &str) -> Result<Self, MoneyError> {
        let upper = code.trim().to_ascii_uppercase();
        let bytes = upper.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(MoneyError::BadCurrency(code.to_string()));
        }
        let decimals = match upper.as_str() {
            "JPY" | "KRW" | "ISK" | "CLP" | "VND" | "XOF" | "XAF" | "UGX" | "PYG" | "RWF" => 0,
            "BHD" | "KWD" | "OMR" | "JOD" | "TND" | "LYD" | "IQD" => 3,
            _ => 2,
        };
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
    #[error("'{0}' is not a currency code (expected three letters, like EUR)")]
    BadCurrency(String),
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
