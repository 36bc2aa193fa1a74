//! The catalog document: products, suppliers, tax classes, categories,
//! staff members and store settings, as ordinary Automerge maps (last writer wins per field,
//! concurrent edits of one field kept as a visible conflict).
//!
//! Every entity sits directly under the root as `{kind}/{id}`, never inside a
//! shared `products` map: two devices that create catalog entries without
//! having seen each other's document still merge without one map replacing
//! the other.

use automerge::{
    AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value, transaction::Transactable,
};

use crate::error::{CoreError, Result};

pub const PRODUCT: &str = "product/";
pub const SUPPLIER: &str = "supplier/";
pub const TAX_CLASS: &str = "tax_class/";
pub const CATEGORY: &str = "category/";
pub const SETTING: &str = "setting/";
/// Staff members: name, role, PIN hash, active (`crate::staff`).
pub const STAFF: &str = "staff/";

/// Fields of a product map, in the order they are written.
pub const PRODUCT_FIELDS: &[&str] = &[
    "sku",
    "name",
    "price",
    "cost",
    "barcodes",
    "tax_class",
    "supplier",
    "category",
    "reorder_point",
    "active",
    // purchasing (issue 10)
    "reorder_target",
];

/// A field value as the catalog stores it.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Str(String),
    Int(i64),
    Bool(bool),
    Null,
}

impl Field {
    pub fn opt_str(v: Option<String>) -> Self {
        v.map_or(Field::Null, Field::Str)
    }
    pub fn opt_int(v: Option<i64>) -> Self {
        v.map_or(Field::Null, Field::Int)
    }
    fn scalar(&self) -> ScalarValue {
        match self {
            Field::Str(s) => ScalarValue::Str(s.as_str().into()),
            Field::Int(i) => ScalarValue::Int(*i),
            Field::Bool(b) => ScalarValue::Boolean(*b),
            Field::Null => ScalarValue::Null,
        }
    }
    fn from_value(v: &Value<'_>) -> Option<Self> {
        match v {
            Value::Scalar(s) => match s.as_ref() {
                ScalarValue::Str(t) => Some(Field::Str(t.to_string())),
                ScalarValue::Int(i) => Some(Field::Int(*i)),
                ScalarValue::Uint(u) => i64::try_from(*u).ok().map(Field::Int),
                ScalarValue::Boolean(b) => Some(Field::Bool(*b)),
                ScalarValue::Null => Some(Field::Null),
                _ => None,
            },
            Value::Object(_) => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Field::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Field::Int(i) => Some(*i),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Field::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

/// An entity map read from the catalog: each field's winning value, and the
/// fields that hold concurrent values.
#[derive(Debug, Clone, Default)]
pub struct Entity {
    pub fields: Vec<(String, Field)>,
    pub conflicts: Vec<String>,
}

impl Entity {
    pub fn get(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, f)| f)
    }
    pub fn str(&self, name: &str) -> Option<String> {
        self.get(name).and_then(Field::as_str).map(str::to_string)
    }
    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(Field::as_int)
    }
    pub fn bool(&self, name: &str) -> Option<bool> {
        self.get(name).and_then(Field::as_bool)
    }
}

/// Reads the entity under a root key, or `None` if there is none (or it was
/// deleted).
pub fn read_entity(doc: &AutoCommit, key: &str) -> Result<Option<Entity>> {
    let Some((Value::Object(ObjType::Map), obj)) = doc.get(ROOT, key)? else {
        return Ok(None);
    };
    let mut entity = Entity::default();
    for field in doc.keys(&obj) {
        let all = doc.get_all(&obj, field.as_str())?;
        if all.len() > 1 {
            entity.conflicts.push(field.clone());
        }
        if let Some((value, _)) = doc.get(&obj, field.as_str())?
            && let Some(f) = Field::from_value(&value)
        {
            entity.fields.push((field, f));
        }
    }
    entity.conflicts.sort();
    Ok(Some(entity))
}

pub fn read_setting(doc: &AutoCommit, name: &str) -> Result<Option<String>> {
    Ok(match doc.get(ROOT, format!("{SETTING}{name}"))? {
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Str(t) => Some(t.to_string()),
            _ => None,
        },
        _ => None,
    })
}

/// Creates the map for a new entity and writes its fields.
pub fn create_entity(doc: &mut AutoCommit, key: &str, fields: &[(&str, Field)]) -> Result<()> {
    if doc.get(ROOT, key)?.is_some() {
        return Err(CoreError::Conflict(format!("{key} already exists")));
    }
    let obj = doc.put_object(ROOT, key, ObjType::Map)?;
    put_fields(doc, &obj, fields)
}

/// Sets fields of an existing entity. Setting a field resolves any conflict on it.
pub fn update_entity(doc: &mut AutoCommit, key: &str, fields: &[(&str, Field)]) -> Result<()> {
    let Some((Value::Object(ObjType::Map), obj)) = doc.get(ROOT, key)? else {
        return Err(CoreError::not_found("catalog entry", key));
    };
    put_fields(doc, &obj, fields)
}

fn put_fields(doc: &mut AutoCommit, obj: &ObjId, fields: &[(&str, Field)]) -> Result<()> {
    for (name, value) in fields {
        let unchanged = {
            let all = doc.get_all(obj, *name)?;
            all.len() == 1 && Field::from_value(&all[0].0).as_ref() == Some(value)
        };
        if !unchanged {
            doc.put(obj, *name, value.scalar())?;
        }
    }
    Ok(())
}

pub fn set_setting(doc: &mut AutoCommit, name: &str, value: &str) -> Result<()> {
    doc.put(ROOT, format!("{SETTING}{name}"), value)?;
    Ok(())
}

/// Every root key of the catalog.
pub fn keys(doc: &AutoCommit) -> Vec<String> {
    doc.keys(ROOT).collect()
}
