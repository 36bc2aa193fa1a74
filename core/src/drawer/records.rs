//! The drawer's ledger records (see docs/DOCUMENTS.md, "Drawer sessions").
//! Like every ledger record they carry `at`, `hlc` and who made them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// "This till's drawer was opened with `float` counted in it." The record's
/// `id` is the session's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawerOpenRecord {
    pub id: String,
    pub at: i64,
    /// The counted float, minor units.
    pub float: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hlc: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_id: Option<String>,
}

/// Cash put into (`in`) or taken out of (`out`) the drawer, not for a sale
/// or refund: a bank drop, a supplier paid from the till.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MoveDirection {
    In,
    Out,
}

impl MoveDirection {
    pub fn as_str(self) -> &'static str {
        match self {
            MoveDirection::In => "in",
            MoveDirection::Out => "out",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawerMoveRecord {
    pub id: String,
    pub session_id: String,
    pub at: i64,
    pub direction: MoveDirection,
    /// Minor units, more than 0.
    pub amount: i64,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hlc: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_id: Option<String>,
}

/// "Session `session_id` was closed with `counted` in the drawer."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawerCloseRecord {
    pub id: String,
    pub session_id: String,
    pub at: i64,
    /// The counted total, minor units.
    pub counted: i64,
    /// The count by note and coin: denomination (minor units) → how many.
    /// Empty when the total was counted directly.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        with = "denomination_keys"
    )]
    pub denominations: BTreeMap<i64, i64>,
    /// What the till computed the drawer should hold when it was closed
    /// (for the audit trail; reports compute it again from the records).
    pub expected: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hlc: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_id: Option<String>,
}

/// JSON map keys are strings: the denominations are written as
/// `{"5000": 2}` and read back as numbers. (Serde's own integer keys do not
/// survive the record's `kind` tag, which buffers the map with string keys.)
mod denomination_keys {
    use std::collections::BTreeMap;

    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(map: &BTreeMap<i64, i64>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(map.iter().map(|(k, v)| (k.to_string(), v)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<i64, i64>, D::Error> {
        let text: BTreeMap<String, i64> = BTreeMap::deserialize(d)?;
        let mut out = BTreeMap::new();
        for (k, v) in text {
            let value: i64 = k.parse().map_err(|_| {
                D::Error::custom(format!("denomination '{k}' is not a whole number"))
            })?;
            if out.insert(value, v).is_some() {
                return Err(D::Error::custom(format!(
                    "denomination {value} is given twice"
                )));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Result;
    use crate::records::Record;

    #[test]
    fn a_close_keeps_its_count_through_encoding() -> Result<()> {
        let close = Record::DrawerClose(DrawerCloseRecord {
            id: "c1".into(),
            session_id: "d1".into(),
            at: 5,
            counted: 10_040,
            denominations: BTreeMap::from([(5_000, 2), (20, 2)]),
            expected: 10_000,
            hlc: Some(6),
            staff_id: None,
            approver_id: None,
        });
        let bytes = close.encode()?;
        assert!(String::from_utf8_lossy(&bytes).contains(r#""denominations":{"20":2,"5000":2}"#));
        assert_eq!(Record::decode(&bytes)?, close);
        Ok(())
    }

    #[test]
    fn a_denomination_that_is_not_a_number_or_given_twice_does_not_decode() {
        for map in [r#"{"x":1}"#, r#"{"5":1,"05":2}"#] {
            let json = format!(
                r#"{{"kind":"drawer_close","id":"c","session_id":"d","at":1,"counted":5,"expected":5,"denominations":{map}}}"#
            );
            let mut bytes = vec![crate::records::RECORD_SCHEMA_VERSION];
            bytes.extend_from_slice(json.as_bytes());
            assert!(Record::decode(&bytes).is_err(), "{map}");
        }
    }
}
