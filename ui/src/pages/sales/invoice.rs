//! An A4 invoice of a saved sale, for a customer who asks: the customer's
//! name and address are asked for this print only (not stored), then the
//! invoice shows (store name and address lines from the settings, invoice
//! number = the sale's receipt number, date, lines with their tax rates,
//! net, tax and gross per rate, tenders) and prints through the system
//! dialog on A4; the print stylesheet (`static/style.css`, `.invoice`)
//! hides the rest of the app.

use std::collections::BTreeMap;

use leptos::prelude::*;
use shopsync_types::ipc::SettingsView;
use shopsync_types::{SaleDetail, SaleLineView, TenderKind};

use crate::api;
use crate::print::Paper;
use crate::util::{input_text, local_time, money_minor, spawn, value};

/// Net, tax and gross of one tax rate, in minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateTotals {
    pub net: i64,
    pub tax: i64,
    pub gross: i64,
}

/// Totals per tax rate (basis points), lowest rate first. A line's total
/// is what the customer paid for it (tax included, whether the price
/// carried it or it was added), so its net is the total less its tax.
pub fn per_rate(lines: &[SaleLineView]) -> BTreeMap<u32, RateTotals> {
    let mut rates: BTreeMap<u32, RateTotals> = BTreeMap::new();
    for l in lines {
        let r = rates.entry(l.tax_rate_bp).or_default();
        r.gross = r.gross.saturating_add(l.total.minor);
        r.tax = r.tax.saturating_add(l.tax.minor);
        r.net = r.gross.saturating_sub(r.tax);
    }
    rates
}

fn rate_text(bp: u32) -> String {
    format!("{} %", input_text(i64::from(bp), 2))
}

fn tender(k: TenderKind) -> String {
    match k {
        TenderKind::Cash => tr!("tender-kind-cash"),
        TenderKind::Card => tr!("tender-kind-card"),
        TenderKind::Other => tr!("tender-kind-other"),
    }
}

/// Asks for the customer, then shows the invoice with a Print button.
#[component]
pub fn InvoiceDialog(sale: SaleDetail, on_close: Callback<()>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let address = RwSignal::new(String::new());
    let shown = RwSignal::new(false);
    let settings = RwSignal::new(None::<SettingsView>);
    spawn(async move {
        if let Ok(s) = api::settings().await {
            let _ = settings.try_set(Some(s));
        }
    });
    let sale = StoredValue::new(sale);
    view! {
        <div class="overlay invoice-overlay">
            {move || if shown.get() {
                view! {
                    <div class="dialog invoice-dialog" role="dialog" aria-modal="true" aria-label=tr!("invoice-title") data-testid="invoice-view">
                        <style>{Paper::A4.page_css(None)}</style>
                        {move || invoice_page(sale.get_value(), settings.get(), name.get_untracked(), address.get_untracked())}
                        <div class="pay-row end no-print">
                            <button class="btn" data-testid="invoice-close" on:click=move |_| on_close.run(())>{tr!("sales-close")}</button>
                            <button class="btn primary" data-testid="invoice-print" on:click=move |_| { if let Some(w) = web_sys::window() { let _ = w.print(); } }>{tr!("invoice-print")}</button>
                        </div>
                    </div>
                }.into_any()
            } else {
                view! {
                    <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="invoice-ask-title" data-testid="invoice-ask">
                        <h2 id="invoice-ask-title">{tr!("invoice-ask-title")}</h2>
                        <p class="muted small">{tr!("invoice-not-stored")}</p>
                        <label>{tr!("invoice-customer-name")}
                            <input type="text" data-testid="invoice-name" data-initial-focus=""
                                prop:value=move || name.get() on:input=move |ev| name.set(value(&ev)) /></label>
                        <label>{tr!("invoice-customer-address")}
                            <textarea rows="4" data-testid="invoice-address"
                                prop:value=move || address.get() on:input=move |ev| address.set(value(&ev))></textarea></label>
                        <div class="pay-row end">
                            <button class="btn" data-testid="invoice-cancel" on:click=move |_| on_close.run(())>{tr!("sales-close")}</button>
                            <button class="btn primary" data-testid="invoice-show" on:click=move |_| shown.set(true)>{tr!("invoice-show")}</button>
                        </div>
                    </div>
                }.into_any()
            }}
        </div>
    }
}

/// The printable page.
fn invoice_page(
    s: SaleDetail,
    settings: Option<SettingsView>,
    name: String,
    address: String,
) -> impl IntoView {
    let dec = s.summary.total.decimals;
    let m = move |minor: i64| money_minor(minor, dec);
    let (store, header, footer) = settings
        .map(|x| (x.store_name, x.receipt_header, x.receipt_footer))
        .unwrap_or_default();
    let rates = per_rate(&s.lines);
    let number = invoice_number(
        &s.summary.number,
        &s.summary.sale_id,
        &s.summary.same_number,
    );
    let net: i64 = rates.values().map(|r| r.net).sum();
    view! {
        <div class="invoice" data-testid="invoice">
            <div class="invoice-head">
                <div>
                    <div class="invoice-store" data-testid="invoice-store">{store}</div>
                    <div class="pre">{header}</div>
                </div>
                <div class="invoice-meta">
                    <h1>{tr!("invoice-title")}</h1>
                    <div class="r-row"><span>{tr!("invoice-number")}</span><span data-testid="invoice-number">{number}</span></div>
                    <div class="r-row"><span>{tr!("invoice-date")}</span><span>{local_time(&s.summary.at)}</span></div>
                </div>
            </div>
            <div class="invoice-to">
                <div class="muted small">{tr!("invoice-bill-to")}</div>
                <div class="strong" data-testid="invoice-customer">{name}</div>
                <div class="pre">{address}</div>
            </div>
            <table class="list invoice-lines" data-testid="invoice-lines">
                <thead><tr><th>{tr!("sales-item")}</th><th class="num">{tr!("sales-qty")}</th><th class="num">{tr!("sales-price")}</th><th class="num">{tr!("invoice-discount")}</th><th class="num">{tr!("invoice-tax-rate")}</th><th class="num">{tr!("sales-total")}</th></tr></thead>
                <tbody>
                {s.lines.iter().enumerate().map(|(i, l)| view! {
                    <tr data-testid=format!("invoice-line-{i}")>
                        <td>{l.name.clone()}<div class="muted small">{l.sku.clone()}</div></td>
                        <td class="num">{l.qty}</td>
                        <td class="num">{m(l.unit_price.minor)}</td>
                        <td class="num">{(l.discount.minor != 0).then(|| m(-l.discount.minor))}</td>
                        <td class="num">{rate_text(l.tax_rate_bp)}</td>
                        <td class="num">{m(l.total.minor)}</td>
                    </tr>
                }).collect_view()}
                </tbody>
            </table>
            <table class="list invoice-rates" data-testid="invoice-rates">
                <thead><tr><th>{tr!("invoice-tax-rate")}</th><th class="num">{tr!("invoice-net")}</th><th class="num">{tr!("invoice-tax")}</th><th class="num">{tr!("invoice-gross")}</th></tr></thead>
                <tbody>
                {rates.iter().map(|(bp, r)| view! {
                    <tr data-testid=format!("invoice-rate-{bp}")>
                        <td>{rate_text(*bp)}</td><td class="num">{m(r.net)}</td><td class="num">{m(r.tax)}</td><td class="num">{m(r.gross)}</td>
                    </tr>
                }).collect_view()}
                </tbody>
            </table>
            <div class="invoice-totals">
                <div class="r-row"><span>{tr!("invoice-net-total")}</span><span data-testid="invoice-net">{m(net)}</span></div>
                <div class="r-row"><span>{tr!("invoice-tax-total")}</span><span data-testid="invoice-tax">{m(s.summary.tax.minor)}</span></div>
                <div class="r-row strong"><span>{tr!("invoice-total")}</span><span data-testid="invoice-total">{m(s.summary.total.minor)}</span></div>
                {s.tenders.iter().map(|t| view! { <div class="r-row"><span>{tender(t.kind)}</span><span>{m(t.amount.minor)}</span></div> }).collect_view()}
                {(s.change.minor != 0).then(|| view! { <div class="r-row"><span>{tr!("sales-change")}</span><span>{m(s.change.minor)}</span></div> })}
                {(s.summary.refunded.minor != 0).then(|| view! { <div class="r-row"><span>{tr!("invoice-refunded")}</span><span data-testid="invoice-refunded">{m(-s.summary.refunded.minor)}</span></div> })}
            </div>
            {(!footer.is_empty()).then(|| view! { <div class="pre small invoice-footer">{footer}</div> })}
        </div>
    }
}

/// The receipt number, unless another sale of the till has it too (a till
/// restored from a backup numbered both): an invoice number must be
/// unique, so the sale's id is added then.
fn invoice_number(number: &str, sale_id: &str, same_number: &[String]) -> String {
    if same_number.is_empty() {
        number.to_string()
    } else {
        format!("{number}-{}", sale_id.chars().take(8).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use shopsync_types::Amount;

    use super::*;

    fn line(rate_bp: u32, total: i64, tax: i64) -> SaleLineView {
        let a = |minor| Amount { minor, decimals: 2 };
        SaleLineView {
            line_no: 0,
            product_id: "p".into(),
            sku: "S".into(),
            name: "n".into(),
            qty: 1,
            unit_price: a(total),
            price_override_reason: None,
            discount: a(0),
            tax_class: None,
            tax_rate_bp: rate_bp,
            tax: a(tax),
            total: a(total),
            refunded_qty: 0,
        }
    }

    #[test]
    fn totals_per_rate_split_gross_into_net_and_tax() {
        let rates = per_rate(&[
            line(2000, 1200, 200),
            line(700, 107, 7),
            line(2000, 600, 100),
        ]);
        assert_eq!(
            rates.get(&2000),
            Some(&RateTotals {
                net: 1500,
                tax: 300,
                gross: 1800
            })
        );
        assert_eq!(rates.get(&700).map(|r| r.net), Some(100));
        assert_eq!(rates.keys().copied().collect::<Vec<_>>(), vec![700, 2000]);
    }

    #[test]
    fn a_number_two_sales_share_gets_the_sale_id_on_the_invoice() {
        assert_eq!(invoice_number("T1-42", "0198abcd-ef", &[]), "T1-42");
        assert_eq!(
            invoice_number("T1-42", "0198abcd-ef", &["other".into()]),
            "T1-42-0198abcd"
        );
    }
}
