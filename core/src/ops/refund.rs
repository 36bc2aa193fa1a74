//! Refunds and returns against an earlier sale (from any till).

use rusqlite::params;
use shopsync_types::{RefundLineView, RefundReceipt, TenderKind};

use super::lookup;
use crate::error::{CoreError, Result};
use crate::ids::new_id;
use crate::pricing::pro_rata;
use crate::records::{Record, RefundLine, RefundRecord};
use crate::staff::Action;
use crate::store::Store;

#[derive(Debug, Clone, Default)]
pub struct RefundRequest {
    /// `(SKU or barcode, qty)`; empty refunds everything not yet refunded.
    pub lines: Vec<(String, i64)>,
    /// Defaults to cash if the sale took cash, else its first tender.
    pub tender: Option<TenderKind>,
    /// Put the goods back in stock (default: yes).
    pub restock: bool,
}

struct SoldLine {
    line_no: u32,
    product_id: String,
    sku: String,
    qty: i64,
    tax: i64,
    total: i64,
    refunded: i64,
}

impl Store {
    pub fn refund(&mut self, sale_id: &str, req: RefundRequest) -> Result<RefundReceipt> {
        let sale_id = sale_id.trim();
        let exists: bool = self
            .conn
            .prepare("SELECT 1 FROM sales WHERE id = ?1")?
            .exists([sale_id])?;
        if !exists {
            return Err(CoreError::not_found("sale", sale_id));
        }
        let mut sold: Vec<SoldLine> = self
            .conn
            .prepare(
                "SELECT l.line_no, l.product_id, l.sku, l.qty, l.tax, l.total,
                        COALESCE((SELECT SUM(r.qty) FROM refund_lines r WHERE r.sale_id = l.sale_id AND r.line_no = l.line_no), 0)
                 FROM sale_lines l WHERE l.sale_id = ?1 ORDER BY l.line_no",
            )?
            .query_map(params![sale_id], |r| {
                Ok(SoldLine {
                    line_no: r.get(0)?,
                    product_id: r.get(1)?,
                    sku: r.get(2)?,
                    qty: r.get(3)?,
                    tax: r.get(4)?,
                    total: r.get(5)?,
                    refunded: r.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;

        // How many of each sale line to refund now.
        let mut take: Vec<i64> = vec![0; sold.len()];
        if req.lines.is_empty() {
            for (i, l) in sold.iter().enumerate() {
                // Two tills refunding the same sale offline can leave more
                // refunded than sold: that line has nothing left, never less.
                take[i] = (l.qty - l.refunded).max(0);
            }
        } else {
            for (code, qty) in &req.lines {
                let qty = lookup::positive_qty("qty", *qty)?;
                let product = lookup::by_code(&self.conn, self.currency, code)?;
                let mut left = qty;
                for (i, l) in sold.iter().enumerate() {
                    if l.product_id == product.id {
                        let room = l.qty - l.refunded - take[i];
                        let n = left.min(room.max(0));
                        take[i] += n;
                        left -= n;
                    }
                }
                if left > 0 {
                    let was_sold: i64 = sold
                        .iter()
                        .filter(|l| l.product_id == product.id)
                        .map(|l| l.qty - l.refunded)
                        .sum();
                    return Err(CoreError::Payment(
                        if was_sold == 0 && !sold.iter().any(|l| l.product_id == product.id) {
                            format!("'{}' is not on sale {sale_id}", product.sku)
                        } else {
                            format!(
                                "cannot refund {qty} of '{}': {} left to refund on this sale",
                                product.sku,
                                was_sold.max(0)
                            )
                        },
                    ));
                }
            }
        }
        if take.iter().all(|n| *n <= 0) {
            return Err(CoreError::NothingToRefund(sale_id.to_string()));
        }

        let tender = match req.tender {
            Some(t) => t,
            None => {
                let kinds: Vec<String> = self
                    .conn
                    .prepare("SELECT kind FROM sale_tenders WHERE sale_id = ?1 ORDER BY idx")?
                    .query_map([sale_id], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                if kinds.iter().any(|k| k == "cash") || kinds.is_empty() {
                    TenderKind::Cash
                } else if kinds[0] == "card" {
                    TenderKind::Card
                } else {
                    TenderKind::Other
                }
            }
        };

        let mut lines = Vec::new();
        for (l, n) in sold.iter_mut().zip(take) {
            if n <= 0 {
                continue;
            }
            lines.push(RefundLine {
                line_no: l.line_no,
                product_id: l.product_id.clone(),
                qty: n,
                amount: pro_rata(l.total, l.refunded, n, l.qty),
                tax: pro_rata(l.tax, l.refunded, n, l.qty),
            });
            l.refunded += n;
        }
        let amount: i64 = lines.iter().map(|l| l.amount).sum();
        let who = self.authorize_acting(&[Action::Refund { amount }])?;
        let record = RefundRecord {
            id: new_id(),
            sale_id: sale_id.to_string(),
            at: 0,
            amount,
            tax: lines.iter().map(|l| l.tax).sum(),
            lines,
            tender,
            restock: req.restock,
            hlc: None,
            staff_id: who.staff_id,
            approver_id: who.approver_id,
            drawer_session: None,
        };
        let till_id = self.info.till_id.clone();
        let record = self.write(|w| {
            let mut r = record;
            r.at = w.now;
            // The drawer session it names (issue 10); no cash back without
            // one when `cash_sessions = required`.
            r.drawer_session = crate::drawer::session::for_payment(
                w.conn,
                &till_id,
                r.tender == TenderKind::Cash,
            )?;
            w.append(&Record::Refund(r.clone()))?;
            Ok(r)
        })?;
        let c = self.currency;
        Ok(RefundReceipt {
            refund_id: record.id,
            sale_id: record.sale_id,
            amount: c.amount(record.amount),
            tender: record.tender,
            lines: record
                .lines
                .iter()
                .map(|l| RefundLineView {
                    sku: sold
                        .iter()
                        .find(|s| s.line_no == l.line_no)
                        .map(|s| s.sku.clone())
                        .unwrap_or_default(),
                    qty: l.qty,
                    amount: c.amount(l.amount),
                })
                .collect(),
        })
    }
}
