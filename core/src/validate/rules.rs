//! The vocabulary of the record rules: bounds, the rules a record can
//! break, and the small checks every kind of record shares. No storage
//! here: the customer's web app checks its order records with these too.

// Some checks serve only the store's records (ledgers, catalog).
#![cfg_attr(not(feature = "store"), allow(dead_code))]

use automerge::ObjType;
use automerge::ScalarValue;
use automerge::legacy::OpType;
use serde::Serialize;

use crate::ids::DocId;

/// The name of [`Rule::IdClash`] (`projection::id_clash`).
pub const ID_CLASH_RULE: &str = "id_clash";

/// Largest quantity (units) on one line or movement.
pub const MAX_QTY: i64 = 1_000_000_000;
/// Largest amount (minor units) of one line, tender or total.
pub const MAX_AMOUNT: i64 = 10_000_000_000_000;
/// Most lines (or tenders) in one record. With the bounds above, no sum over
/// one record, nor over any realistic number of records, can overflow i64.
pub const MAX_LINES: usize = 10_000;
/// The highest sale number a till may give (a record claiming more would
/// push every later number of that till past what SQLite can count).
pub const MAX_SALE_SEQ: i64 = 1_000_000_000;
/// Largest tax rate or discount, in basis points (1000 %).
pub const MAX_BP: u32 = 100_000;
/// Record times are milliseconds since 1970 and before the year 10000.
pub const MAX_AT: i64 = 253_402_300_799_999;
/// Longest id, in bytes.
pub const MAX_ID_LEN: usize = 64;
/// Longest free-text field (names, notes, numbers), in bytes.
pub const MAX_TEXT_LEN: usize = 1_000;

/// The rule a record breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A ledger value is not a bytes value at the root (a nested object, a
    /// string, a counter, a delete).
    NotARecord,
    /// The record's schema version is not one this version reads.
    SchemaVersion,
    /// The record's bytes do not decode as a record.
    Decode,
    /// The root key is not the record's own id.
    KeyMismatch,
    /// An id is empty, too long or has characters other than letters,
    /// digits, `-`, `_`, `.` and `:`.
    BadId,
    /// A quantity, amount, rate, time or count of lines is out of bounds.
    Bounds,
    /// A refund names the same sale line twice, or a line number 0.
    DuplicateLine,
    /// A count names the same product twice.
    DuplicateProduct,
    /// A ledger record is put again over an existing one (records are never
    /// edited).
    Rewritten,
    /// One record id is put twice with different content.
    ConflictingDuplicate,
    /// A catalog root key of no known kind.
    UnknownKey,
    /// A catalog field of the wrong type or shape.
    FieldType,
    /// The record passed these rules, but the till's projection could not
    /// apply it (e.g. its id is already used by another record).
    Projection,
    /// Records of more than one till use this id: none of them counts
    /// (`projection::id_clash`).
    IdClash,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::NotARecord => "not_a_record",
            Rule::SchemaVersion => "schema_version",
            Rule::Decode => "decode",
            Rule::KeyMismatch => "key_mismatch",
            Rule::BadId => "bad_id",
            Rule::Bounds => "bounds",
            Rule::DuplicateLine => "duplicate_line",
            Rule::DuplicateProduct => "duplicate_product",
            Rule::Rewritten => "rewritten",
            Rule::ConflictingDuplicate => "conflicting_duplicate",
            Rule::UnknownKey => "unknown_key",
            Rule::FieldType => "field_type",
            Rule::Projection => "projection",
            Rule::IdClash => ID_CLASH_RULE,
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A broken rule in one record of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The record id (ledger) or root key (catalog); for an operation below
    /// the root of a ledger, `(nested)`.
    pub record: String,
    pub rule: Rule,
    pub detail: String,
}

impl Violation {
    pub(crate) fn new(record: impl Into<String>, rule: Rule, detail: impl Into<String>) -> Self {
        Violation {
            record: record.into(),
            rule,
            detail: detail.into(),
        }
    }
}

/// A change refused because of one of its records: names the document, the
/// record and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("document {document}, record '{record}': {rule}: {detail}")]
pub struct RecordError {
    pub document: String,
    pub record: String,
    pub rule: Rule,
    pub detail: String,
}

impl RecordError {
    pub fn new(document: &DocId, v: Violation) -> Self {
        RecordError {
            document: document.to_string(),
            record: v.record,
            rule: v.rule,
            detail: v.detail,
        }
    }
}

pub(crate) type Check = std::result::Result<(), Violation>;

pub fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ID_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

pub(crate) fn id(record: &str, field: &str, value: &str) -> Check {
    if valid_id(value) {
        Ok(())
    } else {
        Err(Violation::new(
            record,
            Rule::BadId,
            format!(
                "{field} '{}' is not 1-{MAX_ID_LEN} letters, digits, '-', '_', '.' or ':'",
                value
            ),
        ))
    }
}

pub(crate) fn bound(record: &str, field: &str, value: i64, max: i64) -> Check {
    if value.checked_abs().is_some_and(|v| v <= max) {
        Ok(())
    } else {
        Err(Violation::new(
            record,
            Rule::Bounds,
            format!("{field} {value} is outside -{max}..={max}"),
        ))
    }
}

pub(crate) fn positive(record: &str, field: &str, value: i64) -> Check {
    if value >= 1 {
        Ok(())
    } else {
        Err(Violation::new(
            record,
            Rule::Bounds,
            format!("{field} {value} is not a positive number of units"),
        ))
    }
}

pub(crate) fn bp(record: &str, field: &str, value: u32) -> Check {
    if value <= MAX_BP {
        Ok(())
    } else {
        Err(Violation::new(
            record,
            Rule::Bounds,
            format!("{field} {value} is over {MAX_BP} basis points"),
        ))
    }
}

pub(crate) fn at(record: &str, field: &str, value: i64) -> Check {
    if (0..=MAX_AT).contains(&value) {
        Ok(())
    } else {
        Err(Violation::new(
            record,
            Rule::Bounds,
            format!("{field} {value} is not a time between 1970 and 9999"),
        ))
    }
}

pub(crate) fn text(record: &str, field: &str, value: &str) -> Check {
    if value.len() <= MAX_TEXT_LEN {
        Ok(())
    } else {
        Err(Violation::new(
            record,
            Rule::Bounds,
            format!("{field} is over {MAX_TEXT_LEN} bytes"),
        ))
    }
}

pub(crate) fn lines(record: &str, field: &str, n: usize) -> Check {
    if n <= MAX_LINES {
        Ok(())
    } else {
        Err(Violation::new(
            record,
            Rule::Bounds,
            format!("{n} {field} is over the limit of {MAX_LINES}"),
        ))
    }
}

pub(crate) fn action_name(action: &OpType) -> &'static str {
    match action {
        OpType::Make(ObjType::Map) => "a map",
        OpType::Make(ObjType::Table) => "a table",
        OpType::Make(ObjType::List) => "a list",
        OpType::Make(ObjType::Text) => "a text",
        OpType::Delete => "a delete",
        OpType::Increment(_) => "a counter increment",
        OpType::Put(ScalarValue::Str(_)) => "a string",
        OpType::Put(ScalarValue::Int(_)) | OpType::Put(ScalarValue::Uint(_)) => "a number",
        OpType::Put(ScalarValue::Boolean(_)) => "a boolean",
        OpType::Put(ScalarValue::Null) => "null",
        OpType::Put(_) => "a value of another type",
        #[allow(unreachable_patterns)]
        _ => "a mark",
    }
}
