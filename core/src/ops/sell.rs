//! Selling: price a cart, take tenders, record the sale.

use rusqlite::Connection;
use shopsync_types::{Currency, SaleLineView, SaleQuote, SaleReceipt, TenderKind};

use super::lookup;
use crate::error::{CoreError, Result};
use crate::ids::new_id;
use crate::pricing::{price_line, settle};
use crate::records::{Record, SaleLine, SaleRecord, Tender};
use crate::staff::Action;
use crate::store::Store;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartLine {
    /// SKU or barcode.
    pub code: String,
    pub qty: i64,
    /// A price typed at the till instead of the catalog price.
    pub unit_price: Option<i64>,
    pub override_reason: Option<String>,
    /// Line discount in basis points (1250 = 12.5 %).
    pub discount_bp: u32,
}

impl CartLine {
    pub fn new(code: impl Into<String>, qty: i64) -> Self {
        CartLine {
            code: code.into(),
            qty,
            unit_price: None,
            override_reason: None,
            discount_bp: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenderInput {
    pub kind: TenderKind,
    pub amount: i64,
}

struct Priced {
    lines: Vec<SaleLine>,
    subtotal: i64,
    discount: i64,
    tax: i64,
    total: i64,
}

fn price_cart(conn: &Connection, cart: &[CartLine]) -> Result<Priced> {
    if cart.is_empty() {
        return Err(CoreError::invalid(
            "lines",
            "a sale needs at least one line",
        ));
    }
    let mut lines = Vec::with_capacity(cart.len());
    let (mut subtotal, mut discount, mut tax, mut total) = (0i64, 0i64, 0i64, 0i64);
    for item in cart {
        let product = lookup::for_sale(conn, &item.code)?;
        if !product.active {
            return Err(CoreError::Conflict(format!(
                "product '{}' is archived and cannot be sold",
                product.sku
            )));
        }
        let qty = lookup::positive_qty("qty", item.qty)?;
        let unit_price = match item.unit_price {
            Some(p) if p < 0 => {
                return Err(CoreError::invalid("price", "a price must not be negative"));
            }
            Some(p) => p,
            None => product.price,
        };
        let rule = match (&product.tax_class, product.rule) {
            (Some(class), None) => return Err(CoreError::not_found("tax class", class.clone())),
            (_, rule) => rule,
        };
        let p = price_line(qty, unit_price, item.discount_bp, rule)?;
        let overflow = || CoreError::invalid("total", "the sale total is too large");
        subtotal = subtotal.checked_add(p.amount).ok_or_else(overflow)?;
        discount = discount.checked_add(p.discount).ok_or_else(overflow)?;
        tax = tax.checked_add(p.tax).ok_or_else(overflow)?;
        total = total.checked_add(p.total).ok_or_else(overflow)?;
        let reason = item
            .override_reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string);
        lines.push(SaleLine {
            product_id: product.id,
            sku: product.sku,
            name: product.name,
            qty,
            unit_price,
            override_reason: if unit_price != product.price {
                reason.or_else(|| Some("price override".into()))
            } else {
                None
            },
            discount_bp: item.discount_bp,
            discount: p.discount,
            tax_class: product.tax_class,
            tax_rate_bp: rule.map_or(0, |r| r.rate_bp),
            tax_inclusive: rule.is_some_and(|r| r.inclusive),
            tax: p.tax,
            total: p.total,
        });
    }
    Ok(Priced {
        lines,
        subtotal,
        discount,
        tax,
        total,
    })
}

/// What a sale asks of the staff member's role: selling, and each price
/// override and line discount (`crate::staff::permissions`).
fn sale_actions(lines: &[SaleLine]) -> Vec<Action> {
    let mut actions = vec![Action::Sell];
    for l in lines {
        if l.override_reason.is_some() {
            actions.push(Action::PriceOverride);
        }
        if l.discount_bp > 0 {
            actions.push(Action::Discount { bp: l.discount_bp });
        }
    }
    actions
}

pub(crate) fn line_view(
    currency: Currency,
    i: usize,
    l: &SaleLine,
    refunded_qty: i64,
) -> SaleLineView {
    SaleLineView {
        line_no: u32::try_from(i + 1).unwrap_or(u32::MAX),
        product_id: l.product_id.clone(),
        sku: l.sku.clone(),
        name: l.name.clone(),
        qty: l.qty,
        unit_price: currency.amount(l.unit_price),
        price_override_reason: l.override_reason.clone(),
        discount: currency.amount(l.discount),
        tax_class: l.tax_class.clone(),
        tax_rate_bp: l.tax_rate_bp,
        tax: currency.amount(l.tax),
        total: currency.amount(l.total),
        refunded_qty,
    }
}

impl Store {
    /// Prices a cart without recording anything (the till's running total).
    pub fn quote(&self, cart: &[CartLine]) -> Result<SaleQuote> {
        let p = price_cart(&self.conn, cart)?;
        let c = self.currency;
        Ok(SaleQuote {
            lines: p
                .lines
                .iter()
                .enumerate()
                .map(|(i, l)| line_view(c, i, l, 0))
                .collect(),
            subtotal: c.amount(p.subtotal),
            discount: c.amount(p.discount),
            tax: c.amount(p.tax),
            total: c.amount(p.total),
        })
    }

    /// Records a sale. It is on disk (fsync'd) when this returns `Ok`.
    pub fn sell(&mut self, cart: &[CartLine], tenders: &[TenderInput]) -> Result<SaleReceipt> {
        self.sell_with(cart, tenders, |_, _| Ok(()))
    }

    /// Records a sale and, in the same transaction, whatever `also` writes
    /// about it (collecting a pickup order marks the order collected): both
    /// are on disk, or neither.
    pub(crate) fn sell_with(
        &mut self,
        cart: &[CartLine],
        tenders: &[TenderInput],
        also: impl FnOnce(&mut crate::store::Writer<'_>, &SaleRecord) -> Result<()>,
    ) -> Result<SaleReceipt> {
        let priced = price_cart(&self.conn, cart)?;
        let who = self.authorize_acting(&sale_actions(&priced.lines))?;
        let tenders: Vec<Tender> = tenders
            .iter()
            .map(|t| Tender {
                kind: t.kind,
                amount: t.amount,
            })
            .collect();
        let change = settle(priced.total, &tenders, self.currency)?;
        let till_name = self.info.till_name.clone();
        let till_id = self.info.till_id.clone();
        let cash = tenders.iter().any(|t| t.kind == TenderKind::Cash);
        let record = self.write(|w| {
            // The drawer session the sale names (issue 10), checked in the
            // transaction: with `cash_sessions = required`, no cash without one.
            let drawer_session = crate::drawer::session::for_payment(w.conn, &till_id, cash)?;
            let seq = w.next_sale_seq()?;
            let record = SaleRecord {
                id: new_id(),
                number: format!("{till_name}-{seq:06}"),
                seq,
                at: w.now,
                lines: priced.lines,
                tenders,
                subtotal: priced.subtotal,
                discount: priced.discount,
                tax: priced.tax,
                total: priced.total,
                change,
                hlc: None,
                staff_id: who.staff_id,
                approver_id: who.approver_id,
                drawer_session,
            };
            w.append(&Record::Sale(record.clone()))?;
            also(w, &record)?;
            Ok(record)
        })?;
        let c = self.currency;
        Ok(SaleReceipt {
            sale_id: record.id,
            number: record.number,
            total: c.amount(record.total),
            tax: c.amount(record.tax),
            paid: c.amount(record.tenders.iter().map(|t| t.amount).sum()),
            change: c.amount(record.change),
        })
    }
}
