//! The receipt on paper: the store's `receipt_paper` setting picks the page
//! size the receipt prints on. The receipt element carries the paper's class
//! (`paper-58mm`, `paper-80mm`, `paper-a4`), which `static/style.css` gives
//! the receipt's width on screen and in print; the `@page` rule (page size
//! and margins) is written here, because a roll's page is as long as the
//! receipt on it and only the rendered receipt knows that length.

/// The paper a receipt prints on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    Roll58,
    Roll80,
    A4,
}

/// A roll receipt printed before it was measured still gets a whole
/// receipt: the length of an A4 sheet.
const UNMEASURED_ROLL_MM: f64 = 297.0;
/// Paper fed past the last line, so the cutter does not cut into it.
const ROLL_TAIL_MM: f64 = 6.0;

impl Paper {
    /// The setting's value; anything unknown (or unset) is the default,
    /// an 80 mm roll (the core refuses other values when they are set).
    pub fn from_setting(value: &str) -> Paper {
        match value {
            "58mm" => Paper::Roll58,
            "a4" => Paper::A4,
            _ => Paper::Roll80,
        }
    }

    /// The receipt element's class, styled in `static/style.css`.
    pub fn class(self) -> &'static str {
        match self {
            Paper::Roll58 => "paper-58mm",
            Paper::Roll80 => "paper-80mm",
            Paper::A4 => "paper-a4",
        }
    }

    /// The `@page` rule for a receipt `receipt_mm` long on screen (rolls
    /// print at the width they show, so the length carries over).
    pub fn page_css(self, receipt_mm: Option<f64>) -> String {
        let roll = |width: u32| {
            let length = receipt_mm
                .filter(|l| l.is_finite() && *l > 0.0)
                .map_or(UNMEASURED_ROLL_MM, |l| (l + ROLL_TAIL_MM).ceil());
            format!("@page {{ size: {width}mm {length}mm; margin: 0; }}")
        };
        match self {
            Paper::Roll58 => roll(58),
            Paper::Roll80 => roll(80),
            Paper::A4 => "@page { size: A4 portrait; margin: 15mm; }".to_string(),
        }
    }
}

/// CSS pixels (1/96 inch) to millimetres.
pub fn px_to_mm(px: f64) -> f64 {
    px * 25.4 / 96.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_paper_has_its_page_size() {
        assert_eq!(
            Paper::from_setting("58mm").page_css(Some(100.2)),
            "@page { size: 58mm 107mm; margin: 0; }"
        );
        assert_eq!(
            Paper::from_setting("80mm").page_css(None),
            "@page { size: 80mm 297mm; margin: 0; }"
        );
        assert_eq!(
            Paper::from_setting("a4").page_css(Some(50.0)),
            "@page { size: A4 portrait; margin: 15mm; }"
        );
    }

    #[test]
    fn unset_or_unknown_paper_is_an_80mm_roll() {
        assert_eq!(Paper::from_setting(""), Paper::Roll80);
        assert_eq!(Paper::from_setting("110mm"), Paper::Roll80);
        assert_eq!(Paper::Roll80.class(), "paper-80mm");
    }

    #[test]
    fn a_receipt_not_laid_out_yet_gets_the_fallback_length() {
        assert_eq!(
            Paper::Roll58.page_css(Some(0.0)),
            "@page { size: 58mm 297mm; margin: 0; }"
        );
        assert!((px_to_mm(96.0) - 25.4).abs() < 1e-9);
    }
}
