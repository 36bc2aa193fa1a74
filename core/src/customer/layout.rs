//! Where things sit in a `customer/{id}` document, and small typed reads of
//! them. Every write function finds its objects here, so a missing list or
//! item is reported the same way everywhere (and before anything is written).

use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};

use crate::error::{CoreError, Result};

/// Root key of the profile name (a string, last writer wins).
pub const PROFILE_NAME: &str = "profile/name";
/// Root key of the profile e-mail (a string or null, last writer wins).
pub const PROFILE_EMAIL: &str = "profile/email";
/// Root key prefix of a favourite shop: `favourite/{store_id}` = `true`.
pub const FAVOURITE: &str = "favourite/";
/// Root key prefix of a shopping list: `list/{list_id}` = map.
pub const LIST: &str = "list/";

/// Fields of a list map.
pub const LIST_NAME: &str = "name";
pub const LIST_ITEMS: &str = "items";
pub const LIST_ORDER: &str = "order";

/// Fields of an item map.
pub const ITEM_KIND: &str = "kind";
pub const ITEM_TEXT: &str = "text";
pub const ITEM_STORE: &str = "store";
pub const ITEM_SKU: &str = "sku";
pub const ITEM_QTY: &str = "qty";
pub const ITEM_CHECKED: &str = "checked";

/// Values of an item's `kind`.
pub const KIND_TEXT: &str = "text";
pub const KIND_PRODUCT: &str = "product";

pub fn list_key(list_id: &str) -> String {
    format!("{LIST}{list_id}")
}

pub fn favourite_key(store_id: &str) -> String {
    format!("{FAVOURITE}{store_id}")
}

/// The object under `key` in `obj` if it is an object of type `kind`.
pub fn object(doc: &AutoCommit, obj: &ObjId, key: &str, kind: ObjType) -> Result<Option<ObjId>> {
    Ok(match doc.get(obj, key)? {
        Some((Value::Object(t), id)) if t == kind => Some(id),
        _ => None,
    })
}

/// The string under `key` in `obj`, if it is one.
pub fn string(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<Option<String>> {
    Ok(match doc.get(obj, key)? {
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Str(t) => Some(t.to_string()),
            _ => None,
        },
        _ => None,
    })
}

/// The whole number under `key` in `obj`, if it is one.
pub fn int(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<Option<i64>> {
    Ok(match doc.get(obj, key)? {
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Int(i) => Some(*i),
            ScalarValue::Uint(u) => i64::try_from(*u).ok(),
            _ => None,
        },
        _ => None,
    })
}

/// The boolean under `key` in `obj`, if it is one.
pub fn boolean(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<Option<bool>> {
    Ok(match doc.get(obj, key)? {
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Boolean(b) => Some(*b),
            _ => None,
        },
        _ => None,
    })
}

/// The text of the Text object under `key` in `obj`, if there is one.
pub fn text(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<Option<String>> {
    match object(doc, obj, key, ObjType::Text)? {
        Some(t) => Ok(Some(doc.text(&t)?)),
        None => Ok(None),
    }
}

/// Puts `value` unless `key` already holds exactly that one value (no
/// concurrent alternatives): an unchanged field writes nothing, and setting
/// a field that has concurrent values resolves them.
pub fn put_if_changed(
    doc: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    value: ScalarValue,
) -> Result<()> {
    let unchanged = {
        let all = doc.get_all(obj, key)?;
        all.len() == 1 && matches!(&all[0].0, Value::Scalar(s) if s.as_ref() == &value)
    };
    if !unchanged {
        use automerge::transaction::Transactable;
        doc.put(obj, key, value)?;
    }
    Ok(())
}

/// A shopping list's objects.
pub struct ListObjs {
    /// Text.
    pub name: ObjId,
    /// Map: item id → item map.
    pub items: ObjId,
    /// List of item ids (strings): the order.
    pub order: ObjId,
}

/// The list `list_id`, or `NotFound` (also for a list deleted by a merge).
pub fn list(doc: &AutoCommit, list_id: &str) -> Result<ListObjs> {
    let Some(list) = object(doc, &ROOT, &list_key(list_id), ObjType::Map)? else {
        return Err(CoreError::not_found("shopping list", list_id));
    };
    let part = |key: &str, kind: ObjType| -> Result<ObjId> {
        object(doc, &list, key, kind)?.ok_or_else(|| {
            CoreError::Corrupt(format!("shopping list {list_id} has no {key} ({kind:?})"))
        })
    };
    Ok(ListObjs {
        name: part(LIST_NAME, ObjType::Text)?,
        items: part(LIST_ITEMS, ObjType::Map)?,
        order: part(LIST_ORDER, ObjType::List)?,
    })
}

/// The item map `item_id` of a list, or `NotFound`.
pub fn item(doc: &AutoCommit, objs: &ListObjs, item_id: &str) -> Result<ObjId> {
    object(doc, &objs.items, item_id, ObjType::Map)?
        .ok_or_else(|| CoreError::not_found("list item", item_id))
}
