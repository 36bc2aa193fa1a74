//! The words printed on a receipt, in the till's language (the same choice
//! as its screens: `Store::ui_language`).

use shopsync_types::{Locale, TenderKind};

pub struct Labels {
    pub copy: &'static str,
    pub date: &'static str,
    pub till: &'static str,
    pub receipt: &'static str,
    pub discount: &'static str,
    pub price_changed: &'static str,
    pub subtotal: &'static str,
    pub discounts: &'static str,
    pub tax: &'static str,
    pub inclusive: &'static str,
    pub total: &'static str,
    pub change: &'static str,
    pub refunded: &'static str,
    pub test_title: &'static str,
    pub test_body: &'static str,
    cash: &'static str,
    card: &'static str,
    other: &'static str,
}

impl Labels {
    pub fn tender(&self, kind: TenderKind) -> &'static str {
        match kind {
            TenderKind::Cash => self.cash,
            TenderKind::Card => self.card,
            TenderKind::Other => self.other,
        }
    }
}

const EN: Labels = Labels {
    copy: "COPY",
    date: "Date",
    till: "Till",
    receipt: "Receipt",
    discount: "Discount",
    price_changed: "Price changed:",
    subtotal: "Subtotal",
    discounts: "Discounts",
    tax: "Tax",
    inclusive: "incl.",
    total: "TOTAL",
    change: "Change",
    refunded: "Refunded",
    test_title: "Test print",
    test_body: "This printer is set up for this till.",
    cash: "Cash",
    card: "Card",
    other: "Other",
};

const DE: Labels = Labels {
    copy: "KOPIE",
    date: "Datum",
    till: "Kasse",
    receipt: "Beleg",
    discount: "Rabatt",
    price_changed: "Preis geändert:",
    subtotal: "Zwischensumme",
    discounts: "Rabatte",
    tax: "MwSt.",
    inclusive: "inkl.",
    total: "SUMME",
    change: "Rückgeld",
    refunded: "Erstattet",
    test_title: "Testdruck",
    test_body: "Dieser Drucker ist für diese Kasse eingerichtet.",
    cash: "Bar",
    card: "Karte",
    other: "Sonstige",
};

pub fn for_locale(locale: Locale) -> &'static Labels {
    match locale {
        Locale::En => &EN,
        Locale::De => &DE,
    }
}
