//! Ledger records: what a till appends to its ledger partition. Each record is
//! stored in the partition document as one immutable bytes value under its id
//! (see docs/DOCUMENTS.md): a schema-version byte followed by the record as JSON.
//! Records are never edited; a refund or a correction is a new record.

use serde::{Deserialize, Serialize};
use shopsync_types::TenderKind;

pub use crate::drawer::records::{
    DrawerCloseRecord, DrawerMoveRecord, DrawerOpenRecord, MoveDirection,
};
use crate::error::{CoreError, Result};
pub use crate::purchase::records::{
    PurchaseOrderCloseRecord, PurchaseOrderLine, PurchaseOrderRecord,
};

pub const RECORD_SCHEMA_VERSION: u8 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    Sale(SaleRecord),
    Refund(RefundRecord),
    Receipt(ReceiptRecord),
    Adjustment(AdjustmentRecord),
    Count(CountRecord),
    // drawer sessions (issue 10): see crate::drawer::records
    DrawerOpen(DrawerOpenRecord),
    DrawerMove(DrawerMoveRecord),
    DrawerClose(DrawerCloseRecord),
    // purchasing (issue 10)
    PurchaseOrder(PurchaseOrderRecord),
    PurchaseOrderClose(PurchaseOrderCloseRecord),
}

impl Record {
    pub fn id(&self) -> &str {
        match self {
            Record::Sale(r) => &r.id,
            Record::Refund(r) => &r.id,
            Record::Receipt(r) => &r.id,
            Record::Adjustment(r) => &r.id,
            Record::Count(r) => &r.id,
            Record::DrawerOpen(r) => &r.id,
            Record::DrawerMove(r) => &r.id,
            Record::DrawerClose(r) => &r.id,
            Record::PurchaseOrder(r) => &r.id,
            Record::PurchaseOrderClose(r) => &r.id,
        }
    }

    pub fn at(&self) -> i64 {
        match self {
            Record::Sale(r) => r.at,
            Record::Refund(r) => r.at,
            Record::Receipt(r) => r.at,
            Record::Adjustment(r) => r.at,
            Record::Count(r) => r.at,
            Record::DrawerOpen(r) => r.at,
            Record::DrawerMove(r) => r.at,
            Record::DrawerClose(r) => r.at,
            Record::PurchaseOrder(r) => r.at,
            Record::PurchaseOrderClose(r) => r.at,
        }
    }

    /// The record's causal stamp, or its date for records of older versions.
    pub fn hlc(&self) -> i64 {
        let stamp = match self {
            Record::Sale(r) => r.hlc,
            Record::Refund(r) => r.hlc,
            Record::Receipt(r) => r.hlc,
            Record::Adjustment(r) => r.hlc,
            Record::Count(r) => r.hlc,
            Record::DrawerOpen(r) => r.hlc,
            Record::DrawerMove(r) => r.hlc,
            Record::DrawerClose(r) => r.hlc,
            Record::PurchaseOrder(r) => r.hlc,
            Record::PurchaseOrderClose(r) => r.hlc,
        };
        stamp.unwrap_or_else(|| self.at())
    }

    /// Whether the record carries a causal stamp (records of older versions do not).
    pub fn has_stamp(&self) -> bool {
        match self {
            Record::Sale(r) => r.hlc.is_some(),
            Record::Refund(r) => r.hlc.is_some(),
            Record::Receipt(r) => r.hlc.is_some(),
            Record::Adjustment(r) => r.hlc.is_some(),
            Record::Count(r) => r.hlc.is_some(),
            Record::DrawerOpen(r) => r.hlc.is_some(),
            Record::DrawerMove(r) => r.hlc.is_some(),
            Record::DrawerClose(r) => r.hlc.is_some(),
            Record::PurchaseOrder(r) => r.hlc.is_some(),
            Record::PurchaseOrderClose(r) => r.hlc.is_some(),
        }
    }

    /// Who made the record and who approved it (see [`SaleRecord::staff_id`]).
    pub fn attribution(&self) -> (Option<&str>, Option<&str>) {
        let (staff, approver) = match self {
            Record::Sale(r) => (&r.staff_id, &r.approver_id),
            Record::Refund(r) => (&r.staff_id, &r.approver_id),
            Record::Receipt(r) => (&r.staff_id, &r.approver_id),
            Record::Adjustment(r) => (&r.staff_id, &r.approver_id),
            Record::Count(r) => (&r.staff_id, &r.approver_id),
            Record::DrawerOpen(r) => (&r.staff_id, &r.approver_id),
            Record::DrawerMove(r) => (&r.staff_id, &r.approver_id),
            Record::DrawerClose(r) => (&r.staff_id, &r.approver_id),
            Record::PurchaseOrder(r) => (&r.staff_id, &r.approver_id),
            Record::PurchaseOrderClose(r) => (&r.staff_id, &r.approver_id),
        };
        (staff.as_deref(), approver.as_deref())
    }

    /// Stamps a record that has no causal stamp yet.
    pub(crate) fn stamp_if_missing(&mut self, hlc: i64) {
        let slot = match self {
            Record::Sale(r) => &mut r.hlc,
            Record::Refund(r) => &mut r.hlc,
            Record::Receipt(r) => &mut r.hlc,
            Record::Adjustment(r) => &mut r.hlc,
            Record::Count(r) => &mut r.hlc,
            Record::DrawerOpen(r) => &mut r.hlc,
            Record::DrawerMove(r) => &mut r.hlc,
            Record::DrawerClose(r) => &mut r.hlc,
            Record::PurchaseOrder(r) => &mut r.hlc,
            Record::PurchaseOrderClose(r) => &mut r.hlc,
        };
        slot.get_or_insert(hlc);
    }

    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut out = vec![RECORD_SCHEMA_VERSION];
        serde_json::to_writer(&mut out, self)
            .map_err(|e| CoreError::Corrupt(format!("cannot encode record: {e}")))?;
        Ok(out)
    }

    pub fn decode(bytes: &[u8]) -> Result<Self> {
        match bytes.split_first() {
            Some((&RECORD_SCHEMA_VERSION, json)) => serde_json::from_slice(json)
                .map_err(|e| CoreError::Corrupt(format!("ledger record does not decode: {e}"))),
            Some((v, _)) => Err(CoreError::Corrupt(format!(
                "ledger record has schema version {v}; this version of ShopSync reads {RECORD_SCHEMA_VERSION}"
            ))),
            None => Err(CoreError::Corrupt("empty ledger record".into())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleRecord {
    pub id: String,
    /// Receipt number, `{till name}-{seq}`.
    pub number: String,
    pub seq: u64,
    pub at: i64,
    pub lines: Vec<SaleLine>,
    pub tenders: Vec<Tender>,
    pub subtotal: i64,
    pub discount: i64,
    pub tax: i64,
    pub total: i64,
    pub change: i64,
    /// Causal stamp (hybrid logical clock, see `crate::clock`): orders
    /// stock movements against counts. `None` in records of older versions,
    /// which are ordered by `at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hlc: Option<i64>,
    /// The staff member who made the record (`staff/{id}` in the catalog);
    /// `None` on a store without staff and in records of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<String>,
    /// The staff member whose PIN approved what the maker's role may not do
    /// alone (see `crate::staff::permissions`); `None` when nothing needed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_id: Option<String>,
    /// The drawer session open on the till when the record was made
    /// (`crate::drawer`); `None` without one and in records of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drawer_session: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleLine {
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub qty: i64,
    pub unit_price: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
    /// Line discount in basis points of the line amount (1000 = 10 %).
    pub discount_bp: u32,
    pub discount: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_class: Option<String>,
    pub tax_rate_bp: u32,
    pub tax_inclusive: bool,
    pub tax: i64,
    /// What the customer pays for the line, tax included.
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tender {
    pub kind: TenderKind,
    pub amount: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRecord {
    pub id: String,
    pub sale_id: String,
    pub at: i64,
    pub lines: Vec<RefundLine>,
    pub amount: i64,
    pub tax: i64,
    pub tender: TenderKind,
    /// Whether the goods went back on the shelf.
    pub restock: bool,
    /// Causal stamp (hybrid logical clock, see `crate::clock`): orders
    /// stock movements against counts. `None` in records of older versions,
    /// which are ordered by `at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hlc: Option<i64>,
    /// The staff member who made the record (`staff/{id}` in the catalog);
    /// `None` on a store without staff and in records of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<String>,
    /// The staff member whose PIN approved what the maker's role may not do
    /// alone (see `crate::staff::permissions`); `None` when nothing needed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_id: Option<String>,
    /// The drawer session open on the till when the record was made
    /// (`crate::drawer`); `None` without one and in records of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drawer_session: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundLine {
    /// 1-based line number in the sale.
    pub line_no: u32,
    pub product_id: String,
    pub qty: i64,
    pub amount: i64,
    pub tax: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptRecord {
    pub id: String,
    pub at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier_id: Option<String>,
    pub lines: Vec<ReceiptLine>,
    /// Causal stamp (hybrid logical clock, see `crate::clock`): orders
    /// stock movements against counts. `None` in records of older versions,
    /// which are ordered by `at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hlc: Option<i64>,
    /// The staff member who made the record (`staff/{id}` in the catalog);
    /// `None` on a store without staff and in records of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<String>,
    /// The staff member whose PIN approved what the maker's role may not do
    /// alone (see `crate::staff::permissions`); `None` when nothing needed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_id: Option<String>,
    /// The purchase order this delivery is against (purchasing, issue 10);
    /// `None` for a delivery without an order and in older records. An
    /// older till reads such a receipt as a plain one: stock moves the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptLine {
    pub product_id: String,
    pub qty: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_cost: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdjustReason {
    Damaged,
    Lost,
    Found,
    Correction,
}

impl AdjustReason {
    pub fn as_str(self) -> &'static str {
        match self {
            AdjustReason::Damaged => "damaged",
            AdjustReason::Lost => "lost",
            AdjustReason::Found => "found",
            AdjustReason::Correction => "correction",
        }
    }
}

impl std::str::FromStr for AdjustReason {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "damaged" => Ok(AdjustReason::Damaged),
            "lost" => Ok(AdjustReason::Lost),
            "found" => Ok(AdjustReason::Found),
            "correction" => Ok(AdjustReason::Correction),
            other => Err(CoreError::invalid(
                "reason",
                format!("unknown reason '{other}': use damaged, lost, found or correction"),
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustmentRecord {
    pub id: String,
    pub at: i64,
    pub product_id: String,
    pub delta: i64,
    pub reason: AdjustReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Causal stamp (hybrid logical clock, see `crate::clock`): orders
    /// stock movements against counts. `None` in records of older versions,
    /// which are ordered by `at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hlc: Option<i64>,
    /// The staff member who made the record (`staff/{id}` in the catalog);
    /// `None` on a store without staff and in records of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<String>,
    /// The staff member whose PIN approved what the maker's role may not do
    /// alone (see `crate::staff::permissions`); `None` when nothing needed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountRecord {
    pub id: String,
    /// When the count was posted.
    pub at: i64,
    pub started_at: i64,
    pub lines: Vec<CountLine>,
    /// Causal stamp (hybrid logical clock, see `crate::clock`): orders
    /// stock movements against counts. `None` in records of older versions,
    /// which are ordered by `at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hlc: Option<i64>,
    /// The staff member who made the record (`staff/{id}` in the catalog);
    /// `None` on a store without staff and in records of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<String>,
    /// The staff member whose PIN approved what the maker's role may not do
    /// alone (see `crate::staff::permissions`); `None` when nothing needed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_id: Option<String>,
}

/// "Stock of `product_id` at `at` was `counted`." Ordered against stock
/// movements by `hlc` (see `crate::clock`), not by `at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountLine {
    pub product_id: String,
    pub at: i64,
    pub counted: i64,
    /// What this till expected at `at`, for the variance report only.
    pub expected: i64,
    /// Causal stamp of the moment the line was counted (see `crate::clock`);
    /// `None` in counts of older versions, which are ordered by `at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hlc: Option<i64>,
}

impl CountLine {
    /// The line's causal stamp, or its date for counts of older versions.
    pub fn stamp(&self) -> i64 {
        self.hlc.unwrap_or(self.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_with_version_byte() -> Result<()> {
        let r = Record::Adjustment(AdjustmentRecord {
            id: "a1".into(),
            at: 5,
            product_id: "p".into(),
            delta: -2,
            reason: AdjustReason::Damaged,
            note: None,
            hlc: None,
            staff_id: None,
            approver_id: None,
        });
        let bytes = r.encode()?;
        assert_eq!(bytes[0], RECORD_SCHEMA_VERSION);
        assert_eq!(Record::decode(&bytes)?, r);
        Ok(())
    }

    #[test]
    fn records_of_older_versions_have_no_stamp_and_order_by_date() -> Result<()> {
        let old = br#"{"kind":"count","id":"c","at":50,"started_at":40,
            "lines":[{"product_id":"p","at":45,"counted":3,"expected":4}]}"#;
        let mut bytes = vec![RECORD_SCHEMA_VERSION];
        bytes.extend_from_slice(old);
        let r = Record::decode(&bytes)?;
        assert!(!r.has_stamp());
        assert_eq!(r.hlc(), 50);
        let Record::Count(c) = &r else {
            return Err(CoreError::Corrupt("not a count".into()));
        };
        assert_eq!(c.lines[0].stamp(), 45);
        // Stamped records keep their stamp through encoding.
        let mut stamped = r.clone();
        stamped.stamp_if_missing(70);
        stamped.stamp_if_missing(99);
        let again = Record::decode(&stamped.encode()?)?;
        assert_eq!(again.hlc(), 70);
        Ok(())
    }

    #[test]
    fn rejects_unknown_versions_and_garbage() {
        assert!(Record::decode(&[]).is_err());
        assert!(Record::decode(&[9, b'{', b'}']).is_err());
        assert!(Record::decode(&[1, b'x']).is_err());
    }
}
