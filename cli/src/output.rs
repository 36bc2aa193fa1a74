//! Human-readable rendering of results (the JSON form is the serialized value).

use shopsync_types::zone::StoreZone;
use std::fmt::Write;

use shopsync_core::types::{
    Category, CountView, OrderView, Product, SaleDetail, SaleReceipt, SaleSummary, StockLevel,
    StockStatus, Supplier, ZReport,
};

pub struct Output {
    pub human: String,
    pub json: String,
    /// Printed on stderr after the output; the command still succeeded
    /// (a sale saved whose receipt did not print).
    pub warning: Option<String>,
}

impl Output {
    pub fn new(
        human: impl Into<String>,
        value: &impl serde::Serialize,
    ) -> shopsync_core::Result<Output> {
        let json = serde_json::to_string_pretty(value)
            .map_err(|e| shopsync_core::CoreError::Corrupt(format!("cannot encode output: {e}")))?;
        Ok(Output {
            human: human.into(),
            json,
            warning: None,
        })
    }
}

/// Clock flags (issue 7, part 2): one line each after a heading, or nothing.
pub fn clock_flags(flags: &[shopsync_core::clock::ClockFlag]) -> String {
    let mut s = String::new();
    for f in flags {
        let _ = write!(s, "\nclock warning: {}", f.message());
    }
    s
}

pub fn products(list: &[Product]) -> String {
    let mut s = String::new();
    for p in list {
        let _ = writeln!(
            s,
            "{:<14} {:>9}  {}{}{}",
            p.sku,
            p.price,
            p.name,
            if p.active { "" } else { "  (archived)" },
            if p.sku_clash.is_empty() {
                String::new()
            } else {
                format!("  SKU CLASH {} ({})", p.sku, p.id)
            }
        );
    }
    if list.is_empty() {
        s.push_str("no products\n");
    }
    s
}

pub fn product(p: &Product) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{} — {}", p.sku, p.name);
    let _ = writeln!(s, "  id:            {}", p.id);
    let _ = writeln!(s, "  price:         {}", p.price);
    if let Some(c) = p.cost {
        let _ = writeln!(s, "  cost:          {c}");
    }
    if !p.barcodes.is_empty() {
        let _ = writeln!(s, "  barcodes:      {}", p.barcodes.join(", "));
    }
    if let Some(t) = &p.tax_class {
        let _ = writeln!(s, "  tax class:     {t}");
    }
    if let Some(r) = p.reorder_point {
        let _ = writeln!(s, "  reorder point: {r}");
    }
    if let Some(t) = p.reorder_target {
        let _ = writeln!(s, "  reorder to:    {t}");
    }
    if let Some(sup) = &p.supplier {
        let _ = writeln!(s, "  supplier:      {sup}");
    }
    if !p.active {
        let _ = writeln!(s, "  archived");
    }
    if !p.conflicts.is_empty() {
        let _ = writeln!(
            s,
            "  conflicting edits on: {} (edit the field to settle it)",
            p.conflicts.join(", ")
        );
    }
    if !p.sku_clash.is_empty() {
        let _ = writeln!(
            s,
            "  SKU clash: {} is also the SKU of {} (made on two tills offline; `product edit ID --sku NEW` renames one, `product merge KEEP_ID OTHER_ID` merges them)",
            p.sku,
            p.sku_clash.join(", ")
        );
    }
    s
}

pub fn categories(list: &[Category]) -> String {
    let mut s = String::new();
    for c in list {
        let _ = writeln!(
            s,
            "{}  {}  {} products{}",
            c.id,
            c.name,
            c.products,
            if c.archived { "  (archived)" } else { "" }
        );
    }
    if list.is_empty() {
        s.push_str("no categories\n");
    }
    s
}

pub fn suppliers(list: &[Supplier]) -> String {
    let mut s = String::new();
    for x in list {
        let _ = writeln!(
            s,
            "{}  {}{}",
            x.id,
            x.name,
            x.phone
                .as_ref()
                .map(|p| format!("  {p}"))
                .unwrap_or_default()
        );
    }
    if list.is_empty() {
        s.push_str("no suppliers\n");
    }
    s
}

pub fn stock(list: &[StockLevel]) -> String {
    let mut s = String::new();
    if list.is_empty() {
        s.push_str("nothing to show\n");
        return s;
    }
    let _ = writeln!(
        s,
        "{:<14} {:>7} {:>8} {:>9}  name",
        "sku", "on hand", "reserved", "available"
    );
    for l in list {
        let flag = match l.status {
            StockStatus::Ok => "",
            StockStatus::Low => "  LOW",
            StockStatus::Negative => "  NEGATIVE",
        };
        let _ = writeln!(
            s,
            "{:<14} {:>7} {:>8} {:>9}  {}{flag}",
            l.sku, l.on_hand, l.reserved, l.available, l.name
        );
    }
    s
}

/// A sale just recorded (`sell`, `order collect`).
pub fn receipt(r: &SaleReceipt) -> String {
    format!(
        "sale {} ({})\ntotal  {}\nchange {}",
        r.number, r.sale_id, r.total, r.change
    )
}

/// UTC milliseconds as the store's wall-clock `YYYY-MM-DD HH:MM`.
fn local_ms(zone: StoreZone, ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| zone.local(t).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// The first 8 characters of an order id (any 4 or more find it).
fn short_id(id: &str) -> &str {
    id.char_indices().nth(8).map_or(id, |(i, _)| &id[..i])
}

fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut t: String = text.chars().take(width.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

pub fn orders(list: &[OrderView], all: bool, zone: StoreZone) -> String {
    let mut s = String::new();
    if list.is_empty() {
        s.push_str(if all {
            "no orders\n"
        } else {
            "no open orders (`orders --all` shows collected, rejected and cancelled ones)\n"
        });
        return s;
    }
    let _ = writeln!(
        s,
        "{:<8}  {:<20} {:<16} {:<9} {:>5}  sent",
        "id", "customer", "list", "status", "lines"
    );
    for o in list {
        let _ = writeln!(
            s,
            "{:<8}  {:<20} {:<16} {:<9} {:>5}  {}",
            short_id(&o.id),
            clip(&o.customer_name, 20),
            clip(&o.list_name, 16),
            o.status.as_str(),
            o.lines.len(),
            local_ms(zone, o.sent_at)
        );
    }
    s
}

pub fn order(o: &OrderView, zone: StoreZone) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Order {}  {}", o.id, o.status.as_str().to_uppercase());
    let _ = writeln!(s, "  customer  {}", o.customer_name);
    let _ = writeln!(s, "  list      {}", o.list_name);
    let _ = writeln!(s, "  sent      {}", local_ms(zone, o.sent_at));
    if o.status_at != o.sent_at {
        let _ = writeln!(
            s,
            "  {:<9} {}",
            o.status.as_str(),
            local_ms(zone, o.status_at)
        );
    }
    if let Some(n) = &o.note {
        let _ = writeln!(s, "  note      {n}");
    }
    if let Some(c) = &o.conflict {
        let _ = writeln!(s, "  CONFLICT  {c}");
    }
    if let Some(r) = &o.reason {
        let _ = writeln!(s, "  reason    {r}");
    }
    if let Some(sale) = &o.sale_id {
        let _ = writeln!(s, "  sale      {sale}");
    }
    let _ = writeln!(s, "  {:>4}  {:<14} {:>4}  item", "line", "sku", "qty");
    for l in &o.lines {
        let mut marks = String::new();
        if l.unavailable {
            marks.push_str("  UNAVAILABLE");
        } else if l.sku.is_some() && l.product_id.is_none() {
            marks.push_str("  NOT IN CATALOG");
        } else if l.sku.is_none() {
            marks.push_str("  (free text: not sold at collection)");
        }
        if l.shortfall > 0 {
            let _ = write!(marks, "  SHORT {} (stock does not cover it)", l.shortfall);
        }
        let _ = writeln!(
            s,
            "  {:>4}  {:<14} {:>4}  {}{marks}",
            l.line,
            l.sku.as_deref().unwrap_or("-"),
            l.qty,
            l.text
        );
    }
    s
}

pub fn sales(list: &[SaleSummary]) -> String {
    let mut s = String::new();
    for x in list {
        let refunded = if x.refunded.minor != 0 {
            format!("  refunded {}", x.refunded)
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "{}  {:<14} {:>3} items {:>10}{refunded}  {}{}{}",
            x.at.format("%Y-%m-%d %H:%M UTC"),
            x.number,
            x.items,
            x.total,
            x.sale_id,
            same_number_flag(&x.same_number),
            if x.over_refunded {
                "  OVER-REFUNDED"
            } else {
                ""
            }
        );
    }
    if list.is_empty() {
        s.push_str("no sales\n");
    }
    s
}

/// restore: the flag `sales` prints after a sale whose number another sale
/// of the same till also has.
fn same_number_flag(others: &[String]) -> String {
    if others.is_empty() {
        String::new()
    } else {
        format!("  DUPLICATE NUMBER (also {})", others.join(", "))
    }
}

pub fn sale(d: &SaleDetail) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Sale {}  ({})  {}",
        d.summary.number,
        d.summary.sale_id,
        d.summary.at.format("%Y-%m-%d %H:%M:%S UTC")
    );
    if !d.summary.same_number.is_empty() {
        let _ = writeln!(
            s,
            "  CONFLICT: number {} was also given to sale {} (a till restored from a backup or a cloned disk numbered both)",
            d.summary.number,
            d.summary.same_number.join(", ")
        );
    }
    for l in &d.lines {
        let _ = write!(
            s,
            "  {:>3} × {:<28} @ {:>8} = {:>9}",
            l.qty, l.name, l.unit_price, l.total
        );
        if l.discount.minor != 0 {
            let _ = write!(s, "  (discount {})", l.discount);
        }
        if let Some(r) = &l.price_override_reason {
            let _ = write!(s, "  (price override: {r})");
        }
        if l.refunded_qty != 0 {
            let _ = write!(s, "  ({} refunded)", l.refunded_qty);
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "  subtotal {}  discount {}  tax {}  total {}",
        d.subtotal, d.discount, d.summary.tax, d.summary.total
    );
    for t in &d.tenders {
        let _ = writeln!(s, "  paid {} {}", t.kind.as_str(), t.amount);
    }
    let _ = writeln!(s, "  change {}", d.change);
    for r in &d.refunds {
        let _ = writeln!(
            s,
            "  refund {} {} to {} ({}){}",
            r.at.format("%Y-%m-%d %H:%M UTC"),
            r.amount,
            r.tender.as_str(),
            r.refund_id,
            if r.till_id.is_empty() {
                String::new()
            } else {
                format!(" on till {}", r.till_id)
            }
        );
    }
    for c in &d.refund_conflicts {
        let _ = writeln!(
            s,
            "  CONFLICT line {} {}: sold {}, refunded {} ({} refunded too much) by:",
            c.line_no, c.sku, c.sold, c.refunded, c.excess_amount
        );
        for r in &c.refunds {
            let _ = writeln!(
                s,
                "    {} × {} = {}  refund {} on till {} at {}",
                r.qty,
                c.sku,
                r.amount,
                r.refund_id,
                r.till_id,
                r.at.format("%Y-%m-%d %H:%M UTC")
            );
        }
    }
    s
}

pub fn count(c: &CountView) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Count {} ({:?}, started {})",
        c.count_id,
        c.status,
        c.started_at.format("%Y-%m-%d %H:%M UTC")
    );
    let _ = writeln!(
        s,
        "  {:<14} {:>8} {:>8} {:>8} {:>10}",
        "sku", "expected", "counted", "diff", "value"
    );
    for l in &c.lines {
        let opt = |v: Option<i64>| v.map_or_else(|| "-".to_string(), |n| n.to_string());
        let _ = writeln!(
            s,
            "  {:<14} {:>8} {:>8} {:>8} {:>10}",
            l.sku,
            l.expected,
            opt(l.counted),
            opt(l.difference),
            l.difference_value
                .map_or_else(|| "-".to_string(), |v| v.to_string())
        );
    }
    s
}

/// `staff`: the staff member the report is limited to, if any.
pub fn z_report(z: &ZReport, staff: Option<&str>) -> String {
    let mut s = String::new();
    match staff {
        Some(name) => {
            let _ = writeln!(
                s,
                "Z report {} (only {name}'s sales and refunds; over-refunded sales: the whole day's)",
                z.date
            );
        }
        None => {
            let _ = writeln!(s, "Z report {}", z.date);
        }
    }
    let _ = writeln!(
        s,
        "  sales          {:>6}   items {}",
        z.sales_count, z.items_sold
    );
    let _ = writeln!(s, "  gross sales    {:>12}", z.gross_sales.to_string());
    let _ = writeln!(s, "  discounts      {:>12}", z.discounts.to_string());
    for t in &z.tax {
        let _ = writeln!(
            s,
            "  tax {:<10} {:>5.2}%  taxable {:>10}  tax {:>9}",
            t.tax_class.clone().unwrap_or_else(|| "none".into()),
            f64::from(t.rate_bp) / 100.0,
            t.taxable.to_string(),
            t.tax.to_string()
        );
    }
    for t in &z.tenders {
        let _ = writeln!(
            s,
            "  taken {:<8} {:>12}",
            t.kind.as_str(),
            t.amount.to_string()
        );
    }
    let _ = writeln!(s, "  change given   {:>12}", z.change_given.to_string());
    let _ = writeln!(
        s,
        "  refunds        {:>6}   {:>12}",
        z.refunds_count,
        z.refunds_total.to_string()
    );
    let _ = writeln!(s, "  net sales      {:>12}", z.net_sales.to_string());
    let _ = writeln!(s, "  cash expected  {:>12}", z.cash_expected.to_string());
    if !z.over_refunded.is_empty() {
        let _ = writeln!(
            s,
            "  OVER-REFUNDED  {:>6}   {:>12}  (refunded beyond what was sold)",
            z.over_refunded.len(),
            z.over_refunded_total.to_string()
        );
        for o in &z.over_refunded {
            let _ = writeln!(
                s,
                "    {:<14} {:>3} units {:>12}  {}",
                o.number,
                o.excess_qty,
                o.excess_amount.to_string(),
                o.sale_id
            );
        }
    }
    s
}

pub fn refunds(list: &[shopsync_core::staff::RefundSummary]) -> String {
    let mut s = String::new();
    for r in list {
        let _ = writeln!(
            s,
            "{}  {:>10} to {:<5} sale {}  {}{}{}",
            r.at.format("%Y-%m-%d %H:%M"),
            r.amount,
            r.tender,
            r.sale_id,
            r.refund_id,
            r.staff_id
                .as_deref()
                .map(|id| format!("  by {id}"))
                .unwrap_or_default(),
            r.approver_id
                .as_deref()
                .map(|id| format!(", approved by {id}"))
                .unwrap_or_default(),
        );
    }
    if list.is_empty() {
        s.push_str("no refunds\n");
    }
    s
}
