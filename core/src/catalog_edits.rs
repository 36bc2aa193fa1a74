//! What one catalog change did to products, read from its operations: the
//! server's `catalog.updated` events (sync-server `events/catalog.rs`).
//!
//! A change that edits an existing product puts fields on the product's
//! map, which its operations name only by the id of the operation that made
//! the map (in an earlier change): the document that holds the change is
//! needed to know which product that is.

use std::collections::{HashMap, HashSet};

use automerge::legacy::{Key, ObjectId, OpType};
use automerge::{ActorId, AutoCommit, Change, ObjType, ROOT, ReadDoc, ScalarValue, Value};

use crate::catalog::PRODUCT;
use crate::error::Result;

/// One product a change touched, with the values it put (`None`: not put by
/// this change).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EditedProduct {
    pub product_id: String,
    /// The change made the product's map (a new product).
    pub created: bool,
    /// The change removed the product's root key.
    pub removed: bool,
    pub name: Option<String>,
    pub sku: Option<String>,
    /// Minor units, as the catalog stores it.
    pub price: Option<i64>,
    pub active: Option<bool>,
    /// The fields the change put or deleted, in order, once each: the
    /// first [`MAX_FIELDS`] of them.
    pub fields: Vec<String>,
    /// The change put or deleted more than [`MAX_FIELDS`] fields.
    pub fields_truncated: bool,
}

/// Fields one [`EditedProduct`] lists at most: a product has about a dozen,
/// and a change naming thousands of made-up ones should not make an event
/// (or the work of reading it) grow with them.
pub const MAX_FIELDS: usize = 32;

/// Every product map of a document by the id of the operation that made
/// it, read once for all the changes of a page (`None` until needed).
pub type ProductMaps = Option<HashMap<(u64, ActorId), String>>;

/// The products `change` touched, in the order of its operations. `doc` is
/// the catalog document with `change` applied; `maps` starts as `None` and
/// may be passed again for other changes of the same `doc`. Operations on
/// maps that are not products (suppliers, settings, …) are left out.
pub fn product_edits(
    doc: &AutoCommit,
    change: &Change,
    maps: &mut ProductMaps,
) -> Result<Vec<EditedProduct>> {
    let expanded = change.decode();
    let start = expanded.start_op.get();
    let mut out: Vec<EditedProduct> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    // Maps made in this change, by the counter of the op that made them.
    let mut made: HashMap<u64, String> = HashMap::new();
    // Fields already listed, per product (by its index in `out`): a change
    // may put 100,000 fields on one map, so no scan of the list per field.
    let mut seen: HashSet<(usize, String)> = HashSet::new();
    let mut entry = |id: &str, out: &mut Vec<EditedProduct>| -> usize {
        *index.entry(id.to_string()).or_insert_with(|| {
            out.push(EditedProduct {
                product_id: id.to_string(),
                ..EditedProduct::default()
            });
            out.len() - 1
        })
    };
    for (i, op) in expanded.operations.iter().enumerate() {
        let counter = start + i as u64;
        match (&op.obj, &op.key) {
            (ObjectId::Root, Key::Map(k)) => {
                let Some(id) = k.strip_prefix(PRODUCT) else {
                    continue;
                };
                let at = entry(id, &mut out);
                match &op.action {
                    OpType::Make(ObjType::Map) => {
                        made.insert(counter, id.to_string());
                        out[at].created = true;
                        out[at].removed = false;
                    }
                    OpType::Delete => out[at].removed = true,
                    _ => {}
                }
            }
            (ObjectId::Id(obj), Key::Map(field)) => {
                let id = if obj.1 == expanded.actor_id {
                    made.get(&obj.0).cloned()
                } else {
                    None
                };
                let id = match id {
                    Some(id) => id,
                    None => {
                        let maps = maps.get_or_insert_with(|| product_maps(doc));
                        match maps.get(&(obj.0, obj.1.clone())) {
                            Some(id) => id.clone(),
                            None => continue,
                        }
                    }
                };
                let at = entry(&id, &mut out);
                let edit = &mut out[at];
                let field = field.to_string();
                if let OpType::Put(v) = &op.action {
                    match (field.as_str(), v) {
                        ("name", ScalarValue::Str(s)) => edit.name = Some(s.to_string()),
                        ("sku", ScalarValue::Str(s)) => edit.sku = Some(s.to_string()),
                        ("price", ScalarValue::Int(p)) => edit.price = Some(*p),
                        ("price", ScalarValue::Uint(p)) => edit.price = i64::try_from(*p).ok(),
                        ("active", ScalarValue::Boolean(b)) => edit.active = Some(*b),
                        _ => {}
                    }
                }
                if edit.fields.len() >= MAX_FIELDS {
                    if !seen.contains(&(at, field)) {
                        edit.fields_truncated = true;
                    }
                } else if seen.insert((at, field.clone())) {
                    edit.fields.push(field);
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(feature = "store")]
impl crate::Store {
    /// [`product_edits`] of each of `changes`, which this store's catalog
    /// holds (the document's product maps are read once, if needed).
    pub fn catalog_product_edits(&mut self, changes: &[Change]) -> Result<Vec<Vec<EditedProduct>>> {
        let id = crate::ids::DocId::catalog(&self.info.store_id);
        let loaded = self.docs.get(&self.conn, &id)?;
        let mut maps = None;
        changes
            .iter()
            .map(|c| product_edits(&loaded.doc, c, &mut maps))
            .collect()
    }
}

/// Each product map of the document (concurrent ones of one key too), by
/// the id of the operation that made it.
fn product_maps(doc: &AutoCommit) -> HashMap<(u64, ActorId), String> {
    let mut out = HashMap::new();
    for key in doc.keys(ROOT) {
        let Some(id) = key.strip_prefix(PRODUCT) else {
            continue;
        };
        for (value, obj) in doc.get_all(ROOT, key.as_str()).unwrap_or_default() {
            if let (Value::Object(ObjType::Map), automerge::ObjId::Id(counter, actor, _)) =
                (value, obj)
            {
                out.insert((counter, actor), id.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Field, create_entity, update_entity};
    use automerge::transaction::Transactable;

    fn last_change(doc: &mut AutoCommit) -> Change {
        doc.commit();
        doc.get_last_local_change().unwrap().clone()
    }

    #[test]
    fn a_new_product_and_an_edit_of_an_older_one_are_named() {
        let mut doc = AutoCommit::new();
        create_entity(
            &mut doc,
            "product/p1",
            &[("sku", Field::Str("P1".into())), ("price", Field::Int(100))],
        )
        .unwrap();
        let first = last_change(&mut doc);
        let edits = product_edits(&doc, &first, &mut None).unwrap();
        assert_eq!(edits.len(), 1);
        assert!(edits[0].created);
        assert_eq!(edits[0].price, Some(100));
        assert_eq!(edits[0].sku.as_deref(), Some("P1"));

        // Another device edits it: its ops name the map by the first
        // change's op id, resolved through the document.
        let mut other = doc.fork();
        update_entity(
            &mut other,
            "product/p1",
            &[("price", Field::Int(250)), ("active", Field::Bool(false))],
        )
        .unwrap();
        crate::catalog::set_setting(&mut other, "store_name", "X").unwrap();
        let edit = last_change(&mut other);
        doc.apply_changes([edit.clone()]).unwrap();
        let edits = product_edits(&doc, &edit, &mut None).unwrap();
        assert_eq!(
            edits,
            [EditedProduct {
                product_id: "p1".into(),
                price: Some(250),
                active: Some(false),
                fields: vec!["price".into(), "active".into()],
                ..EditedProduct::default()
            }]
        );
    }

    #[test]
    fn a_change_putting_many_fields_on_one_product_lists_the_first_ones_once() {
        let mut doc = AutoCommit::new();
        let obj = doc.put_object(ROOT, "product/p1", ObjType::Map).unwrap();
        doc.put(&obj, "name", "N").unwrap();
        for i in 0..5_000 {
            doc.put(&obj, format!("f{i}"), 1).unwrap();
        }
        // A field put twice is listed once.
        doc.put(&obj, "name", "M").unwrap();
        let change = last_change(&mut doc);
        // (The fields are looked up in a set, not the list: 100,000 of them
        // made the list's lookups quadratic. A change that big takes too
        // long to build for a unit test.)
        let edits = product_edits(&doc, &change, &mut None).unwrap();
        assert_eq!(edits.len(), 1);
        let e = &edits[0];
        assert_eq!(e.fields.len(), MAX_FIELDS);
        assert_eq!(e.fields[0], "name");
        assert_eq!(e.fields[1], "f0");
        assert!(e.fields_truncated);
        assert_eq!(e.name.as_deref(), Some("M"));

        let mut small = AutoCommit::new();
        create_entity(
            &mut small,
            "product/p2",
            &[
                ("name", Field::Str("A".into())),
                ("name", Field::Str("B".into())),
            ],
        )
        .unwrap();
        let change = last_change(&mut small);
        let edits = product_edits(&small, &change, &mut None).unwrap();
        assert_eq!(edits[0].fields, ["name"]);
        assert!(!edits[0].fields_truncated);
    }
}
