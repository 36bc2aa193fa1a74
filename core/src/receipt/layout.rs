//! A receipt as printed lines, independent of the printer's commands: the
//! store's header, each sale line, taxes per rate, the total, tenders,
//! change, the footer and the sale number to scan back.

use chrono::NaiveDateTime;
use shopsync_types::locale::{format_money, format_number};
use shopsync_types::{Currency, Locale, ReceiptCode, ReceiptPaper, SaleDetail, TenderKind};

use super::codepage::fold;
use super::commands::Align;
use super::labels::{self, Labels};

/// One printed element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// One line of text, already fitted to the paper (folded to the
    /// printer's characters). `big` is double width and height.
    Line {
        text: String,
        align: Align,
        bold: bool,
        big: bool,
    },
    /// The sale number to scan back, centred.
    Code { kind: ReceiptCode, data: String },
    /// Feed this many blank lines.
    Feed(u8),
    /// Cut the paper.
    Cut,
    /// Open the cash drawer.
    Kick,
}

/// The store and till around a sale.
#[derive(Debug, Clone)]
pub struct Shop {
    pub store_name: String,
    /// The store's `receipt_header` (may hold several lines).
    pub header: String,
    /// The store's `receipt_footer` (a returns policy, several lines).
    pub footer: String,
    pub till_name: String,
    pub currency: Currency,
    pub locale: Locale,
}

/// How this till prints.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub paper: ReceiptPaper,
    pub code: ReceiptCode,
    /// Send the drawer kick (a cash sale on a till that kicks on cash).
    pub kick: bool,
    /// A reprint is marked as a copy.
    pub copy: bool,
}

pub(super) struct Builder<'a> {
    pub(super) width: usize,
    pub(super) words: &'a Labels,
    pub(super) shop: &'a Shop,
    pub(super) out: Vec<Piece>,
}

impl Builder<'_> {
    pub(super) fn money(&self, minor: i64) -> String {
        format_money(minor, self.shop.currency, self.shop.locale)
    }

    pub(super) fn push(&mut self, text: String, align: Align, bold: bool, big: bool) {
        self.out.push(Piece::Line {
            text,
            align,
            bold,
            big,
        });
    }

    /// Text wrapped at word boundaries to the paper's width.
    pub(super) fn wrapped(&mut self, text: &str, align: Align, bold: bool) {
        for line in wrap(&fold(text), self.width) {
            self.push(line, align, bold, false);
        }
    }

    /// Each line of a multi-line setting, centred.
    pub(super) fn centred_block(&mut self, text: &str) {
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            self.wrapped(line, Align::Center, false);
        }
    }

    /// `left` and `right` on one line, `right` flush right; `left` wraps
    /// when both do not fit, `right` then ends its last line or its own.
    pub(super) fn row(&mut self, left: &str, right: &str, bold: bool) {
        self.row_in(left, right, bold, false);
    }

    pub(super) fn row_in(&mut self, left: &str, right: &str, bold: bool, big: bool) {
        let width = if big { self.width / 2 } else { self.width };
        let right = fold(right);
        if right.is_empty() {
            for l in wrap(&fold(left), width) {
                self.push(l, Align::Left, bold, big);
            }
            return;
        }
        let mut lines = wrap(&fold(left), width);
        let last = lines.pop().unwrap_or_default();
        for l in lines {
            self.push(l, Align::Left, bold, big);
        }
        let used = last.chars().count() + right.chars().count();
        if used < width {
            let pad = " ".repeat(width - used);
            self.push(format!("{last}{pad}{right}"), Align::Left, bold, big);
        } else {
            self.push(last, Align::Left, bold, big);
            let pad = " ".repeat(width.saturating_sub(right.chars().count()));
            self.push(format!("{pad}{right}"), Align::Left, bold, big);
        }
    }

    pub(super) fn rule(&mut self) {
        self.push("-".repeat(self.width), Align::Left, false, false);
    }
}

/// The receipt of a saved sale, as printed at `local_time` (the sale's time
/// on the till's clock face).
pub fn sale_receipt(
    sale: &SaleDetail,
    shop: &Shop,
    local_time: NaiveDateTime,
    layout: Layout,
) -> Vec<Piece> {
    let words = labels::for_locale(shop.locale);
    let mut b = Builder {
        width: layout.paper.columns(),
        words,
        shop,
        out: Vec::new(),
    };
    if layout.kick {
        b.out.push(Piece::Kick);
    }
    head(&mut b, layout.copy);
    let when = local_time
        .format(shop.locale.date_time_format())
        .to_string();
    b.row(words.date, &when, false);
    b.row(&format!("{} {}", words.till, shop.till_name), "", false);
    b.row(words.receipt, &sale.summary.number, true);
    b.rule();
    for l in &sale.lines {
        b.wrapped(&l.name, Align::Left, false);
        let amount = l.qty.saturating_mul(l.unit_price.minor);
        let qty = format!("  {} x {}", l.qty, b.money(l.unit_price.minor));
        b.row(&qty, &b.money(amount), false);
        if l.discount.minor != 0 {
            let text = format!("  {}", words.discount);
            b.row(&text, &b.money(-l.discount.minor), false);
        }
        if let Some(reason) = &l.price_override_reason {
            b.wrapped(
                &format!("  {} {reason}", words.price_changed),
                Align::Left,
                false,
            );
        }
    }
    b.rule();
    b.row(words.subtotal, &b.money(sale.subtotal.minor), false);
    if sale.discount.minor != 0 {
        b.row(words.discounts, &b.money(-sale.discount.minor), false);
    }
    for t in taxes(sale) {
        let rate = percent(t.rate_bp, shop.locale);
        let label = if t.inclusive {
            format!("{} {rate} {}", words.tax, words.inclusive)
        } else {
            format!("{} {rate}", words.tax)
        };
        b.row(&label, &b.money(t.amount), false);
    }
    b.row_in(words.total, &b.money(sale.summary.total.minor), true, true);
    for t in &sale.tenders {
        b.row(words.tender(t.kind), &b.money(t.amount.minor), false);
    }
    if sale.change.minor != 0 || has_cash(sale) {
        b.row(words.change, &b.money(sale.change.minor), true);
    }
    if sale.summary.refunded.minor != 0 {
        b.row(
            words.refunded,
            &b.money(-sale.summary.refunded.minor),
            false,
        );
    }
    b.rule();
    b.centred_block(&shop.footer.clone());
    if layout.code != ReceiptCode::None {
        b.out.push(Piece::Feed(1));
        b.out.push(Piece::Code {
            kind: layout.code,
            data: fold(&sale.summary.number),
        });
    }
    b.out.push(Piece::Feed(3));
    b.out.push(Piece::Cut);
    b.out
}

/// A short page that shows the printer prints, cuts and fits the paper.
pub fn test_page(shop: &Shop, local_time: NaiveDateTime, layout: Layout) -> Vec<Piece> {
    let words = labels::for_locale(shop.locale);
    let mut b = Builder {
        width: layout.paper.columns(),
        words,
        shop,
        out: Vec::new(),
    };
    head(&mut b, false);
    b.push(fold(words.test_title), Align::Center, true, false);
    b.wrapped(words.test_body, Align::Center, false);
    let when = local_time
        .format(shop.locale.date_time_format())
        .to_string();
    b.row(words.date, &when, false);
    b.row(
        &format!("{} {}", words.till, shop.till_name),
        layout.paper.as_str(),
        false,
    );
    b.row(words.total, &b.money(123_456), false);
    b.rule();
    b.out.push(Piece::Feed(3));
    b.out.push(Piece::Cut);
    b.out
}

/// The store's name (large) and header lines, and "COPY" on a reprint.
pub(super) fn head(b: &mut Builder, copy: bool) {
    let name = fold(&b.shop.store_name);
    for line in wrap(&name, b.width / 2) {
        b.push(line, Align::Center, true, true);
    }
    b.centred_block(&b.shop.header.clone());
    if copy {
        b.push(b.words.copy.to_string(), Align::Center, true, false);
    }
    b.out.push(Piece::Feed(1));
}

pub(crate) fn has_cash(sale: &SaleDetail) -> bool {
    sale.tenders.iter().any(|t| t.kind == TenderKind::Cash)
}

struct TaxRow {
    rate_bp: u32,
    inclusive: bool,
    amount: i64,
}

/// Tax per rate, in the order rates first appear. A line's tax is inclusive
/// when its total did not add it (the line view keeps no flag).
fn taxes(sale: &SaleDetail) -> Vec<TaxRow> {
    let mut rows: Vec<TaxRow> = Vec::new();
    for l in &sale.lines {
        if l.tax.minor == 0 {
            continue;
        }
        let after_discount = l.qty.saturating_mul(l.unit_price.minor) - l.discount.minor;
        let inclusive = l.total.minor == after_discount;
        match rows
            .iter_mut()
            .find(|r| r.rate_bp == l.tax_rate_bp && r.inclusive == inclusive)
        {
            Some(r) => r.amount += l.tax.minor,
            None => rows.push(TaxRow {
                rate_bp: l.tax_rate_bp,
                inclusive,
                amount: l.tax.minor,
            }),
        }
    }
    rows
}

/// A rate in basis points as a percentage without trailing zeros: "20%",
/// "5.5%" (German "20 %", "5,5 %").
fn percent(rate_bp: u32, locale: Locale) -> String {
    let n = format_number(i64::from(rate_bp), 2, locale, false);
    let n = n.trim_end_matches('0').trim_end_matches(['.', ',']);
    match locale {
        Locale::En => format!("{n}%"),
        Locale::De => format!("{n} %"),
    }
}

/// `text` in lines of at most `width` characters, broken at spaces where it
/// can be, mid-word where one word is longer than a line.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    // Leading spaces indent every line (sale details under their name).
    let body = text.trim_start_matches(' ');
    let indent = (text.len() - body.len()).min(width / 2);
    if indent > 0 {
        let pad = " ".repeat(indent);
        return wrap(body, width - indent)
            .into_iter()
            .map(|l| format!("{pad}{l}"))
            .collect();
    }
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let have = line.chars().count();
            let gap = usize::from(have > 0);
            if have + gap + word.len() <= width {
                if gap == 1 {
                    line.push(' ');
                }
                line.extend(word.iter());
                break;
            }
            if have > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            let rest = word.split_off(width);
            lines.push(word.iter().collect());
            word = rest;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_and_splits_long_words() {
        assert_eq!(wrap("a bb ccc", 4), vec!["a bb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), vec![""]);
        assert_eq!(wrap("  ab cd", 5), vec!["  ab", "  cd"]);
        assert!(
            wrap("x y z w v u", 3)
                .iter()
                .all(|l| l.chars().count() <= 3)
        );
    }

    #[test]
    fn rates_drop_trailing_zeros() {
        assert_eq!(percent(2000, Locale::En), "20%");
        assert_eq!(percent(550, Locale::De), "5,5 %");
        assert_eq!(percent(1, Locale::En), "0.01%");
    }
}
