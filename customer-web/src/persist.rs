//! The device's documents in the browser's IndexedDB: one record per
//! document in `docs` (the snapshot, the server cursor and the changes not
//! yet acknowledged) and a few JSON values in `meta` (the account, the
//! server epoch, the shops looked at). Every write is one IndexedDB
//! transaction: a document is stored whole or not at all.
//!
//! Before it writes a document, a save merges what another tab of the same
//! browser may have stored meanwhile (`Device::load`), so two tabs never
//! overwrite each other's edits.

use idb::{Database, DatabaseEvent, Factory, ObjectStoreParams, TransactionMode};
use js_sys::{Array, Object, Reflect, Uint8Array};
use shopsync_core::customer_device::StoredDoc;
use wasm_bindgen::{JsCast, JsValue};

const DB_NAME: &str = "shopsync-customer";
const DB_VERSION: u32 = 1;
const DOCS: &str = "docs";
const META: &str = "meta";

/// A storage failure, as the customer reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageError(pub String);

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "this browser's storage failed: {}", self.0)
    }
}

impl From<idb::Error> for StorageError {
    fn from(e: idb::Error) -> Self {
        StorageError(e.to_string())
    }
}

fn js_err(e: JsValue) -> StorageError {
    StorageError(format!("{e:?}"))
}

pub async fn open() -> Result<Database, StorageError> {
    let factory = Factory::new()?;
    let mut request = factory.open(DB_NAME, Some(DB_VERSION))?;
    request.on_upgrade_needed(|event| {
        let Ok(db) = event.database() else { return };
        let names = db.store_names();
        for name in [DOCS, META] {
            if !names.iter().any(|n| n == name) {
                // Out-of-line keys: the document id / the meta key.
                let _ = db.create_object_store(name, ObjectStoreParams::new());
            }
        }
    });
    Ok(request.await?)
}

fn to_js(doc: &StoredDoc) -> Result<JsValue, StorageError> {
    let o = Object::new();
    let set = |k: &str, v: &JsValue| Reflect::set(&o, &JsValue::from_str(k), v).map_err(js_err);
    set(
        "snapshot",
        &Uint8Array::from(doc.snapshot.as_slice()).into(),
    )?;
    set("cursor", &JsValue::from_f64(doc.cursor as f64))?;
    let pending = Array::new();
    for c in &doc.pending {
        pending.push(&Uint8Array::from(c.as_slice()).into());
    }
    set("pending", &pending.into())?;
    if let Some(e) = &doc.epoch {
        set("epoch", &JsValue::from_str(e))?;
    }
    Ok(o.into())
}

fn from_js(v: &JsValue) -> Result<StoredDoc, StorageError> {
    let get = |k: &str| Reflect::get(v, &JsValue::from_str(k)).map_err(js_err);
    let bytes = |v: JsValue| -> Result<Vec<u8>, StorageError> {
        v.dyn_into::<Uint8Array>()
            .map(|a| a.to_vec())
            .map_err(|_| StorageError("a stored document is not bytes".into()))
    };
    let cursor = get("cursor")?.as_f64().unwrap_or(0.0).max(0.0) as u64;
    let mut pending = Vec::new();
    if let Ok(list) = get("pending")?.dyn_into::<Array>() {
        for c in list.iter() {
            pending.push(bytes(c)?);
        }
    }
    Ok(StoredDoc {
        snapshot: bytes(get("snapshot")?)?,
        cursor,
        pending,
        epoch: get("epoch")?.as_string(),
    })
}

/// Every stored document.
pub async fn load_docs(db: &Database) -> Result<Vec<(String, StoredDoc)>, StorageError> {
    let tx = db.transaction(&[DOCS], TransactionMode::ReadOnly)?;
    let store = tx.object_store(DOCS)?;
    let keys = store.get_all_keys(None, None)?.await?;
    let values = store.get_all(None, None)?.await?;
    let mut out = Vec::with_capacity(keys.len());
    for (k, v) in keys.iter().zip(values.iter()) {
        let Some(id) = k.as_string() else { continue };
        match from_js(v) {
            Ok(doc) => out.push((id, doc)),
            // One damaged record must not keep the app from opening; the
            // document comes again from the server.
            Err(e) => web_sys::console::warn_1(&format!("document {id} was not read: {e}").into()),
        }
    }
    Ok(out)
}

/// One stored document, if there is one.
pub async fn load_doc(db: &Database, doc_id: &str) -> Result<Option<StoredDoc>, StorageError> {
    let tx = db.transaction(&[DOCS], TransactionMode::ReadOnly)?;
    let store = tx.object_store(DOCS)?;
    match store.get(JsValue::from_str(doc_id))?.await? {
        Some(v) => Ok(Some(from_js(&v)?)),
        None => Ok(None),
    }
}

/// Writes these documents (`None`: delete it) and meta values in one
/// transaction.
pub async fn save(
    db: &Database,
    docs: &[(String, Option<StoredDoc>)],
    meta: &[(&str, Option<String>)],
) -> Result<(), StorageError> {
    let tx = db.transaction(&[DOCS, META], TransactionMode::ReadWrite)?;
    let store = tx.object_store(DOCS)?;
    for (id, doc) in docs {
        let key = JsValue::from_str(id);
        match doc {
            Some(d) => {
                store.put(&to_js(d)?, Some(&key))?;
            }
            None => {
                store.delete(key)?;
            }
        }
    }
    let m = tx.object_store(META)?;
    for (k, v) in meta {
        let key = JsValue::from_str(k);
        match v {
            Some(v) => {
                m.put(&JsValue::from_str(v), Some(&key))?;
            }
            None => {
                m.delete(key)?;
            }
        }
    }
    tx.commit()?.await?;
    Ok(())
}

/// One meta value.
pub async fn meta(db: &Database, key: &str) -> Result<Option<String>, StorageError> {
    let tx = db.transaction(&[META], TransactionMode::ReadOnly)?;
    let store = tx.object_store(META)?;
    Ok(store
        .get(JsValue::from_str(key))?
        .await?
        .and_then(|v| v.as_string()))
}
