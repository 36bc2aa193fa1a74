//! From the IPC input types (money as typed text) to the core's inputs
//! (integer minor units), with the store's currency.

use shopsync_core::error::money_err;
use shopsync_core::{
    CartLine, CoreError, NewProduct, NewSupplier, NewTaxClass, ProductEdit, ReceiveLine,
    RefundRequest, Result, SupplierEdit, TenderInput,
};
use shopsync_types::ipc::{
    CartLineInput, ProductInput, ReceiveInput, RefundInput, SupplierInput, TaxClassInput,
    TenderInput as TenderText,
};
use shopsync_types::{Currency, ErrorCode, ErrorInfo};

fn money(c: Currency, field: &str, text: &str) -> Result<i64> {
    c.parse(text).map_err(money_err(field))
}

pub(crate) fn opt_money(c: Currency, field: &str, text: Option<&str>) -> Result<Option<i64>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => money(c, field, t).map(Some),
        None => Ok(None),
    }
}

fn opt_text(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

pub fn cart(c: Currency, lines: &[CartLineInput]) -> Result<Vec<CartLine>> {
    lines
        .iter()
        .map(|l| {
            if l.discount_bp > 10_000 {
                return Err(CoreError::invalid(
                    "discount",
                    "a discount cannot exceed 100 %",
                ));
            }
            Ok(CartLine {
                code: l.code.clone(),
                qty: l.qty,
                unit_price: opt_money(c, "price", l.unit_price.as_deref())?,
                override_reason: opt_text(l.override_reason.clone()),
                discount_bp: l.discount_bp,
            })
        })
        .collect()
}

pub fn tenders(c: Currency, tenders: &[TenderText]) -> Result<Vec<TenderInput>> {
    tenders
        .iter()
        .map(|t| {
            Ok(TenderInput {
                kind: t.kind,
                amount: money(c, "tender", &t.amount)?,
            })
        })
        .collect()
}

pub fn new_product(c: Currency, p: ProductInput) -> Result<NewProduct> {
    Ok(NewProduct {
        sku: p.sku.trim().to_string(),
        name: p.name.trim().to_string(),
        price: money(c, "price", &p.price)?,
        cost: opt_money(c, "cost", p.cost.as_deref())?,
        barcodes: p
            .barcodes
            .iter()
            .map(|b| b.trim().to_string())
            .filter(|b| !b.is_empty())
            .collect(),
        tax_class: opt_text(p.tax_class),
        supplier: opt_text(p.supplier),
        category: opt_text(p.category),
        reorder_point: p.reorder_point,
        // Not on the app's form yet (CLI and CSV only): left alone.
        reorder_target: None,
    })
}

/// An edit that sets every field to what the form shows (the reorder
/// target is not on the form: left alone).
pub fn product_edit(c: Currency, p: ProductInput) -> Result<ProductEdit> {
    let n = new_product(c, p)?;
    Ok(ProductEdit {
        sku: Some(n.sku),
        name: Some(n.name),
        price: Some(n.price),
        cost: Some(n.cost),
        barcodes: Some(n.barcodes),
        tax_class: Some(n.tax_class),
        supplier: Some(n.supplier),
        category: Some(n.category),
        reorder_point: Some(n.reorder_point),
        active: None,
        reorder_target: None,
    })
}

pub fn receive(c: Currency, r: &ReceiveInput) -> Result<Vec<ReceiveLine>> {
    r.lines
        .iter()
        .map(|l| {
            Ok(ReceiveLine {
                code: l.code.clone(),
                qty: l.qty,
                unit_cost: opt_money(c, "cost", l.unit_cost.as_deref())?,
            })
        })
        .collect()
}

pub fn refund(r: &RefundInput) -> RefundRequest {
    RefundRequest {
        lines: r.lines.iter().map(|l| (l.code.clone(), l.qty)).collect(),
        tender: r.tender,
        restock: true,
    }
}

pub fn new_supplier(s: SupplierInput) -> NewSupplier {
    NewSupplier {
        name: s.name,
        phone: opt_text(s.phone),
        email: opt_text(s.email),
        notes: opt_text(s.notes),
    }
}

pub fn supplier_edit(s: SupplierInput) -> SupplierEdit {
    SupplierEdit {
        name: Some(s.name),
        phone: Some(opt_text(s.phone)),
        email: Some(opt_text(s.email)),
        notes: Some(opt_text(s.notes)),
    }
}

/// "20" or "5.5" percent to basis points.
pub fn tax_class(t: TaxClassInput) -> Result<NewTaxClass> {
    let bp = shopsync_types::money::parse_minor(&t.rate, 2).map_err(money_err("rate"))?;
    let rate_bp = u32::try_from(bp)
        .map_err(|_| CoreError::invalid("rate", "a tax rate cannot be negative"))?;
    Ok(NewTaxClass {
        id: t.id,
        name: t.name,
        rate_bp,
        inclusive: t.inclusive,
    })
}

/// A core error as the UI sees it. Staff errors get their own codes, so
/// the UI knows to show the PIN pad (`SignInRequired`) or to ask for an
/// approver's PIN and retry (`ApprovalNeeded`, `field` naming the role
/// that may approve); the core keeps `unauthorized` for the CLI.
pub fn error_info(e: CoreError) -> ErrorInfo {
    match e {
        CoreError::SignInRequired => ErrorInfo {
            code: ErrorCode::SignInRequired,
            message: "sign in with your staff PIN: nobody is signed in on this till (it locks after the shop's idle time)".into(),
            row: None,
            field: None,
        },
        CoreError::ApprovalNeeded { role, message } => ErrorInfo {
            code: ErrorCode::ApprovalNeeded,
            message,
            row: None,
            field: Some(role),
        },
        // The core's text names the CLI; at the till the Drawer screen
        // opens a session. `field` lets the UI offer the way there.
        e @ (CoreError::DrawerSessionRequired | CoreError::NoDrawerSession) => ErrorInfo {
            code: e.code(),
            message: match e {
                CoreError::DrawerSessionRequired => {
                    "cash needs an open drawer session on this till: open one on the Drawer screen"
                }
                _ => "no drawer session is open on this till: open one on the Drawer screen",
            }
            .into(),
            row: None,
            field: Some(shopsync_types::drawer::DRAWER_SESSION_FIELD.into()),
        },
        other => other.info(),
    }
}

/// An approver's PIN that found nobody (wrong, paused, malformed) says so
/// and names the field `approve_pin`, so the UI asks for it again.
pub fn approval_error(e: CoreError) -> ErrorInfo {
    let mut info = match e {
        CoreError::WrongPin(left) => ErrorInfo {
            code: ErrorCode::Unauthorized,
            message: format!(
                "approval: wrong PIN ({left} tries left before PIN checks pause for 30 s)"
            ),
            row: None,
            field: None,
        },
        other => error_info(other),
    };
    info.field = Some("approve_pin".into());
    info
}

/// A listed refund as the UI reads it (the tender as a kind).
pub fn refund_item(r: shopsync_core::staff::RefundSummary) -> shopsync_types::RefundListItem {
    shopsync_types::RefundListItem {
        tender: shopsync_types::TenderKind::from_code(&r.tender),
        refund_id: r.refund_id,
        sale_id: r.sale_id,
        sale_number: r.sale_number,
        till_id: r.till_id,
        at: r.at,
        amount: r.amount,
        staff_id: r.staff_id,
        approver_id: r.approver_id,
    }
}
