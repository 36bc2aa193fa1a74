//! Bundles: every document of a store in one file, for the offline "USB stick"
//! sync and for making new tills without a server. Importing a bundle merges
//! it; importing the same bundle twice changes nothing.
//!
//! Format (version 1): the magic line `SHOPSYNC-BUNDLE\n`, a u32 format
//! version, the store id, then each document id with its Automerge changes,
//! every length a little-endian u32, and finally the SHA-256 of everything
//! before it. A truncated or altered file fails the checksum before anything is
//! written.

use std::collections::BTreeSet;
use std::path::Path;

use automerge::{Change, Patch, PatchAction, Prop, ROOT};
use rusqlite::{Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use shopsync_types::BundleImportSummary;

use crate::docs::{self, DocCache};
use crate::error::{CoreError, Result};
use crate::ids::DocId;
use crate::store::{InitOptions, Store};

const MAGIC: &[u8] = b"SHOPSYNC-BUNDLE\n";
const FORMAT_VERSION: u32 = 1;

pub struct Bundle {
    pub store_id: String,
    pub docs: Vec<(DocId, Vec<Change>)>,
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) -> Result<()> {
    let len = u32::try_from(b.len())
        .map_err(|_| CoreError::Corrupt("a bundle item is over 4 GiB".into()))?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(b);
    Ok(())
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.data.len())
            .ok_or_else(truncated)?;
        let out = &self.data[self.pos..end];
        self.pos = end;
        Ok(out)
    }
    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn string(&mut self) -> Result<String> {
        String::from_utf8(self.bytes()?.to_vec())
            .map_err(|_| CoreError::Corrupt("bundle text is not UTF-8".into()))
    }
}

/// How many bytes the changes of a bundle of `len` bytes may inflate to:
/// twice its size, and 64 MiB more.
pub fn inflated_budget(len: usize) -> usize {
    len.saturating_mul(2).saturating_add(64 * 1024 * 1024)
}

fn truncated() -> CoreError {
    CoreError::Corrupt("the bundle is truncated".into())
}

impl Bundle {
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        put_bytes(&mut out, self.store_id.as_bytes())?;
        out.extend_from_slice(&(self.docs.len() as u32).to_le_bytes());
        for (id, changes) in &self.docs {
            put_bytes(&mut out, id.to_string().as_bytes())?;
            out.extend_from_slice(&(changes.len() as u32).to_le_bytes());
            for c in changes {
                put_bytes(&mut out, c.raw_bytes())?;
            }
        }
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        Ok(out)
    }

    pub fn decode(data: &[u8]) -> Result<Bundle> {
        if !data.starts_with(MAGIC) {
            return Err(CoreError::Corrupt(
                "not a ShopSync bundle (bad header)".into(),
            ));
        }
        if data.len() < MAGIC.len() + 4 + 32 {
            return Err(truncated());
        }
        let (body, digest) = data.split_at(data.len() - 32);
        if Sha256::digest(body).as_slice() != digest {
            return Err(CoreError::Corrupt(
                "the bundle is damaged or truncated (checksum mismatch)".into(),
            ));
        }
        let mut r = Reader {
            data: body,
            pos: MAGIC.len(),
        };
        let version = r.u32()?;
        if version != FORMAT_VERSION {
            return Err(CoreError::Corrupt(format!(
                "bundle format {version} is not supported (this version reads {FORMAT_VERSION})"
            )));
        }
        let store_id = r.string()?;
        let n_docs = r.u32()?;
        let mut docs = Vec::new();
        // ShopSync writes bundle changes uncompressed, so their inflated size
        // is about the bundle's: a bundle whose changes inflate to much more
        // is built to exhaust memory (see `change_bytes`).
        let budget = inflated_budget(data.len());
        let mut inflated = 0usize;
        for _ in 0..n_docs {
            let id_text = r.string()?;
            let id = DocId::parse(&id_text).ok_or_else(|| {
                CoreError::Corrupt(format!("bad document id '{id_text}' in bundle"))
            })?;
            if id.store() != Some(store_id.as_str()) {
                return Err(CoreError::Corrupt(format!(
                    "document {id} does not belong to store {store_id}"
                )));
            }
            let n = r.u32()?;
            let mut changes = Vec::new();
            for _ in 0..n {
                let change = docs::decode_change(r.bytes()?)?;
                inflated = inflated.saturating_add(change.raw_bytes().len());
                if inflated > budget {
                    return Err(CoreError::Corrupt(format!(
                        "the bundle's changes inflate to more than {budget} bytes, far more than the bundle itself: refused"
                    )));
                }
                changes.push(change);
            }
            docs.push((id, changes));
        }
        if r.pos != body.len() {
            return Err(CoreError::Corrupt(
                "unexpected bytes at the end of the bundle".into(),
            ));
        }
        Ok(Bundle { store_id, docs })
    }

    pub fn read(path: &Path) -> Result<Bundle> {
        let data = std::fs::read(path)
            .map_err(|e| CoreError::io(format!("cannot read {}", path.display()), e))?;
        Bundle::decode(&data)
    }
}

/// Root keys of the catalog that a set of patches touched.
pub(crate) fn touched_root_keys(patches: &[Patch]) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for p in patches {
        match p.path.first() {
            Some((_, Prop::Map(k))) => {
                keys.insert(k.clone());
            }
            Some(_) => {}
            None if p.obj == ROOT => match &p.action {
                PatchAction::PutMap { key, .. } | PatchAction::DeleteMap { key } => {
                    keys.insert(key.clone());
                }
                PatchAction::Conflict {
                    prop: Prop::Map(key),
                } => {
                    keys.insert(key.clone());
                }
                _ => {}
            },
            None => {}
        }
    }
    keys
}

/// Stores remote changes for one document and updates the projections.
/// `now` is this till's clock (records dated too far ahead of it flag their
/// till, see `crate::clock`). Returns (new, already known).
pub(crate) fn apply_document(
    conn: &Connection,
    cache: &mut DocCache,
    id: &DocId,
    changes: Vec<Change>,
    now: i64,
    projecting: crate::quarantine::Projecting,
) -> Result<(u64, u64)> {
    match id {
        DocId::Catalog { .. } => {
            let applied = cache.apply_remote(conn, id, changes, true)?;
            if !applied.new.is_empty() {
                let entry = cache.get(conn, id)?;
                let before = applied.heads_before.unwrap_or_default();
                let after = entry.doc.get_heads();
                let patches = entry.doc.diff(&before, &after);
                let doc_key = id.to_string();
                for key in touched_root_keys(&patches) {
                    crate::quarantine::project_catalog_key(conn, &doc_key, &entry.doc, &key)?;
                }
            }
            Ok((applied.new.len() as u64, applied.known))
        }
        DocId::Ledger { till, .. } => {
            // This till's own partitions are loaded to write to them: a
            // forked change there (an older version on a restored copy of
            // this till) is refused rather than stored, so the partition
            // keeps loading. Other tills' partitions are never loaded here.
            let own = conn
                .query_row("SELECT value FROM meta WHERE key = 'till_id'", [], |r| {
                    r.get::<_, String>(0)
                })
                .optional()?
                .is_some_and(|t| t == *till);
            let applied = cache.apply_remote(conn, id, changes, own)?;
            let doc_key = id.to_string();
            for change in &applied.new {
                // One bad record is quarantined, never a reason to stop.
                crate::quarantine::apply_ledger_change(
                    conn,
                    &doc_key,
                    till,
                    change,
                    Some(now),
                    projecting,
                )?;
            }
            Ok((applied.new.len() as u64, applied.known))
        }
        DocId::OrderRequests { .. } | DocId::OrderStatus { .. } => {
            let applied = cache.apply_remote(conn, id, changes, false)?;
            if !applied.new.is_empty() {
                crate::orders::project::project_doc(conn, id)?;
            }
            Ok((applied.new.len() as u64, applied.known))
        }
        _ => {
            let applied = cache.apply_remote(conn, id, changes, false)?;
            Ok((applied.new.len() as u64, applied.known))
        }
    }
}

impl Store {
    /// Every document of this store, as a bundle.
    pub fn export_bundle(&self) -> Result<Bundle> {
        let mut docs_out = Vec::new();
        for id in docs::document_ids(&self.conn)? {
            if id.store() == Some(self.info.store_id.as_str()) {
                let changes = docs::all_changes(&self.conn, &id.to_string())?;
                docs_out.push((id, changes));
            }
        }
        Ok(Bundle {
            store_id: self.info.store_id.clone(),
            docs: docs_out,
        })
    }

    /// Writes the bundle to `path`, all or nothing (never over the store).
    pub fn export_bundle_to(&self, path: &Path) -> Result<()> {
        let bytes = self.export_bundle()?.encode()?;
        crate::export_file::write_export(&self.path, path, |w| {
            w.write_all(&bytes)
                .map_err(|e| CoreError::io(format!("cannot write {}", path.display()), e))
        })
    }

    /// Merges a bundle of the same store: all of it, or nothing.
    pub fn import_bundle(&mut self, bundle: Bundle) -> Result<BundleImportSummary> {
        if bundle.store_id != self.info.store_id {
            return Err(CoreError::Conflict(format!(
                "the bundle is of store {}, this till belongs to store {}",
                bundle.store_id, self.info.store_id
            )));
        }
        let summary = self.write(|w| {
            let mut s = BundleImportSummary {
                documents: 0,
                new_changes: 0,
                known_changes: 0,
            };
            for (id, changes) in bundle.docs {
                let (new, known) = apply_document(
                    w.conn,
                    w.docs,
                    &id,
                    changes,
                    w.now,
                    crate::quarantine::Projecting::Careful,
                )?;
                s.documents += 1;
                s.new_changes += new;
                s.known_changes += known;
            }
            Ok(s)
        })?;
        self.reload_info()?;
        Ok(summary)
    }

    pub fn import_bundle_from(&mut self, path: &Path) -> Result<BundleImportSummary> {
        let bundle = Bundle::read(path)?;
        self.import_bundle(bundle)
    }

    /// A new till of the store a bundle came from.
    pub fn init_from_bundle(path: &Path, bundle_path: &Path, till_name: &str) -> Result<Store> {
        let bundle = Bundle::read(bundle_path)?;
        let has_catalog = bundle
            .docs
            .iter()
            .any(|(id, _)| matches!(id, DocId::Catalog { .. }));
        if !has_catalog {
            return Err(CoreError::Corrupt("the bundle holds no catalog".into()));
        }
        let existed = path.exists();
        let mut store = Store::create(path, &bundle.store_id, till_name)?;
        if let Err(e) = store.import_bundle(bundle) {
            drop(store);
            if !existed {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            return Err(e);
        }
        Ok(store)
    }

    /// Creates a store, or a till of an existing store from a bundle.
    pub fn init_or_join(path: &Path, opts: InitOptions, bundle: Option<&Path>) -> Result<Store> {
        match bundle {
            Some(b) => Store::init_from_bundle(path, b, &opts.till_name),
            None => Store::init(path, opts),
        }
    }
}
