//! How the till shows and reads money and dates in the cashier's language:
//! the currency's symbol, the locale's decimal and thousands separators, the
//! locale's date order. Plain functions over integer minor units, so the
//! host's `cargo test` covers what the wasm UI prints.

use crate::money::{Currency, MoneyError, parse_minor};

/// A language the till's UI is translated into. Each has its own message
/// file in `ui/locales/` and its own number and date conventions here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Locale {
    #[default]
    En,
    De,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::En, Locale::De];

    /// The language tag stored as the till's setting and used to pick the
    /// message file ("en", "de").
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::De => "de",
        }
    }

    /// Reads a stored tag or a webview language ("de-AT", "en_GB"): the
    /// primary language decides; unknown languages are `None`.
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let primary = tag
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        Locale::ALL.into_iter().find(|l| l.tag() == primary)
    }

    /// The language's own name, as its speakers write it (the Settings list).
    pub fn native_name(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::De => "Deutsch",
        }
    }

    fn decimal_separator(self) -> char {
        match self {
            Locale::En => '.',
            Locale::De => ',',
        }
    }

    fn group_separator(self) -> char {
        match self {
            Locale::En => ',',
            Locale::De => '.',
        }
    }

    /// `chrono` format of a date with time ("2026-12-02 14:05",
    /// "02.12.2026 14:05").
    pub fn date_time_format(self) -> &'static str {
        match self {
            Locale::En => "%Y-%m-%d %H:%M",
            Locale::De => "%d.%m.%Y %H:%M",
        }
    }

    /// `chrono` format of a date alone.
    pub fn date_format(self) -> &'static str {
        match self {
            Locale::En => "%Y-%m-%d",
            Locale::De => "%d.%m.%Y",
        }
    }
}

/// The sign a price is written with. Currencies without a well-known
/// unambiguous sign are written with their ISO code ("CHF 12.00").
pub fn currency_symbol(code: &str) -> Option<&'static str> {
    match code {
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        "USD" => Some("$"),
        "JPY" => Some("¥"),
        "INR" => Some("₹"),
        "ILS" => Some("₪"),
        "KRW" => Some("₩"),
        "UAH" => Some("₴"),
        "NGN" => Some("₦"),
        "PLN" => Some("zł"),
        _ => None,
    }
}

/// An amount without a currency sign, with the locale's separators:
/// en "1,234.50", de "1.234,50"; negative amounts lead with '-'.
pub fn format_number(minor: i64, decimals: u8, locale: Locale, grouping: bool) -> String {
    let unit = 10u64.pow(u32::from(decimals));
    let abs = minor.unsigned_abs();
    let whole = (abs / unit).to_string();
    let mut out = String::new();
    if minor < 0 {
        out.push('-');
    }
    for (i, c) in whole.chars().enumerate() {
        if grouping && i > 0 && (whole.len() - i).is_multiple_of(3) {
            out.push(locale.group_separator());
        }
        out.push(c);
    }
    if decimals > 0 {
        out.push(locale.decimal_separator());
        out.push_str(&format!(
            "{:0width$}",
            abs % unit,
            width = decimals as usize
        ));
    }
    out
}

/// A price as the cashier reads it: en "€1,234.50", "-£0.05", "CHF 12.00";
/// de "1.234,50 €", "-0,05 £", "12,00 CHF".
pub fn format_money(minor: i64, currency: Currency, locale: Locale) -> String {
    let signed = format_number(minor, currency.decimals, locale, true);
    let (sign, number) = match signed.strip_prefix('-') {
        Some(n) => ("-", n.to_string()),
        None => ("", signed),
    };
    match (locale, currency_symbol(currency.code())) {
        (Locale::En, Some(sym)) => format!("{sign}{sym}{number}"),
        (Locale::En, None) => format!("{sign}{} {number}", currency.code()),
        // A no-break space keeps "12,00" and "€" on one line.
        (Locale::De, Some(sym)) => format!("{sign}{number}\u{a0}{sym}"),
        (Locale::De, None) => format!("{sign}{number}\u{a0}{}", currency.code()),
    }
}

/// Reads an amount typed by the cashier into minor units.
///
/// The locale's decimal separator is accepted, and in German also '.',
/// which many keypads put there ("2,50" and "2.50" are both 2.50). With
/// both '.' and ',' in the text the last one is the decimal separator and
/// the other must group the whole part in threes ("1.234,50",
/// "1,234.50" in English). A separator repeated ("1.234.567") groups
/// thousands. In English a single ',' followed by three digits groups
/// thousands ("1,234"); any other ',' is refused rather than guessed.
/// Spaces and currency signs are not accepted.
pub fn parse_amount(text: &str, decimals: u8, locale: Locale) -> Result<i64, MoneyError> {
    let t = text.trim();
    let (sign, body) = match t.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", t.strip_prefix('+').unwrap_or(t)),
    };
    if body.starts_with(['+', '-']) {
        return Err(MoneyError::NotAnAmount(text.to_string()));
    }
    let dots = body.matches('.').count();
    let commas = body.matches(',').count();
    let is_decimal_sep = |c: char| c == locale.decimal_separator() || c == '.';
    let plain = |whole: &str, frac: Option<&str>| -> Result<i64, MoneyError> {
        let digits = match frac {
            Some(f) => format!("{sign}{whole}.{f}"),
            None => format!("{sign}{whole}"),
        };
        parse_minor(&digits, decimals).map_err(|e| match e {
            MoneyError::NotAnAmount(_) => MoneyError::NotAnAmount(text.to_string()),
            MoneyError::TooPrecise { decimals, .. } => MoneyError::TooPrecise {
                text: text.to_string(),
                decimals,
            },
            MoneyError::TooLarge(_) => MoneyError::TooLarge(text.to_string()),
            other => other,
        })
    };
    let grouped = |whole: &str, sep: char| -> Result<String, MoneyError> {
        ungroup(whole, sep).ok_or_else(|| MoneyError::BadGrouping(text.to_string()))
    };
    match (dots, commas) {
        (0, 0) => plain(body, None),
        (1.., 1..) => {
            let last_dot = body.rfind('.').unwrap_or_default();
            let last_comma = body.rfind(',').unwrap_or_default();
            let (dec, grp) = if last_dot > last_comma {
                ('.', ',')
            } else {
                (',', '.')
            };
            if dec != locale.decimal_separator() || body.matches(dec).count() > 1 {
                return Err(MoneyError::BadGrouping(text.to_string()));
            }
            let (whole, frac) = body.split_once(dec).unwrap_or((body, ""));
            if frac.contains(grp) {
                return Err(MoneyError::BadGrouping(text.to_string()));
            }
            plain(&grouped(whole, grp)?, Some(frac))
        }
        (n, 0) | (0, n) => {
            let sep = if dots > 0 { '.' } else { ',' };
            let (whole, frac) = body.split_once(sep).unwrap_or((body, ""));
            let thousands = frac.len() == 3 && frac.bytes().all(|b| b.is_ascii_digit());
            if n > 1 {
                // Only grouping repeats.
                return plain(&grouped(body, sep)?, None);
            }
            // One separator before three digits, where both readings are
            // amounts of this currency: "1.234" in German for a currency
            // of three decimals, "1,500" in German or "1.500" in English
            // for one without decimals. A cashier's amount is never
            // guessed: a wrong guess is off by a factor of 1,000.
            let own_decimal = sep == locale.decimal_separator();
            let own_grouping = sep == locale.group_separator();
            if is_decimal_sep(sep)
                && thousands
                && ((decimals == 3 && !own_decimal) || (decimals == 0 && !own_grouping))
            {
                return Err(MoneyError::Ambiguous(text.to_string()));
            }
            if is_decimal_sep(sep) && !(decimals == 0 && thousands) {
                plain(whole, Some(frac))
            } else if thousands {
                plain(&grouped(body, sep)?, None)
            } else {
                Err(MoneyError::WrongDecimalSeparator {
                    text: text.to_string(),
                    expected: locale.decimal_separator(),
                })
            }
        }
    }
}

/// "1.234.567" → "1234567" when every group after the first has three
/// digits and the first one to three; `None` otherwise.
fn ungroup(whole: &str, sep: char) -> Option<String> {
    let mut groups = whole.split(sep);
    let first = groups.next()?;
    if first.is_empty() || first.len() > 3 || !first.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut out = first.to_string();
    for g in groups {
        if g.len() != 3 || !g.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        out.push_str(g);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(code: &str) -> Currency {
        Currency::from_code(code).unwrap_or(Currency::NONE)
    }

    #[test]
    fn english_money_has_the_sign_first_and_comma_groups() {
        let eur = cur("EUR");
        assert_eq!(format_money(123_450, eur, Locale::En), "€1,234.50");
        assert_eq!(format_money(0, eur, Locale::En), "€0.00");
        assert_eq!(format_money(-5, eur, Locale::En), "-€0.05");
        assert_eq!(format_money(199, cur("GBP"), Locale::En), "£1.99");
        assert_eq!(
            format_money(123_456_789_012, eur, Locale::En),
            "€1,234,567,890.12"
        );
        assert_eq!(format_money(1200, cur("CHF"), Locale::En), "CHF 12.00");
    }

    #[test]
    fn german_money_has_the_sign_after_and_dot_groups() {
        let eur = cur("EUR");
        assert_eq!(format_money(123_450, eur, Locale::De), "1.234,50\u{a0}€");
        assert_eq!(format_money(0, eur, Locale::De), "0,00\u{a0}€");
        assert_eq!(format_money(-5, eur, Locale::De), "-0,05\u{a0}€");
        assert_eq!(format_money(250, cur("GBP"), Locale::De), "2,50\u{a0}£");
        assert_eq!(
            format_money(i64::MIN, eur, Locale::De),
            "-92.233.720.368.547.758,08\u{a0}€"
        );
        assert_eq!(format_money(1200, cur("CHF"), Locale::De), "12,00\u{a0}CHF");
    }

    #[test]
    fn zero_and_three_decimal_currencies() {
        assert_eq!(
            format_money(1_234_567, cur("JPY"), Locale::En),
            "¥1,234,567"
        );
        assert_eq!(
            format_money(1_234_567, cur("JPY"), Locale::De),
            "1.234.567\u{a0}¥"
        );
        assert_eq!(
            format_money(1_234_500, cur("KWD"), Locale::En),
            "KWD 1,234.500"
        );
        assert_eq!(
            format_money(-1_234_500, cur("KWD"), Locale::De),
            "-1.234,500\u{a0}KWD"
        );
        assert_eq!(format_number(123_450, 2, Locale::De, false), "1234,50");
        assert_eq!(format_number(-7, 0, Locale::En, false), "-7");
    }

    #[test]
    fn german_accepts_comma_and_dot_as_decimal_separator() {
        let de = Locale::De;
        assert_eq!(parse_amount("2,50", 2, de), Ok(250));
        assert_eq!(parse_amount("2.50", 2, de), Ok(250));
        assert_eq!(parse_amount(" 2,5 ", 2, de), Ok(250));
        assert_eq!(parse_amount("-0,05", 2, de), Ok(-5));
        assert_eq!(parse_amount("0", 2, de), Ok(0));
        assert_eq!(parse_amount(",5", 2, de), Ok(50));
        assert_eq!(parse_amount("1.234,50", 2, de), Ok(123_450));
        assert_eq!(parse_amount("1.234.567", 2, de), Ok(123_456_700));
        assert_eq!(parse_amount("1.234.567,89", 2, de), Ok(123_456_789));
        // Three decimals are too many for the euro, not a thousands guess.
        assert!(matches!(
            parse_amount("1.234", 2, de),
            Err(MoneyError::TooPrecise { .. })
        ));
        assert_eq!(parse_amount("1,234", 3, de), Ok(1234));
        // A currency without decimals: a separator before three digits groups.
        assert_eq!(parse_amount("1.234", 0, de), Ok(1234));
        assert_eq!(parse_amount("1234", 0, de), Ok(1234));
    }

    #[test]
    fn english_accepts_dot_decimals_and_comma_groups() {
        let en = Locale::En;
        assert_eq!(parse_amount("2.50", 2, en), Ok(250));
        assert_eq!(parse_amount("-2.5", 2, en), Ok(-250));
        assert_eq!(parse_amount("1,234.50", 2, en), Ok(123_450));
        assert_eq!(parse_amount("1,234", 2, en), Ok(123_400));
        assert_eq!(parse_amount("1,234,567", 0, en), Ok(1_234_567));
        assert_eq!(
            parse_amount("2,50", 2, en),
            Err(MoneyError::WrongDecimalSeparator {
                text: "2,50".into(),
                expected: '.'
            })
        );
    }

    #[test]
    fn garbage_and_bad_grouping_are_refused() {
        for locale in Locale::ALL {
            for bad in [
                "",
                "abc",
                "1.2.3,4,5",
                "12,34.56,7",
                "1,2,3",
                "1.23.456",
                "€2",
                "2 50",
                "--1",
                "1e3",
                ".",
                ",",
            ] {
                assert!(
                    parse_amount(bad, 2, locale).is_err(),
                    "{bad:?} should be refused in {locale:?}"
                );
            }
        }
        // German decimals with English grouping are refused, not guessed.
        assert_eq!(
            parse_amount("1,234.50", 2, Locale::De),
            Err(MoneyError::BadGrouping("1,234.50".into()))
        );
        assert!(matches!(
            parse_amount("99999999999999999999", 2, Locale::De),
            Err(MoneyError::TooLarge(_))
        ));
    }

    #[test]
    fn an_amount_that_reads_two_ways_is_refused_not_guessed() {
        let ambiguous = |t: &str| Err(MoneyError::Ambiguous(t.to_string()));
        // German, three decimals: "1.234" is 1.234 or 1234.
        assert_eq!(parse_amount("1.234", 3, Locale::De), ambiguous("1.234"));
        assert_eq!(parse_amount("1,234", 3, Locale::De), Ok(1_234));
        assert_eq!(parse_amount("1.234,000", 3, Locale::De), Ok(1_234_000));
        // No decimals: the language's decimal separator before three digits.
        assert_eq!(parse_amount("1,500", 0, Locale::De), ambiguous("1,500"));
        assert_eq!(parse_amount("1.500", 0, Locale::En), ambiguous("1.500"));
        assert_eq!(parse_amount("1.500", 0, Locale::De), Ok(1_500));
        assert_eq!(parse_amount("1,500", 0, Locale::En), Ok(1_500));
        // English, three decimals: "." is only ever the decimal point.
        assert_eq!(parse_amount("1.234", 3, Locale::En), Ok(1_234));
        assert_eq!(parse_amount("1,234", 3, Locale::En), Ok(1_234_000));
        // A sign after a sign.
        for t in ["+-5", "-+5", "--5", "++5"] {
            assert_eq!(
                parse_amount(t, 2, Locale::En),
                Err(MoneyError::NotAnAmount(t.to_string()))
            );
        }
    }

    #[test]
    fn formatted_amounts_read_back() {
        for locale in Locale::ALL {
            for decimals in [0u8, 2, 3] {
                for minor in [0i64, 5, -5, 199, 123_450, -9_876_543_210, 1_000_000] {
                    for grouping in [false, true] {
                        let text = format_number(minor, decimals, locale, grouping);
                        assert_eq!(
                            parse_amount(&text, decimals, locale),
                            Ok(minor),
                            "{text} in {locale:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn language_tags() {
        assert_eq!(Locale::from_tag("de-AT"), Some(Locale::De));
        assert_eq!(Locale::from_tag("de_DE.UTF-8"), Some(Locale::De));
        assert_eq!(Locale::from_tag("EN-gb"), Some(Locale::En));
        assert_eq!(Locale::from_tag("fr"), None);
        assert_eq!(Locale::from_tag(""), None);
        for l in Locale::ALL {
            assert_eq!(Locale::from_tag(l.tag()), Some(l));
        }
    }

    #[test]
    fn dates_follow_the_locale() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 12, 2)
            .and_then(|d| d.and_hms_opt(14, 5, 0))
            .unwrap_or_default();
        assert_eq!(
            t.format(Locale::De.date_time_format()).to_string(),
            "02.12.2026 14:05"
        );
        assert_eq!(
            t.format(Locale::En.date_time_format()).to_string(),
            "2026-12-02 14:05"
        );
        assert_eq!(t.format(Locale::De.date_format()).to_string(), "02.12.2026");
    }
}
