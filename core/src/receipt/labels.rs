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
    pub drawer: DrawerLabels,
    cash: &'static str,
    card: &'static str,
    other: &'static str,
}

/// The words of a drawer session's X/Z report and of a day's Z report.
pub struct DrawerLabels {
    pub x_title: &'static str,
    pub z_title: &'static str,
    pub day_title: &'static str,
    pub all_tills: &'static str,
    pub opened: &'static str,
    pub closed: &'static str,
    pub by: &'static str,
    pub float: &'static str,
    pub cash_sales: &'static str,
    pub cash_refunds: &'static str,
    pub cash_in: &'static str,
    pub cash_out: &'static str,
    pub expected: &'static str,
    pub counted: &'static str,
    pub over_short: &'static str,
    pub sessions: &'static str,
    pub no_sessions: &'static str,
    pub printed: &'static str,
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
    drawer: DrawerLabels {
        x_title: "X REPORT",
        z_title: "Z REPORT",
        day_title: "DAY Z REPORT",
        all_tills: "All tills",
        opened: "Opened",
        closed: "Closed",
        by: "by",
        float: "Float",
        cash_sales: "Cash sales",
        cash_refunds: "Cash refunds",
        cash_in: "Cash in",
        cash_out: "Cash out",
        expected: "Expected",
        counted: "Counted",
        over_short: "Over/short",
        sessions: "Sessions",
        no_sessions: "No session closed on this day.",
        printed: "Printed",
    },
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
    drawer: DrawerLabels {
        x_title: "X-BERICHT",
        z_title: "Z-BERICHT",
        day_title: "TAGES-Z-BERICHT",
        all_tills: "Alle Kassen",
        opened: "Geöffnet",
        closed: "Geschlossen",
        by: "von",
        float: "Wechselgeld",
        cash_sales: "Barverkäufe",
        cash_refunds: "Barerstattungen",
        cash_in: "Einlage",
        cash_out: "Entnahme",
        expected: "Soll",
        counted: "Gezählt",
        over_short: "Differenz",
        sessions: "Sitzungen",
        no_sessions: "An diesem Tag wurde keine Sitzung geschlossen.",
        printed: "Gedruckt",
    },
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
