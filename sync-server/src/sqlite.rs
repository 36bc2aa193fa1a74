//! The embedded default backend: one SQLite file (WAL, synchronous=FULL).
//! One writer connection (SQLite has one writer anyway) and a small pool of
//! readers; every call runs on tokio's blocking pool.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use include_dir::{Dir, include_dir};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use rusqlite_migration::Migrations;
use shopsync_core::access::Role;

use crate::storage::*;

pub(crate) static MIGRATIONS: Dir<'_> =
    include_dir!("$CARGO_MANIFEST_DIR/../migrations/server-sqlite");

const READERS: usize = 4;

#[derive(Clone)]
pub struct SqliteStorage {
    path: PathBuf,
    writer: Arc<Mutex<Connection>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    /// restore: this database's epoch, read at open.
    epoch: Arc<String>,
    /// The schema version (`user_version`) after migrating at open.
    schema_version: i64,
    /// The last readiness check and when it ran: probes within
    /// [`READY_FOR`] of it get its answer, and the lock makes a burst of
    /// probes wait for one check instead of each opening the file.
    last_ready: Arc<tokio::sync::Mutex<Option<ReadyAnswer>>>,
}

/// A readiness check's answer (the reason when not ready) and when it ran.
type ReadyAnswer = (std::time::Instant, Result<(), String>);

/// How long a readiness check's answer stands.
const READY_FOR: std::time::Duration = std::time::Duration::from_secs(1);

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -64_000)?;
    Ok(())
}

fn backend<E: std::fmt::Display>(e: E) -> StorageError {
    StorageError::Backend(e.to_string())
}

pub(crate) fn hash32(v: Vec<u8>) -> [u8; 32] {
    let mut h = [0u8; 32];
    if v.len() == 32 {
        h.copy_from_slice(&v);
    }
    h
}

/// A file `migrate-storage` moved to PostgreSQL serves no more: tills
/// would sync with a copy the shop no longer uses.
pub(crate) fn refuse_moved(conn: &Connection) -> StorageResult<()> {
    // A file from before server_meta (migration 03) has not moved.
    let has_meta: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'server_meta')",
        [],
        |r| r.get(0),
    )?;
    if !has_meta {
        return Ok(());
    }
    let moved: Option<String> = conn
        .query_row(
            "SELECT value FROM server_meta WHERE key = 'moved_to'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    match moved {
        Some(to) => Err(StorageError::Invalid(format!(
            "this database was moved to {to} by migrate-storage: start the server with --db {to}"
        ))),
        None => Ok(()),
    }
}

impl SqliteStorage {
    /// Opens (creating if needed) the database and applies migrations.
    pub fn open(path: &Path) -> StorageResult<SqliteStorage> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(backend)?;
        }
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        refuse_moved(&conn)?;
        let migrations = Migrations::from_directory(&MIGRATIONS).map_err(backend)?;
        migrations.to_latest(&mut conn).map_err(backend)?;
        crate::restore::backfill_actors(&mut conn)?;
        let epoch = Arc::new(crate::restore::epoch(&conn)?);
        let schema_version = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        Ok(SqliteStorage {
            path: path.to_path_buf(),
            writer: Arc::new(Mutex::new(conn)),
            readers: Arc::new(Mutex::new(Vec::new())),
            epoch,
            schema_version,
            last_ready: Arc::new(tokio::sync::Mutex::new(None)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the file afresh (never creating it: the pooled connections
    /// keep working on a file whose folder was unmounted or replaced, and
    /// would hide it) and reads its schema version and a table.
    async fn check_ready(&self) -> StorageResult<()> {
        let path = self.path.clone();
        let expected = self.schema_version;
        tokio::task::spawn_blocking(move || {
            let conn = Connection::open_with_flags(
                &path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| StorageError::Backend(format!("cannot open {}: {e}", path.display())))?;
            let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
            if version != expected {
                return Err(StorageError::Backend(format!(
                    "{} is at schema {version}, this server migrated it to {expected}",
                    path.display()
                )));
            }
            conn.query_row("SELECT COUNT(*) FROM stores", [], |r| r.get::<_, i64>(0))?;
            Ok(())
        })
        .await
        .map_err(backend)?
    }

    pub(crate) async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> StorageResult<T> + Send + 'static,
    ) -> StorageResult<T> {
        let writer = self.writer.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = writer
                .lock()
                .map_err(|_| StorageError::Backend("writer lock poisoned".into()))?;
            f(&mut conn)
        })
        .await
        .map_err(backend)?
    }

    pub(crate) async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> StorageResult<T> + Send + 'static,
    ) -> StorageResult<T> {
        let readers = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = readers.lock().ok().and_then(|mut p| p.pop());
            let conn = match pooled {
                Some(c) => c,
                None => {
                    let c = Connection::open(&path)?;
                    configure(&c)?;
                    c
                }
            };
            let out = f(&conn);
            if let Ok(mut p) = readers.lock()
                && p.len() < READERS
            {
                p.push(conn);
            }
            out
        })
        .await
        .map_err(backend)?
    }
}

impl SqliteStorage {
    /// Stores a validated batch in one transaction; with `events`, queues
    /// an outbox reference to each new change that may give events.
    async fn store_batch(
        &self,
        store_pk: i64,
        batch: Vec<DocBatch>,
        events: bool,
    ) -> StorageResult<Stored> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut out = Stored::default();
            {
                let mut find_doc = tx.prepare_cached(
                    "SELECT pk, store_pk, heads FROM documents WHERE doc_id = ?1",
                )?;
                let mut new_doc = tx.prepare_cached(
                    "INSERT INTO documents (store_pk, doc_id, heads, changes) VALUES (?1, ?2, x'', 0)",
                )?;
                let mut exists =
                    tx.prepare_cached("SELECT 1 FROM changes WHERE doc_pk = ?1 AND hash = ?2")?;
                let mut insert = tx.prepare_cached(
                    "INSERT INTO changes (store_pk, doc_pk, hash, bytes, inflated, actor, actor_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (doc_pk, hash) DO NOTHING",
                )?;
                let mut update_doc = tx.prepare_cached(
                    "UPDATE documents SET heads = ?1, changes = changes + ?2 WHERE pk = ?3",
                )?;
                let now = chrono::Utc::now().timestamp_millis();
                for doc in batch {
                    // events for other systems: a reference to each new
                    // change that may give some, derived when published.
                    let refs = events && crate::events::yields_events(&doc.doc_id);
                    let found: Option<(i64, i64, Vec<u8>)> = find_doc
                        .query_row([&doc.doc_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                        .optional()?;
                    let (doc_pk, heads) = match found {
                        Some((pk, owner, heads)) => {
                            if owner != store_pk {
                                return Err(StorageError::Invalid(format!(
                                    "document {} belongs to another store",
                                    doc.doc_id
                                )));
                            }
                            (pk, heads)
                        }
                        None => {
                            new_doc.execute(params![store_pk, doc.doc_id])?;
                            out.new_documents += 1;
                            (tx.last_insert_rowid(), Vec::new())
                        }
                    };
                    // A set, so each new change updates the heads in time
                    // proportional to its own dependencies (a Vec here made
                    // a request of N dependency-free changes cost N^2).
                    let mut heads: HashSet<[u8; 32]> =
                        heads.chunks_exact(32).map(|c| hash32(c.to_vec())).collect();
                    let mut seen: HashSet<[u8; 32]> = HashSet::new();
                    // restore: (actor, seq) of this batch's changes, to refuse a fork.
                    let mut actor_seqs: HashMap<(Vec<u8>, u64), [u8; 32]> = HashMap::new();
                    let mut added = 0i64;
                    for change in doc.changes {
                        if seen.contains(&change.hash) {
                            out.known_changes += 1;
                            continue;
                        }
                        // A known change's dependencies are stored, so this
                        // check passes for it too; the insert then skips it.
                        for dep in &change.deps {
                            if !seen.contains(dep)
                                && !exists.exists(params![doc_pk, dep.as_slice()])?
                            {
                                return Err(StorageError::Invalid(format!(
                                    "a change to {} depends on {}, which the server does not have and the request does not carry before it",
                                    doc.doc_id,
                                    hex(dep)
                                )));
                            }
                        }
                        seen.insert(change.hash);
                        // restore: never store a change that forks an actor.
                        let key = (change.actor.clone(), change.actor_seq);
                        if actor_seqs
                            .insert(key, change.hash)
                            .is_some_and(|h| h != change.hash)
                        {
                            return Err(crate::restore::fork_error(
                                &doc.doc_id,
                                &change.actor,
                                change.actor_seq,
                            ));
                        }
                        crate::restore::check_fork(
                            &tx,
                            doc_pk,
                            &doc.doc_id,
                            &change.actor,
                            change.actor_seq,
                            &change.hash,
                        )?;
                        let inserted = insert.execute(params![
                            store_pk,
                            doc_pk,
                            change.hash.as_slice(),
                            change.bytes,
                            change.inflated_len.min(i64::MAX as u64) as i64,
                            change.actor,
                            change.actor_seq as i64
                        ])?;
                        if inserted == 0 {
                            out.known_changes += 1;
                            continue;
                        }
                        if refs {
                            crate::sqlite_outbox::queue_change(
                                &tx,
                                store_pk,
                                tx.last_insert_rowid(),
                                now,
                            )?;
                        }
                        for dep in &change.deps {
                            heads.remove(dep);
                        }
                        heads.insert(change.hash);
                        added += 1;
                    }
                    if added > 0 {
                        let mut heads: Vec<[u8; 32]> = heads.into_iter().collect();
                        heads.sort_unstable();
                        let flat: Vec<u8> = heads.concat();
                        update_doc.execute(params![flat, added, doc_pk])?;
                        out.new_changes += added as u64;
                    }
                }
            }
            out.head = head_of(&tx, store_pk)?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }
}

/// A real store by id; never the reserved `~customers` row (no code, device
/// listing or enrolment can name it).
/// A `stores` row from a query's first three columns: pk, store id, name.
pub(crate) fn store_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoreRow> {
    Ok(StoreRow {
        pk: r.get(0)?,
        store_id: r.get(1)?,
        name: r.get(2)?,
    })
}

pub(crate) fn store_by_id(conn: &Connection, store_id: &str) -> StorageResult<Option<StoreRow>> {
    Ok(conn
        .prepare_cached(
            "SELECT pk, store_id, name FROM stores WHERE store_id = ?1 AND substr(store_id, 1, 1) <> '~'",
        )?
        .query_row([store_id], store_row)
        .optional()?)
}

pub(crate) fn role_of(text: &str) -> rusqlite::Result<Role> {
    Role::parse(text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown role {text}").into(),
        )
    })
}

fn head_of(conn: &Connection, store_pk: i64) -> StorageResult<u64> {
    let head: i64 = conn
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM changes WHERE store_pk = ?1")?
        .query_row([store_pk], |r| r.get(0))?;
    Ok(head.max(0) as u64)
}

impl SqliteStorage {
    /// Changes with `since` < seq <= `until` (None: no bound); see
    /// `Storage::changes_since`.
    async fn changes_between(
        &self,
        store_pk: i64,
        since: u64,
        until: Option<u64>,
        exclude: HashSet<[u8; 32]>,
        max_bytes: u64,
    ) -> StorageResult<Page> {
        self.read(move |conn| {
            let tx = conn.unchecked_transaction()?;
            let head = head_of(&tx, store_pk)?;
            let mut page = Page {
                cursor: since,
                head,
                ..Page::default()
            };
            let mut index: HashMap<i64, usize> = HashMap::new();
            let mut names: HashMap<i64, String> = HashMap::new();
            let mut page_inflated = 0u64;
            {
                let mut doc_name =
                    tx.prepare_cached("SELECT doc_id FROM documents WHERE pk = ?1")?;
                let mut stmt = tx.prepare_cached(
                    // A change marked undecodable by the upgrade back-fill
                    // (actor_seq -1: a bomb stored by an older server) is
                    // never served: every till would stop on it.
                    "SELECT seq, doc_pk, hash, bytes, COALESCE(inflated, length(bytes)) FROM changes
                     WHERE store_pk = ?1 AND seq > ?2 AND seq <= ?3
                       AND (actor_seq IS NULL OR actor_seq >= 0)
                     ORDER BY seq",
                )?;
                let last = until.unwrap_or(i64::MAX as u64).min(i64::MAX as u64) as i64;
                let mut rows =
                    stmt.query(params![store_pk, since.min(i64::MAX as u64) as i64, last])?;
                while let Some(row) = rows.next()? {
                    let seq: i64 = row.get(0)?;
                    let hash = row.get_ref(2)?.as_blob().map_err(backend)?;
                    if hash.len() == 32 && exclude.contains(&hash32(hash.to_vec())) {
                        page.cursor = seq as u64;
                        continue;
                    }
                    let bytes = row.get_ref(3)?.as_blob().map_err(backend)?;
                    let inflated = row.get::<_, i64>(4)?.max(0) as u64;
                    if page.changes > 0
                        && (page.bytes + bytes.len() as u64 > max_bytes
                            || page_inflated + inflated > PAGE_INFLATED_BYTES)
                    {
                        page.more = true;
                        break;
                    }
                    page_inflated += inflated;
                    let doc_pk: i64 = row.get(1)?;
                    let i = match index.get(&doc_pk) {
                        Some(i) => *i,
                        None => {
                            let name: String = match names.get(&doc_pk) {
                                Some(n) => n.clone(),
                                None => {
                                    let n: String = doc_name.query_row([doc_pk], |r| r.get(0))?;
                                    names.insert(doc_pk, n.clone());
                                    n
                                }
                            };
                            page.docs.push((name, Vec::new()));
                            index.insert(doc_pk, page.docs.len() - 1);
                            page.docs.len() - 1
                        }
                    };
                    page.bytes += bytes.len() as u64;
                    page.changes += 1;
                    page.docs[i].1.push(bytes.to_vec());
                    page.cursor = seq as u64;
                }
            }
            // Every change up to `until` was looked at.
            if let Some(until) = until
                && !page.more
            {
                page.cursor = page.cursor.max(until.min(head));
            }
            tx.commit()?;
            Ok(page)
        })
        .await
    }
}

impl Storage for SqliteStorage {
    async fn create_store(&self, name: String, now_ms: i64) -> StorageResult<StoreRow> {
        self.write(move |conn| {
            let store_id = shopsync_core::ids::new_id();
            conn.execute(
                "INSERT INTO stores (store_id, name, created_at) VALUES (?1, ?2, ?3)",
                params![store_id, name, now_ms],
            )?;
            Ok(StoreRow {
                pk: conn.last_insert_rowid(),
                store_id,
                name,
            })
        })
        .await
    }

    async fn find_store(&self, store_id: String) -> StorageResult<Option<StoreRow>> {
        self.read(move |conn| store_by_id(conn, &store_id)).await
    }

    async fn create_enrol_code(
        &self,
        store_id: String,
        role: Role,
        code_hash: [u8; 32],
        now_ms: i64,
        expires_ms: i64,
        till_id: Option<String>,
    ) -> StorageResult<()> {
        self.write(move |conn| {
            let store = store_by_id(conn, &store_id)?
                .ok_or_else(|| StorageError::NotFound(format!("no store '{store_id}'")))?;
            conn.execute(
                "INSERT INTO enrol_codes (code_hash, store_pk, role, created_at, expires_at, till_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    code_hash.as_slice(),
                    store.pk,
                    role.as_str(),
                    now_ms,
                    expires_ms,
                    till_id
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn enrol(&self, input: EnrolInput) -> StorageResult<Enrolled> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = crate::enrolment::enrol_tx(&tx, &input)?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    async fn device(&self, device_id: String) -> StorageResult<Option<DeviceAuth>> {
        self.read(move |conn| {
            let till = conn
                .prepare_cached(
                    "SELECT d.device_id, d.token_hash, d.revoked_at IS NOT NULL, d.role, d.till_id,
                            s.pk, s.store_id, s.name, d.enrol_key IS NOT NULL
                     FROM devices d JOIN stores s ON s.pk = d.store_pk WHERE d.device_id = ?1",
                )?
                .query_row([&device_id], |r| {
                    Ok(DeviceAuth {
                        device_id: r.get(0)?,
                        token_hash: hash32(r.get(1)?),
                        revoked: r.get(2)?,
                        role: role_of(&r.get::<_, String>(3)?)?,
                        till_id: r.get(4)?,
                        store: StoreRow {
                            pk: r.get(5)?,
                            store_id: r.get(6)?,
                            name: r.get(7)?,
                        },
                        enrol_retry_open: r.get(8)?,
                        customer: None,
                    })
                })
                .optional()?;
            match till {
                Some(d) => Ok(Some(d)),
                // Not a till's or a manager's: a customer's?
                None => crate::sqlite_customers::customer_device_auth(conn, &device_id),
            }
        })
        .await
    }

    async fn close_enrol_retry(&self, device_id: String) -> StorageResult<()> {
        self.write(move |conn| {
            conn.execute(
                "UPDATE devices SET enrol_key = NULL WHERE device_id = ?1",
                [device_id],
            )?;
            Ok(())
        })
        .await
    }

    async fn list_devices(&self, store_id: String) -> StorageResult<Vec<DeviceRow>> {
        self.read(move |conn| {
            let store = store_by_id(conn, &store_id)?
                .ok_or_else(|| StorageError::NotFound(format!("no store '{store_id}'")))?;
            let mut stmt = conn.prepare(
                "SELECT device_id, role, revoked_at IS NOT NULL, till_id, till_name, created_at
                 FROM devices WHERE store_pk = ?1 ORDER BY created_at, device_id",
            )?;
            let rows = stmt.query_map([store.pk], |r| {
                Ok(DeviceRow {
                    device_id: r.get(0)?,
                    role: role_of(&r.get::<_, String>(1)?)?,
                    revoked: r.get(2)?,
                    till_id: r.get(3)?,
                    till_name: r.get(4)?,
                    created_at: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn revoke_device(&self, device_id: String, now_ms: i64) -> StorageResult<bool> {
        self.write(move |conn| {
            let exists = conn
                .prepare("SELECT 1 FROM devices WHERE device_id = ?1")?
                .exists([&device_id])?;
            if !exists {
                // A customer's device (`device revoke` works for those too).
                return crate::sqlite_customers::revoke_customer_device(
                    conn, None, &device_id, now_ms,
                );
            }
            conn.execute(
                "UPDATE devices SET revoked_at = ?1 WHERE device_id = ?2 AND revoked_at IS NULL",
                params![now_ms, device_id],
            )?;
            Ok(exists)
        })
        .await
    }

    async fn store_changes(&self, store_pk: i64, batch: Vec<DocBatch>) -> StorageResult<Stored> {
        self.store_batch(store_pk, batch, false).await
    }

    async fn store_changes_with_events(
        &self,
        store_pk: i64,
        batch: Vec<DocBatch>,
    ) -> StorageResult<Stored> {
        self.store_batch(store_pk, batch, true).await
    }

    async fn changes_since(
        &self,
        store_pk: i64,
        since: u64,
        exclude: HashSet<[u8; 32]>,
        max_bytes: u64,
    ) -> StorageResult<Page> {
        self.changes_between(store_pk, since, None, exclude, max_bytes)
            .await
    }

    async fn changes_until(
        &self,
        store_pk: i64,
        since: u64,
        until: u64,
        max_bytes: u64,
    ) -> StorageResult<Page> {
        self.changes_between(store_pk, since, Some(until), HashSet::new(), max_bytes)
            .await
    }

    async fn head(&self, store_pk: i64) -> StorageResult<u64> {
        self.read(move |conn| head_of(conn, store_pk)).await
    }

    /// Counted: sequence numbers here are shared by every store.
    async fn change_count(&self, store_pk: i64) -> StorageResult<u64> {
        self.read(move |conn| {
            let n: i64 = conn
                .prepare_cached("SELECT COUNT(*) FROM changes WHERE store_pk = ?1")?
                .query_row([store_pk], |r| r.get(0))?;
            Ok(n.max(0) as u64)
        })
        .await
    }

    async fn ready(&self) -> StorageResult<()> {
        let mut last = self.last_ready.lock().await;
        if let Some((at, answer)) = last.as_ref()
            && at.elapsed() < READY_FOR
        {
            return answer.clone().map_err(StorageError::Backend);
        }
        let answer = self.check_ready().await.map_err(|e| e.to_string());
        *last = Some((std::time::Instant::now(), answer.clone()));
        answer.map_err(StorageError::Backend)
    }

    async fn totals(&self) -> StorageResult<Totals> {
        self.read(|conn| {
            let count = |sql: &str| -> StorageResult<u64> {
                let n: i64 = conn.query_row(sql, [], |r| r.get(0))?;
                Ok(n.max(0) as u64)
            };
            Ok(Totals {
                // Not the reserved `~customers` row.
                stores: count("SELECT COUNT(*) FROM stores WHERE substr(store_id, 1, 1) <> '~'")?,
                devices: count("SELECT COUNT(*) FROM devices WHERE revoked_at IS NULL")?,
                documents: count("SELECT COUNT(*) FROM documents")?,
                changes: count("SELECT COALESCE(MAX(seq), 0) FROM changes")?,
            })
        })
        .await
    }

    async fn count_documents(
        &self,
        store_pk: i64,
        prefix: String,
        candidates: Vec<String>,
    ) -> StorageResult<(u64, u64)> {
        self.count_documents_impl(store_pk, prefix, candidates)
            .await
    }

    fn epoch(&self) -> String {
        self.epoch.as_ref().clone()
    }

    async fn document_scope(&self, doc_id: String) -> StorageResult<Option<i64>> {
        self.read(move |conn| crate::sqlite_docs::document_scope(conn, &doc_id))
            .await
    }

    async fn document_changes_since(
        &self,
        doc_id: String,
        since: u64,
        exclude: HashSet<[u8; 32]>,
        max_bytes: u64,
    ) -> StorageResult<DocPage> {
        self.read(move |conn| {
            crate::sqlite_docs::document_changes_since(conn, &doc_id, since, &exclude, max_bytes)
        })
        .await
    }

    async fn set_shop_listing(
        &self,
        store_pk: i64,
        name: String,
        published: bool,
        now_ms: i64,
    ) -> StorageResult<Option<bool>> {
        self.write(move |conn| {
            crate::sqlite_docs::set_shop_listing(conn, store_pk, &name, published, now_ms)
        })
        .await
    }

    async fn create_customer(&self, input: NewCustomer) -> StorageResult<()> {
        self.create_customer_impl(input).await
    }

    async fn create_link_code(
        &self,
        customer_id: String,
        code_hash: [u8; 32],
        now_ms: i64,
        expires_ms: i64,
    ) -> StorageResult<()> {
        self.create_link_code_impl(customer_id, code_hash, now_ms, expires_ms)
            .await
    }

    async fn link_device(&self, input: LinkInput) -> StorageResult<String> {
        self.link_device_impl(input).await
    }

    async fn customer(&self, customer_id: String) -> StorageResult<Option<CustomerRow>> {
        self.customer_impl(customer_id).await
    }

    async fn revoke_customer_device(
        &self,
        customer_id: String,
        device_id: String,
        now_ms: i64,
    ) -> StorageResult<bool> {
        self.write(move |conn| {
            crate::sqlite_customers::revoke_customer_device(
                conn,
                Some(&customer_id),
                &device_id,
                now_ms,
            )
        })
        .await
    }

    async fn shop_published(&self, store_pk: i64) -> StorageResult<bool> {
        self.read(move |conn| crate::sqlite_docs::shop_published(conn, store_pk))
            .await
    }

    async fn stores_maybe_publishing(&self) -> StorageResult<Vec<StoreRow>> {
        self.read(crate::sqlite_docs::stores_maybe_publishing).await
    }

    async fn published_shops(
        &self,
        search: Option<String>,
        limit: u32,
    ) -> StorageResult<Vec<StoreRow>> {
        self.read(move |conn| crate::sqlite_docs::published_shops(conn, search.as_deref(), limit))
            .await
    }

    fn keeps_outbox(&self) -> bool {
        true
    }

    async fn outbox_batch(&self, after: i64, limit: u32) -> StorageResult<Vec<OutboxRow>> {
        self.read(move |conn| crate::sqlite_outbox::batch(conn, after, limit))
            .await
    }

    async fn outbox_delete(&self, ids: Vec<i64>, dead: Vec<(i64, String)>) -> StorageResult<u64> {
        self.write(move |conn| crate::sqlite_outbox::delete(conn, &ids, &dead))
            .await
    }

    async fn outbox_dead_letter(
        &self,
        entry: i64,
        handled: u32,
        event: crate::events::OutboxEvent,
        error: String,
    ) -> StorageResult<bool> {
        self.write(move |conn| {
            crate::sqlite_outbox::dead_letter(conn, entry, handled, &event, &error)
        })
        .await
    }

    async fn outbox_progress(&self, entry: i64, handled: u32) -> StorageResult<()> {
        self.write(move |conn| crate::sqlite_outbox::progress(conn, entry, handled))
            .await
    }

    fn keeps_event_cursors(&self) -> bool {
        true
    }

    async fn start_replica_events(&self, enabled: bool) -> StorageResult<()> {
        self.write(move |conn| crate::sqlite_outbox::start_replica_events(conn, enabled))
            .await
    }

    async fn replica_events_from(&self, store_pk: i64) -> StorageResult<Option<u64>> {
        self.read(move |conn| crate::sqlite_outbox::replica_events_from(conn, store_pk))
            .await
    }

    async fn stores_behind_events(&self) -> StorageResult<Vec<StoreRow>> {
        self.read(crate::sqlite_outbox::stores_behind_events).await
    }

    async fn queue_replica_events(
        &self,
        store_pk: i64,
        _from: u64,
        upto: u64,
        events: Vec<crate::events::OutboxEvent>,
    ) -> StorageResult<()> {
        // One server process derives a SQLite database's events.
        self.write(move |conn| {
            crate::sqlite_outbox::queue_replica_events(conn, store_pk, upto, &events)
        })
        .await
    }

    async fn outbox_backlog(&self) -> StorageResult<OutboxBacklog> {
        self.read(crate::sqlite_outbox::backlog).await
    }

    async fn customers_scope(&self) -> StorageResult<StoreRow> {
        self.read(crate::sqlite_customers::customers_scope).await
    }

    async fn backup(&self, to: &Path) -> StorageResult<()> {
        let to = to.to_path_buf();
        self.read(move |conn| {
            if to.exists() {
                return Err(StorageError::Conflict(format!(
                    "{} exists already: choose a new file",
                    to.display()
                )));
            }
            let target = to
                .to_str()
                .ok_or_else(|| StorageError::Invalid("the backup path is not UTF-8".into()))?;
            conn.execute("VACUUM INTO ?1", [target])?;
            // restore: the copy starts a lifetime of its own.
            crate::restore::new_epoch_in_file(&to)?;
            Ok(())
        })
        .await
    }
}

impl SqliteStorage {
    /// See [`Storage::count_documents`].
    async fn count_documents_impl(
        &self,
        store_pk: i64,
        prefix: String,
        candidates: Vec<String>,
    ) -> StorageResult<(u64, u64)> {
        self.read(move |conn| {
            // A range on the unique doc_id index: ids are ASCII, so every id
            // with the prefix sorts below prefix + U+FFFF.
            let upper = format!("{prefix}\u{ffff}");
            let existing: i64 = conn
                .prepare_cached(
                    "SELECT COUNT(*) FROM documents WHERE doc_id >= ?1 AND doc_id < ?2 AND store_pk = ?3",
                )?
                .query_row(params![prefix, upper, store_pk], |r| r.get(0))?;
            let mut exists = conn.prepare_cached("SELECT 1 FROM documents WHERE doc_id = ?1")?;
            let mut new = 0u64;
            for c in &candidates {
                if !exists.exists([c])? {
                    new += 1;
                }
            }
            Ok((existing.max(0) as u64, new))
        })
        .await
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn fake_hash(i: u64) -> [u8; 32] {
        let mut h = [0u8; 32];
        h[..8].copy_from_slice(&i.to_le_bytes());
        h[31] = 0xaa;
        h
    }

    fn stored_heads(st: &SqliteStorage, doc_id: &str) -> Vec<[u8; 32]> {
        let conn = st.writer.lock().unwrap();
        let flat: Vec<u8> = conn
            .query_row(
                "SELECT heads FROM documents WHERE doc_id = ?1",
                [doc_id],
                |r| r.get(0),
            )
            .unwrap();
        flat.chunks_exact(32).map(|c| hash32(c.to_vec())).collect()
    }

    /// Heads tracking is linear: a request of many dependency-free changes
    /// (each one a head) is stored in one pass, and the heads are right.
    #[tokio::test(flavor = "multi_thread")]
    async fn many_dependency_free_changes_keep_exact_heads() {
        let dir = tempfile::tempdir().unwrap();
        let st = SqliteStorage::open(&dir.path().join("s.db")).unwrap();
        let store = st.create_store("S".into(), 0).await.unwrap();
        let doc_id = format!("store/{}/catalog", store.store_id);
        const N: u64 = 50_000;
        let changes: Vec<NewChange> = (0..N)
            .map(|i| NewChange {
                hash: fake_hash(i),
                deps: Vec::new(),
                bytes: vec![1],
                inflated_len: 1,
                actor: i.to_le_bytes().to_vec(),
                actor_seq: 1,
            })
            .collect();
        let out = st
            .store_changes(
                store.pk,
                vec![DocBatch {
                    doc_id: doc_id.clone(),
                    changes,
                }],
            )
            .await
            .unwrap();
        assert_eq!(out.new_changes, N);
        let heads = stored_heads(&st, &doc_id);
        assert_eq!(heads.len() as u64, N);
        let mut want: Vec<[u8; 32]> = (0..N).map(fake_hash).collect();
        want.sort_unstable();
        assert_eq!(heads, want);
        // One change that merges half of them: the other half stay heads.
        let merge = NewChange {
            hash: fake_hash(N),
            deps: (0..N / 2).map(fake_hash).collect(),
            bytes: vec![2],
            inflated_len: 1,
            actor: N.to_le_bytes().to_vec(),
            actor_seq: 1,
        };
        st.store_changes(
            store.pk,
            vec![DocBatch {
                doc_id: doc_id.clone(),
                changes: vec![merge],
            }],
        )
        .await
        .unwrap();
        let heads = stored_heads(&st, &doc_id);
        assert_eq!(heads.len() as u64, N / 2 + 1);
        assert!(heads.contains(&fake_hash(N)));
        assert!(!heads.contains(&fake_hash(0)));
        assert!(heads.contains(&fake_hash(N - 1)));
        // Both writes take about 2 s in a debug build here; with the heads
        // in a Vec (N^2/2 comparisons) they took 81 s. (A figure, not an
        // assertion: speed is measured in benchmarks, not in tests.)
    }

    /// Answer pages are bounded by the changes' inflated size too, not only
    /// by their size on the wire.
    #[tokio::test(flavor = "multi_thread")]
    async fn answer_pages_stop_before_their_changes_inflate_past_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let st = SqliteStorage::open(&dir.path().join("s.db")).unwrap();
        let store = st.create_store("S".into(), 0).await.unwrap();
        let doc_id = format!("store/{}/catalog", store.store_id);
        // 20 changes of 10 KiB on the wire, each inflating to 8 MiB.
        let changes: Vec<NewChange> = (0..20)
            .map(|i| NewChange {
                hash: fake_hash(i),
                deps: Vec::new(),
                bytes: vec![0; 10 * 1024],
                inflated_len: 8 * 1024 * 1024,
                actor: i.to_le_bytes().to_vec(),
                actor_seq: 1,
            })
            .collect();
        st.store_changes(store.pk, vec![DocBatch { doc_id, changes }])
            .await
            .unwrap();
        let page = st
            .changes_since(store.pk, 0, HashSet::new(), 8 * 1024 * 1024)
            .await
            .unwrap();
        assert_eq!(page.changes, 8, "64 MiB inflated");
        assert!(page.more);
        let rest = st
            .changes_since(store.pk, page.cursor, HashSet::new(), 8 * 1024 * 1024)
            .await
            .unwrap();
        assert_eq!(rest.changes, 8);
        // One change over the bound alone still makes a page (never stuck).
        let one = st
            .changes_since(store.pk, rest.cursor + 3, HashSet::new(), 1)
            .await
            .unwrap();
        assert_eq!(one.changes, 1);
    }
}
