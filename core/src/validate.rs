//! Validation of ledger records and catalog entries (issue 7, part 3), shared
//! by the sync server (which refuses an invalid change with 422) and the till
//! (which quarantines a record it cannot apply instead of stopping).
//!
//! Everything here reads the operations of a change (`Change::decode`), never
//! a whole document, so checking a request costs what reading it costs.
//! The rules are listed in docs/DOCUMENTS.md ("Validation and quarantine").

use std::collections::{HashMap, HashSet};

use automerge::legacy::{Key, ObjectId, OpType};
use automerge::{Change, ObjType, ScalarValue};

use crate::catalog::{CATEGORY, PRODUCT, SETTING, STAFF, SUPPLIER, TAX_CLASS};
use crate::ids::DocId;
use crate::records::{RECORD_SCHEMA_VERSION, Record};

mod rules;
pub use rules::*;

/// The kind-specific rules of a decoded record stored under `key`.
pub fn check_record(key: &str, record: &Record) -> Check {
    id(key, "record id", key)?;
    if record.id() != key {
        return Err(Violation::new(
            key,
            Rule::KeyMismatch,
            format!(
                "the record's id '{}' is not the key it is stored under",
                record.id()
            ),
        ));
    }
    // Causal stamps: `at <= hlc <= year 3000`. A stamp far in the future
    // would order a count after every later movement, on every till.
    if let Some(problem) = crate::clock::stamp_problem(record) {
        return Err(Violation::new(key, Rule::Bounds, problem));
    }
    // Who made and who approved the record: staff ids, when given.
    let (staff, approver) = record.attribution();
    for (field, value) in [("staff id", staff), ("approver id", approver)] {
        if let Some(v) = value {
            id(key, field, v)?;
        }
    }
    // The drawer session a sale or refund names (issue 10): an id, when given.
    let session = match record {
        Record::Sale(s) => s.drawer_session.as_deref(),
        Record::Refund(r) => r.drawer_session.as_deref(),
        _ => None,
    };
    if let Some(v) = session {
        id(key, "drawer session", v)?;
    }
    match record {
        Record::Sale(s) => {
            text(key, "number", &s.number)?;
            let seq = i64::try_from(s.seq).unwrap_or(i64::MAX);
            if seq > MAX_SALE_SEQ {
                return Err(Violation::new(
                    key,
                    Rule::Bounds,
                    format!("sale number {} is past {MAX_SALE_SEQ}", s.seq),
                ));
            }
            at(key, "at", s.at)?;
            lines(key, "lines", s.lines.len())?;
            lines(key, "tenders", s.tenders.len())?;
            for (f, v) in [
                ("subtotal", s.subtotal),
                ("discount", s.discount),
                ("tax", s.tax),
                ("total", s.total),
                ("change", s.change),
            ] {
                bound(key, f, v, MAX_AMOUNT)?;
            }
            for l in &s.lines {
                id(key, "product id", &l.product_id)?;
                text(key, "sku", &l.sku)?;
                text(key, "name", &l.name)?;
                text(
                    key,
                    "override reason",
                    l.override_reason.as_deref().unwrap_or(""),
                )?;
                if let Some(t) = &l.tax_class {
                    id(key, "tax class", t)?;
                }
                bound(key, "qty", l.qty, MAX_QTY)?;
                positive(key, "qty", l.qty)?;
                for (f, v) in [
                    ("unit_price", l.unit_price),
                    ("line discount", l.discount),
                    ("line tax", l.tax),
                    ("line total", l.total),
                ] {
                    bound(key, f, v, MAX_AMOUNT)?;
                }
                bp(key, "discount_bp", l.discount_bp)?;
                bp(key, "tax_rate_bp", l.tax_rate_bp)?;
            }
            for t in &s.tenders {
                bound(key, "tender amount", t.amount, MAX_AMOUNT)?;
            }
        }
        Record::Refund(r) => {
            id(key, "sale id", &r.sale_id)?;
            at(key, "at", r.at)?;
            lines(key, "lines", r.lines.len())?;
            bound(key, "amount", r.amount, MAX_AMOUNT)?;
            bound(key, "tax", r.tax, MAX_AMOUNT)?;
            let mut seen = HashSet::new();
            for l in &r.lines {
                if l.line_no == 0 || !seen.insert(l.line_no) {
                    return Err(Violation::new(
                        key,
                        Rule::DuplicateLine,
                        format!(
                            "sale line {} is refunded twice in one refund (or is not a line number)",
                            l.line_no
                        ),
                    ));
                }
                id(key, "product id", &l.product_id)?;
                bound(key, "qty", l.qty, MAX_QTY)?;
                // Never a refund of zero or fewer units (an old version wrote -2).
                positive(key, "qty", l.qty)?;
                bound(key, "line amount", l.amount, MAX_AMOUNT)?;
                bound(key, "line tax", l.tax, MAX_AMOUNT)?;
            }
        }
        Record::Receipt(r) => {
            at(key, "at", r.at)?;
            if let Some(s) = &r.supplier_id {
                id(key, "supplier id", s)?;
            }
            if let Some(o) = &r.order_id {
                id(key, "order id", o)?;
            }
            lines(key, "lines", r.lines.len())?;
            for l in &r.lines {
                id(key, "product id", &l.product_id)?;
                bound(key, "qty", l.qty, MAX_QTY)?;
                if let Some(c) = l.unit_cost {
                    bound(key, "unit_cost", c, MAX_AMOUNT)?;
                }
            }
        }
        Record::Adjustment(a) => {
            at(key, "at", a.at)?;
            id(key, "product id", &a.product_id)?;
            bound(key, "delta", a.delta, MAX_QTY)?;
            text(key, "note", a.note.as_deref().unwrap_or(""))?;
        }
        Record::Count(c) => {
            at(key, "at", c.at)?;
            at(key, "started_at", c.started_at)?;
            lines(key, "lines", c.lines.len())?;
            let mut seen = HashSet::new();
            for l in &c.lines {
                id(key, "product id", &l.product_id)?;
                if !seen.insert(l.product_id.as_str()) {
                    return Err(Violation::new(
                        key,
                        Rule::DuplicateProduct,
                        format!("product {} is counted twice in one count", l.product_id),
                    ));
                }
                at(key, "line at", l.at)?;
                bound(key, "counted", l.counted, MAX_QTY)?;
                bound(key, "expected", l.expected, MAX_QTY)?;
            }
        }
        // drawer sessions (issue 10)
        Record::DrawerOpen(r) => crate::drawer::rules::check_open(key, r)?,
        Record::DrawerMove(r) => crate::drawer::rules::check_move(key, r)?,
        Record::DrawerClose(r) => crate::drawer::rules::check_close(key, r)?,
        // purchasing (issue 10)
        Record::PurchaseOrder(o) => crate::purchase::validate::order(key, o)?,
        Record::PurchaseOrderClose(c) => crate::purchase::validate::close(key, c)?,
    }
    Ok(())
}

/// Decodes the bytes stored under `key` and checks every rule of a record.
pub fn decode_record(key: &str, bytes: &[u8]) -> std::result::Result<Record, Violation> {
    match bytes.first() {
        Some(&RECORD_SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(Violation::new(
                key,
                Rule::SchemaVersion,
                format!("schema version {v}; this version reads {RECORD_SCHEMA_VERSION}"),
            ));
        }
        None => return Err(Violation::new(key, Rule::Decode, "the record is empty")),
    }
    let record =
        Record::decode(bytes).map_err(|e| Violation::new(key, Rule::Decode, e.to_string()))?;
    check_record(key, &record)?;
    Ok(record)
}

/// One root operation of a ledger change: the record it puts, or why it is
/// not a valid record.
pub type LedgerItem = std::result::Result<Record, Violation>;

/// Every operation of a ledger change, checked: a valid record for each put
/// of a new record, a violation for anything else.
pub fn ledger_items(change: &Change) -> Vec<LedgerItem> {
    if let Err(v) = ops_within_bounds(change) {
        return vec![Err(v)];
    }
    items_of(&change.decode().operations)
}

/// Operations one checked change may hold (see
/// [`crate::change_bytes::MAX_OPS_PER_CHANGE`]): a change from outside past
/// it is refused while its bytes are read, before Automerge walks its
/// operations; checked here again for changes decoded without that bound
/// (a till's own).
pub use crate::change_bytes::MAX_OPS_PER_CHANGE;

/// The refusal of a change of `doc` holding more than
/// [`MAX_OPS_PER_CHANGE`] operations, found while reading its bytes: the
/// record and rule a change found over the limit after decoding gets.
pub fn too_many_operations(doc: &DocId) -> RecordError {
    RecordError::new(
        doc,
        Violation::new(
            "(change)",
            Rule::Bounds,
            format!("a change of more than {MAX_OPS_PER_CHANGE} operations"),
        ),
    )
}

fn ops_within_bounds(change: &Change) -> Check {
    if change.len() > MAX_OPS_PER_CHANGE {
        return Err(Violation::new(
            "(change)",
            Rule::Bounds,
            format!(
                "a change of {} operations (at most {MAX_OPS_PER_CHANGE})",
                change.len()
            ),
        ));
    }
    Ok(())
}

fn items_of(ops: &[automerge::legacy::Op]) -> Vec<LedgerItem> {
    let mut out = Vec::new();
    for op in ops {
        let key = match &op.key {
            Key::Map(k) => k.to_string(),
            Key::Seq(_) => "(nested)".to_string(),
        };
        if !matches!(op.obj, ObjectId::Root) {
            out.push(Err(Violation::new(
                "(nested)",
                Rule::NotARecord,
                "a ledger holds only bytes values at its root, not nested objects",
            )));
            continue;
        }
        match &op.action {
            OpType::Put(ScalarValue::Bytes(bytes)) => {
                if !op.pred.is_empty() {
                    out.push(Err(Violation::new(
                        key,
                        Rule::Rewritten,
                        "a ledger record is put over an existing one; records are never edited",
                    )));
                } else {
                    out.push(decode_record(&key, bytes));
                }
            }
            OpType::Delete => out.push(Err(Violation::new(
                key,
                Rule::NotARecord,
                "a ledger record is deleted; ledgers are append-only",
            ))),
            other => out.push(Err(Violation::new(
                key,
                Rule::NotARecord,
                format!("a ledger value must be bytes, not {}", action_name(other)),
            ))),
        }
    }
    out
}

/// Checks every change sent for one document: every ledger record, every
/// catalog entry, every order record. Customer documents are checked by
/// their own functions when written (`crate::customer`); public catalogs
/// are written by the server alone.
pub fn validate_changes(doc: &DocId, changes: &[Change]) -> std::result::Result<(), RecordError> {
    if !matches!(doc, DocId::Customer { .. } | DocId::Public { .. }) {
        for change in changes {
            ops_within_bounds(change).map_err(|v| RecordError::new(doc, v))?;
        }
    }
    match doc {
        DocId::Ledger { .. } => validate_ledger(changes),
        DocId::Catalog { .. } => validate_catalog(changes),
        DocId::OrderRequests { .. } => crate::orders::validate::changes(changes, true),
        DocId::OrderStatus { .. } => crate::orders::validate::changes(changes, false),
        DocId::Customer { .. } | DocId::Public { .. } => Ok(()),
    }
    .map_err(|v| RecordError::new(doc, v))
}

fn validate_ledger(changes: &[Change]) -> Check {
    // A record id put twice in one batch (e.g. by two forks of one till)
    // must carry the same bytes. Each change is decoded once, and only one
    // at a time: a batch's decoded changes are never all held together.
    let mut seen: HashMap<String, Vec<u8>> = HashMap::new();
    for change in changes {
        let ops = change.decode().operations;
        for op in &ops {
            if let (ObjectId::Root, Key::Map(k), OpType::Put(ScalarValue::Bytes(b))) =
                (&op.obj, &op.key, &op.action)
            {
                match seen.get(k.as_str()) {
                    Some(prev) if prev != b => {
                        return Err(Violation::new(
                            k.to_string(),
                            Rule::ConflictingDuplicate,
                            "the record id is put twice with different content",
                        ));
                    }
                    Some(_) => {}
                    None => {
                        seen.insert(k.to_string(), b.clone());
                    }
                }
            }
        }
        for item in items_of(&ops) {
            item?;
        }
    }
    Ok(())
}

/// The kinds of catalog entity and the type of each known field.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Product,
    Supplier,
    TaxClass,
    Category,
    Staff,
}

#[derive(Clone, Copy)]
enum Ty {
    Str,
    OptStr,
    Int(i64),
    OptInt(i64),
    Bool,
}

fn field_type(kind: Kind, field: &str) -> Option<Ty> {
    Some(match (kind, field) {
        (Kind::Product, "sku" | "name" | "barcodes") => Ty::Str,
        (Kind::Product, "price") => Ty::Int(MAX_AMOUNT),
        (Kind::Product, "cost") => Ty::OptInt(MAX_AMOUNT),
        (Kind::Product, "reorder_point") => Ty::OptInt(MAX_QTY),
        (Kind::Product, "reorder_target") => Ty::OptInt(MAX_QTY),
        // the favourites grid (issue 10): a place, 1 first
        (Kind::Product, "favourite_pos") => Ty::OptInt(MAX_QTY),
        (Kind::Product, "tax_class" | "supplier" | "category") => Ty::OptStr,
        (Kind::Product, "active") => Ty::Bool,
        (Kind::Supplier, "name") => Ty::Str,
        (Kind::Supplier, "phone" | "email" | "notes") => Ty::OptStr,
        (Kind::TaxClass, "name") => Ty::Str,
        (Kind::TaxClass, "rate_bp") => Ty::Int(i64::from(MAX_BP)),
        (Kind::TaxClass, "inclusive") => Ty::Bool,
        (Kind::Category, "name") => Ty::Str,
        (Kind::Category, "archived") => Ty::Bool,
        // A PIN is only ever stored as its argon2id PHC string.
        (Kind::Staff, "name" | "role" | "pin_hash") => Ty::Str,
        (Kind::Staff, "active") => Ty::Bool,
        _ => return None,
    })
}

fn root_kind(key: &str) -> std::result::Result<Option<(Kind, &str)>, Violation> {
    for (prefix, kind) in [
        (PRODUCT, Kind::Product),
        (SUPPLIER, Kind::Supplier),
        (TAX_CLASS, Kind::TaxClass),
        (CATEGORY, Kind::Category),
        (STAFF, Kind::Staff),
    ] {
        if let Some(rest) = key.strip_prefix(prefix) {
            id(key, "catalog id", rest)?;
            return Ok(Some((kind, rest)));
        }
    }
    if let Some(name) = key.strip_prefix(SETTING) {
        id(key, "setting name", name)?;
        return Ok(None);
    }
    Err(Violation::new(
        key,
        Rule::UnknownKey,
        format!(
            "'{}' is not a catalog key ({PRODUCT}, {SUPPLIER}, {TAX_CLASS}, {CATEGORY}, {STAFF} or {SETTING}…)",
            key
        ),
    ))
}

/// Whether a staff member's `pin_hash` is an argon2id PHC string whose cost
/// a till can afford to verify: the cost is written inside the string, so
/// one hostile entry (`m=4294967295`) would otherwise make every sign-in on
/// every till allocate terabytes. ShopSync writes argon2's defaults
/// (m=19456, t=2, p=1); at most 64 MiB, 4 passes and 4 lanes are taken.
pub fn pin_hash_is_sound(phc: &str) -> bool {
    let mut parts = phc.split('$');
    let (Some(""), Some("argon2id"), Some("v=19"), Some(params), Some(salt), Some(hash), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let mut cost = [None; 3];
    for (slot, (name, max)) in cost
        .iter_mut()
        .zip([("m=", 65_536u32), ("t=", 4), ("p=", 4)])
    {
        *slot = params
            .split(',')
            .find_map(|p| p.strip_prefix(name))
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|v| (1..=max).contains(v));
    }
    let b64 = |s: &str, range: std::ops::RangeInclusive<usize>| {
        range.contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
    };
    params.split(',').count() == 3
        && cost.iter().all(Option::is_some)
        && b64(salt, 11..=64)
        && b64(hash, 22..=128)
}

fn check_field(record: &str, field: &str, ty: Option<Ty>, value: &ScalarValue) -> Check {
    if field == "pin_hash"
        && record.starts_with(STAFF)
        && let ScalarValue::Str(s) = value
        && !pin_hash_is_sound(s)
    {
        return Err(Violation::new(
            record,
            Rule::Bounds,
            "field pin_hash is not an argon2id hash of an affordable cost",
        ));
    }
    let bad = |what: &str| {
        Err(Violation::new(
            record,
            Rule::FieldType,
            format!("field {field} {what}"),
        ))
    };
    let int = match value {
        ScalarValue::Int(i) => Some(*i),
        ScalarValue::Uint(u) => Some(i64::try_from(*u).unwrap_or(i64::MAX)),
        _ => None,
    };
    match (ty, value) {
        (_, ScalarValue::Str(s)) if s.len() > MAX_TEXT_LEN => Err(Violation::new(
            record,
            Rule::Bounds,
            format!("field {field} is over {MAX_TEXT_LEN} bytes"),
        )),
        (Some(Ty::Str | Ty::OptStr) | None, ScalarValue::Str(_)) => Ok(()),
        (Some(Ty::OptStr | Ty::OptInt(_)) | None, ScalarValue::Null) => Ok(()),
        (Some(Ty::Bool) | None, ScalarValue::Boolean(_)) => Ok(()),
        (Some(Ty::Int(max) | Ty::OptInt(max)), _) if int.is_some() => {
            bound(record, field, int.unwrap_or(i64::MAX), max)
        }
        (None, _) if int.is_some() => Ok(()),
        (Some(Ty::Str), _) => bad("must be text"),
        (Some(Ty::OptStr), _) => bad("must be text or null"),
        (Some(Ty::Int(_)), _) => bad("must be a whole number"),
        (Some(Ty::OptInt(_)), _) => bad("must be a whole number or null"),
        (Some(Ty::Bool), _) => bad("must be true or false"),
        (None, _) => bad("must be text, a number, a boolean or null"),
    }
}

fn validate_catalog(changes: &[Change]) -> Check {
    for change in changes {
        let expanded = change.decode();
        let start = expanded.start_op.get();
        // Entity maps created in this change, by the counter of the op that
        // made them, so their fields can be checked by kind.
        let mut made: HashMap<u64, (Kind, String)> = HashMap::new();
        for (i, op) in expanded.operations.iter().enumerate() {
            let counter = start + i as u64;
            match (&op.obj, &op.key) {
                (ObjectId::Root, Key::Map(k)) => {
                    let key = k.as_str();
                    let kind = root_kind(key)?;
                    match (&op.action, kind) {
                        (OpType::Delete, _) => {}
                        (OpType::Make(ObjType::Map), Some((kind, _))) => {
                            made.insert(counter, (kind, key.to_string()));
                        }
                        (OpType::Put(v), None) => check_field(key, "value", Some(Ty::Str), v)?,
                        (other, Some(_)) => {
                            return Err(Violation::new(
                                key,
                                Rule::FieldType,
                                format!(
                                    "a catalog entry must be a map, not {}",
                                    action_name(other)
                                ),
                            ));
                        }
                        (other, None) => {
                            return Err(Violation::new(
                                key,
                                Rule::FieldType,
                                format!("a setting must be text, not {}", action_name(other)),
                            ));
                        }
                    }
                }
                (ObjectId::Root, Key::Seq(_)) => {
                    return Err(Violation::new(
                        "(root)",
                        Rule::FieldType,
                        "the catalog's root is a map",
                    ));
                }
                (ObjectId::Id(obj), key) => {
                    let entity = (obj.1 == expanded.actor_id)
                        .then(|| made.get(&obj.0))
                        .flatten();
                    let record = entity
                        .map(|(_, k)| k.clone())
                        .unwrap_or_else(|| "(entry)".to_string());
                    let Key::Map(field) = key else {
                        return Err(Violation::new(
                            record,
                            Rule::FieldType,
                            "a catalog entry is a map, not a list",
                        ));
                    };
                    let ty = entity.and_then(|(kind, _)| field_type(*kind, field.as_str()));
                    match &op.action {
                        OpType::Delete => {}
                        OpType::Put(v) => check_field(&record, field.as_str(), ty, v)?,
                        other => {
                            return Err(Violation::new(
                                record,
                                Rule::FieldType,
                                format!(
                                    "field {field} must be a plain value, not {}",
                                    action_name(other)
                                ),
                            ));
                        }
                    }
                }
            }
        }
    }
    Ok(())
}
