//! The PostgreSQL backend (`--db postgres://…`): a deadpool pool of
//! tokio-postgres connections, migrations from `migrations/server-postgres/`
//! embedded at build time and applied by refinery at start. No TLS to the
//! database in this version (`NoTls`): run it on the same host or a private
//! link.
//!
//! Sequence numbers: each store has a counter (`stores.head`). A write locks
//! the store's row first (`SELECT … FOR UPDATE`), numbers its new changes
//! after the counter, and stores the new counter in the same transaction, so
//! writers of one store run one after the other and numbers are handed out in
//! commit order: a reader never sees seq N+1 before seq N is visible
//! (docs/PROTOCOL.md, "Sequence numbers on PostgreSQL").

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{
    GenericClient, Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime,
};
use shopsync_core::access::Role;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, NoTls, Row};

use crate::storage::*;

mod embedded {
    refinery::embed_migrations!("../migrations/server-postgres");
}

/// Connections the pool keeps at most.
const POOL_SIZE: usize = 16;
/// How long a request waits for a connection (PostgreSQL down or the pool
/// exhausted) before it fails with 503 instead of hanging.
const POOL_WAIT: Duration = Duration::from_secs(5);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A fixed key for the advisory lock that lets one instance migrate at a time.
const MIGRATION_LOCK: i64 = 0x5350_5359_4e43_4d31; // "SPSYNCM1"
/// How long a readiness check's answer stands (like SQLite's).
const READY_FOR: Duration = Duration::from_secs(1);
/// Metadata rows read per query while a page is cut to size.
const PAGE_SCAN_ROWS: i64 = 1000;
/// Rows per insert statement of a batch of changes.
pub(crate) const INSERT_ROWS: usize = 1000;

/// A readiness check's answer (the reason when not ready) and when it ran.
type ReadyAnswer = (std::time::Instant, Result<(), String>);

#[derive(Clone)]
pub struct PgStorage {
    pool: Pool,
    /// `user@host:port/db`, never the password: for messages and logs.
    target: Arc<String>,
    /// restore: this database's epoch, read at start.
    epoch: Arc<String>,
    /// The last migration applied at start.
    schema_version: i64,
    last_ready: Arc<tokio::sync::Mutex<Option<ReadyAnswer>>>,
    /// Where the database is (the notice listener connects on its own).
    config: tokio_postgres::Config,
    /// This process's id in notices between instances (notice_bus.rs).
    instance: Arc<str>,
}

/// Whether `--db` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// `user@host:port/db` of a connection config (no password).
pub fn describe(config: &tokio_postgres::Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{host}:{port}/{}",
        config.get_user().unwrap_or("?"),
        config.get_dbname().unwrap_or("?")
    )
}

/// A tokio-postgres error as a storage error: PostgreSQL unreachable,
/// restarting or overloaded is `Unavailable` (503, try again); text the
/// database cannot hold (a NUL character) is `Invalid`; the rest `Backend`.
pub(crate) fn pg(e: tokio_postgres::Error) -> StorageError {
    if let Some(code) = e.code() {
        let class = &code.code()[..2];
        if matches!(class, "08" | "53" | "57")
            || *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::T_R_DEADLOCK_DETECTED
        {
            return StorageError::Unavailable(format!("PostgreSQL: {}", db_message(&e)));
        }
        if *code == SqlState::CHARACTER_NOT_IN_REPERTOIRE
            || *code == SqlState::UNTRANSLATABLE_CHARACTER
        {
            return StorageError::Invalid(
                "the request holds text the database cannot store (a NUL character)".into(),
            );
        }
        return StorageError::Backend(format!("PostgreSQL: {}", db_message(&e)));
    }
    let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
    if e.is_closed() || io {
        return StorageError::Unavailable(format!("PostgreSQL connection: {}", db_message(&e)));
    }
    StorageError::Backend(format!("PostgreSQL: {}", db_message(&e)))
}

/// The server's message and code, or the error and its causes (tokio-postgres
/// says only "error connecting to server" without them).
pub(crate) fn db_message(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// No connection could be had (PostgreSQL unreachable, refusing, or every
/// connection busy for longer than [`POOL_WAIT`]): try again later.
fn pool_err(e: PoolError) -> StorageError {
    match e {
        PoolError::Backend(e) => {
            StorageError::Unavailable(format!("no PostgreSQL connection: {}", db_message(&e)))
        }
        other => StorageError::Unavailable(format!("no PostgreSQL connection: {other}")),
    }
}

pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// One statement's rows (prepared once per connection).
pub(crate) async fn rows<C: GenericClient>(
    c: &C,
    sql: &str,
    p: Params<'_>,
) -> StorageResult<Vec<Row>> {
    let stmt = c.prepare_cached(sql).await.map_err(pg)?;
    c.query(&stmt, p).await.map_err(pg)
}

/// At most one row.
pub(crate) async fn opt<C: GenericClient>(
    c: &C,
    sql: &str,
    p: Params<'_>,
) -> StorageResult<Option<Row>> {
    let stmt = c.prepare_cached(sql).await.map_err(pg)?;
    c.query_opt(&stmt, p).await.map_err(pg)
}

/// Exactly one row.
pub(crate) async fn one<C: GenericClient>(c: &C, sql: &str, p: Params<'_>) -> StorageResult<Row> {
    let stmt = c.prepare_cached(sql).await.map_err(pg)?;
    c.query_one(&stmt, p).await.map_err(pg)
}

/// Rows changed.
pub(crate) async fn exec<C: GenericClient>(c: &C, sql: &str, p: Params<'_>) -> StorageResult<u64> {
    let stmt = c.prepare_cached(sql).await.map_err(pg)?;
    c.execute(&stmt, p).await.map_err(pg)
}

/// A column, its type mismatch as a backend error.
pub(crate) fn col<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a Row,
    i: usize,
) -> StorageResult<T> {
    row.try_get(i).map_err(pg)
}

pub(crate) fn role_text(text: &str) -> StorageResult<Role> {
    Role::parse(text).ok_or_else(|| StorageError::Backend(format!("unknown role {text}")))
}

pub(crate) fn store_row(row: &Row) -> StorageResult<StoreRow> {
    Ok(StoreRow {
        pk: col(row, 0)?,
        store_id: col(row, 1)?,
        name: col(row, 2)?,
    })
}

/// A real store by id; never the reserved `~customers` row.
pub(crate) async fn store_by_id<C: GenericClient>(
    c: &C,
    store_id: &str,
) -> StorageResult<Option<StoreRow>> {
    opt(
        c,
        "SELECT pk, store_id, name FROM stores WHERE store_id = $1 AND left(store_id, 1) <> '~'",
        &[&store_id],
    )
    .await?
    .as_ref()
    .map(store_row)
    .transpose()
}

/// A u64 from the API as a BIGINT (saturating).
pub(crate) fn big(n: u64) -> i64 {
    n.min(i64::MAX as u64) as i64
}

impl PgStorage {
    /// Connects, migrates (one instance at a time) and builds the pool. A
    /// database that cannot be reached is `Unavailable`, naming it.
    pub async fn connect(url: &str) -> StorageResult<PgStorage> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StorageError::Invalid(format!("not a PostgreSQL URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let target = describe(&config);
        let unreachable = |e: String| {
            StorageError::Unavailable(format!("cannot connect to PostgreSQL at {target}: {e}"))
        };
        let (mut client, connection) =
            tokio::time::timeout(CONNECT_TIMEOUT * 2, config.connect(NoTls))
                .await
                .map_err(|_| unreachable("no answer".into()))?
                .map_err(|e| unreachable(db_message(&e)))?;
        let task = tokio::spawn(connection);
        let migrated = Self::migrate(&mut client, &target).await;
        drop(client);
        let _ = task.await;
        let (epoch, schema_version) = migrated?;
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| StorageError::Backend(format!("cannot build the connection pool: {e}")))?;
        Ok(PgStorage {
            pool,
            target: Arc::new(target),
            epoch: Arc::new(epoch),
            schema_version,
            last_ready: Arc::new(tokio::sync::Mutex::new(None)),
            config,
            instance: uuid::Uuid::new_v4().simple().to_string().into(),
        })
    }

    /// Applies the embedded migrations under an advisory lock (several
    /// instances may start at once); returns the epoch and schema version.
    async fn migrate(
        client: &mut tokio_postgres::Client,
        target: &str,
    ) -> StorageResult<(String, i64)> {
        client
            .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(pg)?;
        let report = embedded::migrations::runner().run_async(client).await;
        client
            .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(pg)?;
        let report = report.map_err(|e| {
            StorageError::Backend(format!("cannot migrate the database {target}: {e}"))
        })?;
        for m in report.applied_migrations() {
            tracing::info!(migration = %m, "applied");
        }
        let row = client
            .query_one("SELECT value FROM server_meta WHERE key = 'epoch'", &[])
            .await
            .map_err(pg)?;
        let epoch: String = col(&row, 0)?;
        let version = Self::schema_version_of(client).await?;
        Ok((epoch, version))
    }

    async fn schema_version_of(client: &tokio_postgres::Client) -> StorageResult<i64> {
        let row = client
            .query_one(
                "SELECT COALESCE(MAX(version), 0)::bigint FROM refinery_schema_history",
                &[],
            )
            .await
            .map_err(pg)?;
        col(&row, 0)
    }

    /// `user@host:port/db` (no password).
    pub fn target(&self) -> &str {
        &self.target
    }

    pub(crate) async fn conn(&self) -> StorageResult<deadpool_postgres::Object> {
        self.pool.get().await.map_err(pool_err)
    }

    /// Changes with seq > `since` (and <= `until`), as `changes_since`; once
    /// every one up to `until` was looked at, the cursor is `until` (or the
    /// head).
    async fn changes_between(
        &self,
        store_pk: i64,
        since: u64,
        until: Option<u64>,
        exclude: HashSet<[u8; 32]>,
        max_bytes: u64,
    ) -> StorageResult<Page> {
        let mut c = self.conn().await?;

        // One snapshot: the head and the changes agree.
        let tx = c
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(pg)?;
        let head = head_of(&tx, store_pk).await?;
        // A change marked undecodable (actor_seq -1) is never served.
        let cut = cut_page(
            &tx,
            "SELECT seq, hash, octet_length(bytes)::bigint,
                    COALESCE(inflated, octet_length(bytes))::bigint
             FROM changes
             WHERE store_pk = $1 AND seq > $2 AND seq <= $4
               AND (actor_seq IS NULL OR actor_seq >= 0)
             ORDER BY seq LIMIT $3",
            store_pk,
            since,
            until,
            &exclude,
            max_bytes,
        )
        .await?;
        let mut page = Page {
            cursor: cut.cursor,
            head,
            more: cut.more,
            ..Page::default()
        };
        if !cut.seqs.is_empty() {
            let found = rows(
                &tx,
                "SELECT c.doc_pk, d.doc_id, c.bytes FROM changes c JOIN documents d ON d.pk = c.doc_pk
                 WHERE c.store_pk = $1 AND c.seq = ANY($2) ORDER BY c.seq",
                &[&store_pk, &cut.seqs],
            )
            .await?;
            let mut index: HashMap<i64, usize> = HashMap::new();
            for row in &found {
                let doc_pk: i64 = col(row, 0)?;
                let i = match index.get(&doc_pk) {
                    Some(i) => *i,
                    None => {
                        page.docs.push((col(row, 1)?, Vec::new()));
                        index.insert(doc_pk, page.docs.len() - 1);
                        page.docs.len() - 1
                    }
                };
                let bytes: Vec<u8> = col(row, 2)?;
                page.bytes += bytes.len() as u64;
                page.changes += 1;
                page.docs[i].1.push(bytes);
            }
        }
        if let Some(until) = until
            && !page.more
        {
            page.cursor = page.cursor.max(until.min(head));
        }
        tx.commit().await.map_err(pg)?;
        Ok(page)
    }

    async fn check_ready(&self) -> StorageResult<()> {
        let c = self.conn().await?;
        let row = one(
            &c,
            "SELECT COALESCE(MAX(version), 0)::bigint FROM refinery_schema_history",
            &[],
        )
        .await?;
        let version: i64 = col(&row, 0)?;
        if version != self.schema_version {
            return Err(StorageError::Backend(format!(
                "{} is at schema {version}, this server migrated it to {}",
                self.target, self.schema_version
            )));
        }
        opt(&c, "SELECT 1 FROM stores LIMIT 1", &[]).await?;
        Ok(())
    }
}

/// The store's highest seq (its counter).
async fn head_of<C: GenericClient>(c: &C, store_pk: i64) -> StorageResult<u64> {
    let head: Option<i64> =
        match opt(c, "SELECT head FROM stores WHERE pk = $1", &[&store_pk]).await? {
            Some(row) => col(&row, 0)?,
            None => None,
        };
    Ok(head.unwrap_or(0).max(0) as u64)
}

/// One stored change as a page sees it before its bytes are read.
struct ChangeMeta {
    seq: i64,
    hash: Vec<u8>,
    len: u64,
    inflated: u64,
}

fn change_meta(row: &Row) -> StorageResult<ChangeMeta> {
    Ok(ChangeMeta {
        seq: col(row, 0)?,
        hash: col(row, 1)?,
        len: col::<i64>(row, 2)?.max(0) as u64,
        inflated: col::<i64>(row, 3)?.max(0) as u64,
    })
}

/// The changes that fit a page, found by [`cut_page`].
pub(crate) struct PageCut {
    /// The seqs to serve, oldest first.
    pub seqs: Vec<i64>,
    pub bytes: u64,
    /// The seq of the last change looked at (or `since`).
    pub cursor: u64,
    pub more: bool,
}

/// Which changes after `since` fit a page, with the rules of the SQLite
/// reader (at least one change; stop before `max_bytes` or
/// [`PAGE_INFLATED_BYTES`]; `exclude` skipped but passed by the cursor).
/// Reads sizes only, [`PAGE_SCAN_ROWS`] at a time, never the bytes of
/// changes left for the next page. `scan_sql` takes the key ($1), the seq
/// to read after ($2), a row limit ($3) and the highest seq to read ($4:
/// `until`, or no bound).
async fn cut_page<C: GenericClient>(
    c: &C,
    scan_sql: &str,
    key: i64,
    since: u64,
    until: Option<u64>,
    exclude: &HashSet<[u8; 32]>,
    max_bytes: u64,
) -> StorageResult<PageCut> {
    let last = big(until.unwrap_or(u64::MAX));
    let mut cut = PageCut {
        seqs: Vec::new(),
        bytes: 0,
        cursor: since,
        more: false,
    };
    let mut inflated_total = 0u64;
    let mut after = big(since);
    loop {
        let rows = rows(c, scan_sql, &[&key, &after, &PAGE_SCAN_ROWS, &last]).await?;
        let full = rows.len() as i64 == PAGE_SCAN_ROWS;
        for row in &rows {
            let m = change_meta(row)?;
            after = m.seq;
            if m.hash.len() == 32 && exclude.contains(&crate::sqlite::hash32(m.hash.clone())) {
                cut.cursor = m.seq as u64;
                continue;
            }
            if !cut.seqs.is_empty()
                && (cut.bytes + m.len > max_bytes
                    || inflated_total + m.inflated > PAGE_INFLATED_BYTES)
            {
                cut.more = true;
                return Ok(cut);
            }
            inflated_total += m.inflated;
            cut.bytes += m.len;
            cut.seqs.push(m.seq);
            cut.cursor = m.seq as u64;
        }
        if !full {
            return Ok(cut);
        }
    }
}

impl Storage for PgStorage {
    fn notice_listener(&self) -> Option<crate::notice_bus::Listener> {
        Some(crate::notice_bus::Listener {
            config: self.config.clone(),
            instance: self.instance.clone(),
        })
    }

    async fn create_store(&self, name: String, now_ms: i64) -> StorageResult<StoreRow> {
        let c = self.conn().await?;
        let store_id = shopsync_core::ids::new_id();
        let row = one(
            &c,
            "INSERT INTO stores (store_id, name, created_at) VALUES ($1, $2, $3) RETURNING pk",
            &[&store_id, &name, &now_ms],
        )
        .await?;
        Ok(StoreRow {
            pk: col(&row, 0)?,
            store_id,
            name,
        })
    }

    async fn find_store(&self, store_id: String) -> StorageResult<Option<StoreRow>> {
        let c = self.conn().await?;
        store_by_id(&c, &store_id).await
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
        let c = self.conn().await?;
        let store = store_by_id(&c, &store_id)
            .await?
            .ok_or_else(|| StorageError::NotFound(format!("no store '{store_id}'")))?;
        exec(
            &c,
            "INSERT INTO enrol_codes (code_hash, store_pk, role, created_at, expires_at, till_id)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &code_hash.as_slice(),
                &store.pk,
                &role.as_str(),
                &now_ms,
                &expires_ms,
                &till_id,
            ],
        )
        .await?;
        Ok(())
    }

    async fn enrol(&self, input: EnrolInput) -> StorageResult<Enrolled> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let out = crate::postgres_enrolment::enrol_tx(&tx, &input).await?;
        tx.commit().await.map_err(pg)?;
        Ok(out)
    }

    async fn device(&self, device_id: String) -> StorageResult<Option<DeviceAuth>> {
        let c = self.conn().await?;
        let row = opt(
            &c,
            "SELECT d.device_id, d.token_hash, d.revoked_at IS NOT NULL, d.role, d.till_id,
                    s.pk, s.store_id, s.name, d.enrol_key IS NOT NULL
             FROM devices d JOIN stores s ON s.pk = d.store_pk WHERE d.device_id = $1",
            &[&device_id],
        )
        .await?;
        match row {
            Some(r) => Ok(Some(DeviceAuth {
                device_id: col(&r, 0)?,
                token_hash: crate::sqlite::hash32(col(&r, 1)?),
                revoked: col(&r, 2)?,
                role: role_text(&col::<String>(&r, 3)?)?,
                till_id: col(&r, 4)?,
                store: StoreRow {
                    pk: col(&r, 5)?,
                    store_id: col(&r, 6)?,
                    name: col(&r, 7)?,
                },
                enrol_retry_open: col(&r, 8)?,
                customer: None,
            })),
            // Not a till's or a manager's: a customer's?
            None => crate::postgres_customers::customer_device_auth(&c, &device_id).await,
        }
    }

    async fn close_enrol_retry(&self, device_id: String) -> StorageResult<()> {
        let c = self.conn().await?;
        exec(
            &c,
            "UPDATE devices SET enrol_key = NULL WHERE device_id = $1",
            &[&device_id],
        )
        .await?;
        Ok(())
    }

    async fn list_devices(&self, store_id: String) -> StorageResult<Vec<DeviceRow>> {
        let c = self.conn().await?;
        let store = store_by_id(&c, &store_id)
            .await?
            .ok_or_else(|| StorageError::NotFound(format!("no store '{store_id}'")))?;
        rows(
            &c,
            "SELECT device_id, role, revoked_at IS NOT NULL, till_id, till_name, created_at
             FROM devices WHERE store_pk = $1 ORDER BY created_at, device_id",
            &[&store.pk],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(DeviceRow {
                device_id: col(r, 0)?,
                role: role_text(&col::<String>(r, 1)?)?,
                revoked: col(r, 2)?,
                till_id: col(r, 3)?,
                till_name: col(r, 4)?,
                created_at: col(r, 5)?,
            })
        })
        .collect()
    }

    async fn revoke_device(&self, device_id: String, now_ms: i64) -> StorageResult<bool> {
        let c = self.conn().await?;
        let exists = opt(
            &c,
            "SELECT 1 FROM devices WHERE device_id = $1",
            &[&device_id],
        )
        .await?
        .is_some();
        if !exists {
            // A customer's device (`device revoke` works for those too).
            return crate::postgres_customers::revoke_customer_device(&c, None, &device_id, now_ms)
                .await;
        }
        exec(
            &c,
            "UPDATE devices SET revoked_at = $1 WHERE device_id = $2 AND revoked_at IS NULL",
            &[&now_ms, &device_id],
        )
        .await?;
        Ok(true)
    }

    async fn store_changes(&self, store_pk: i64, batch: Vec<DocBatch>) -> StorageResult<Stored> {
        self.store_batch(store_pk, batch, false).await
    }

    fn keeps_outbox(&self) -> bool {
        true
    }

    async fn outbox_batch(&self, after: i64, limit: u32) -> StorageResult<Vec<OutboxRow>> {
        let c = self.conn().await?;
        crate::postgres_outbox::batch(&c, after, limit).await
    }

    async fn outbox_delete(&self, ids: Vec<i64>, dead: Vec<(i64, String)>) -> StorageResult<u64> {
        let c = self.conn().await?;
        crate::postgres_outbox::delete(&c, &ids, &dead).await
    }

    async fn outbox_dead_letter(
        &self,
        entry: i64,
        handled: u32,
        event: crate::events::OutboxEvent,
        error: String,
    ) -> StorageResult<bool> {
        let c = self.conn().await?;
        crate::postgres_outbox::dead_letter(&c, entry, handled, &event, &error).await
    }

    fn keeps_event_cursors(&self) -> bool {
        true
    }

    async fn start_replica_events(&self, enabled: bool) -> StorageResult<()> {
        let c = self.conn().await?;
        crate::postgres_outbox::start_replica_events(&c, enabled).await
    }

    async fn replica_events_from(&self, store_pk: i64) -> StorageResult<Option<u64>> {
        let c = self.conn().await?;
        crate::postgres_outbox::replica_events_from(&c, store_pk).await
    }

    async fn stores_behind_events(&self) -> StorageResult<Vec<StoreRow>> {
        let c = self.conn().await?;
        crate::postgres_outbox::stores_behind_events(&c).await
    }

    async fn lease_replica_events(&self, store_pk: i64) -> StorageResult<bool> {
        let c = self.conn().await?;
        crate::postgres_outbox::lease_replica_events(&c, store_pk, &self.instance).await
    }

    async fn release_replica_events(&self, store_pk: i64) -> StorageResult<()> {
        let c = self.conn().await?;
        crate::postgres_outbox::release_replica_events(&c, store_pk, &self.instance).await
    }

    async fn queue_replica_events(
        &self,
        store_pk: i64,
        from: u64,
        upto: u64,
        events: Vec<crate::events::OutboxEvent>,
    ) -> StorageResult<()> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let page = (from, upto);
        crate::postgres_outbox::queue_replica_events(&tx, store_pk, page, &events, &self.instance)
            .await?;
        tx.commit().await.map_err(pg)?;
        Ok(())
    }

    async fn outbox_progress(&self, entry: i64, handled: u32) -> StorageResult<()> {
        let c = self.conn().await?;
        crate::postgres_outbox::progress(&c, entry, handled).await
    }

    async fn outbox_backlog(&self) -> StorageResult<OutboxBacklog> {
        let c = self.conn().await?;
        crate::postgres_outbox::backlog(&c).await
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
        let c = self.conn().await?;
        head_of(&c, store_pk).await
    }

    /// Summed over the store's documents: sequence numbers moved here by
    /// `migrate-storage` keep SQLite's gaps, so the head is no count.
    async fn change_count(&self, store_pk: i64) -> StorageResult<u64> {
        let c = self.conn().await?;
        let n: Option<i64> = match opt(
            &c,
            "SELECT SUM(changes)::BIGINT FROM documents WHERE store_pk = $1",
            &[&store_pk],
        )
        .await?
        {
            Some(row) => col(&row, 0)?,
            None => None,
        };
        Ok(n.unwrap_or(0).max(0) as u64)
    }

    async fn totals(&self) -> StorageResult<Totals> {
        let c = self.conn().await?;
        let row = one(
            &c,
            // Not the reserved `~customers` row. Changes are counted per
            // document: a store's numbers have gaps after migrate-storage.
            "SELECT (SELECT COUNT(*) FROM stores WHERE left(store_id, 1) <> '~'),
                    (SELECT COUNT(*) FROM devices WHERE revoked_at IS NULL),
                    (SELECT COUNT(*) FROM documents),
                    (SELECT COALESCE(SUM(changes), 0)::bigint FROM documents)",
            &[],
        )
        .await?;
        let n = |i| -> StorageResult<u64> { Ok(col::<i64>(&row, i)?.max(0) as u64) };
        Ok(Totals {
            stores: n(0)?,
            devices: n(1)?,
            documents: n(2)?,
            changes: n(3)?,
        })
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

    fn epoch(&self) -> String {
        self.epoch.as_ref().clone()
    }

    async fn backup(&self, _to: &Path) -> StorageResult<()> {
        Err(StorageError::Invalid(format!(
            "`backup` copies a SQLite database file; this server stores its data in PostgreSQL ({}): \
             back it up with pg_dump (docs/OPERATIONS.md, \"Backups on PostgreSQL\")",
            self.target
        )))
    }

    async fn count_documents(
        &self,
        store_pk: i64,
        prefix: String,
        candidates: Vec<String>,
    ) -> StorageResult<(u64, u64)> {
        let c = self.conn().await?;
        // A range on the unique doc_id index (collation "C": byte order);
        // ids are ASCII, so every id with the prefix sorts below prefix + U+FFFF.
        let upper = format!("{prefix}\u{ffff}");
        let row = one(
            &c,
            "SELECT (SELECT COUNT(*) FROM documents WHERE doc_id >= $1 AND doc_id < $2 AND store_pk = $3),
                    (SELECT COUNT(*) FROM unnest($4::text[]) AS k(id)
                     WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.doc_id = k.id))",
            &[&prefix, &upper, &store_pk, &candidates],
        )
        .await?;
        Ok((
            col::<i64>(&row, 0)?.max(0) as u64,
            col::<i64>(&row, 1)?.max(0) as u64,
        ))
    }

    async fn document_scope(&self, doc_id: String) -> StorageResult<Option<i64>> {
        let c = self.conn().await?;
        match opt(
            &c,
            "SELECT store_pk FROM documents WHERE doc_id = $1",
            &[&doc_id],
        )
        .await?
        {
            Some(row) => Ok(Some(col(&row, 0)?)),
            None => Ok(None),
        }
    }

    async fn document_changes_since(
        &self,
        doc_id: String,
        since: u64,
        exclude: HashSet<[u8; 32]>,
        max_bytes: u64,
    ) -> StorageResult<DocPage> {
        let mut c = self.conn().await?;
        let tx = c
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(pg)?;
        let page =
            crate::postgres_docs::document_changes_since(&tx, &doc_id, since, &exclude, max_bytes)
                .await?;
        tx.commit().await.map_err(pg)?;
        Ok(page)
    }

    async fn set_shop_listing(
        &self,
        store_pk: i64,
        name: String,
        published: bool,
        now_ms: i64,
    ) -> StorageResult<Option<bool>> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        // The row locked, so that of two instances writing at once the
        // second sees the first's value.
        let before: Option<bool> = opt(
            &tx,
            "SELECT published FROM shop_listings WHERE store_pk = $1 FOR UPDATE",
            &[&store_pk],
        )
        .await?
        .map(|r| r.get(0));
        exec(
            &tx,
            "INSERT INTO shop_listings (store_pk, name, published, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (store_pk) DO UPDATE SET name = excluded.name, published = excluded.published,
                 updated_at = excluded.updated_at",
            &[&store_pk, &name, &published, &now_ms],
        )
        .await?;
        tx.commit().await.map_err(pg)?;
        Ok(before)
    }

    async fn shop_published(&self, store_pk: i64) -> StorageResult<bool> {
        let c = self.conn().await?;
        Ok(opt(
            &c,
            "SELECT 1 FROM shop_listings WHERE store_pk = $1 AND published",
            &[&store_pk],
        )
        .await?
        .is_some())
    }

    async fn stores_maybe_publishing(&self) -> StorageResult<Vec<StoreRow>> {
        let c = self.conn().await?;
        crate::postgres_docs::stores_maybe_publishing(&c).await
    }

    async fn published_shops(
        &self,
        search: Option<String>,
        limit: u32,
    ) -> StorageResult<Vec<StoreRow>> {
        let c = self.conn().await?;
        crate::postgres_docs::published_shops(&c, search.as_deref(), limit).await
    }

    async fn create_customer(&self, input: NewCustomer) -> StorageResult<()> {
        let mut c = self.conn().await?;
        crate::postgres_customers::create_customer(&mut c, input).await
    }

    async fn create_link_code(
        &self,
        customer_id: String,
        code_hash: [u8; 32],
        now_ms: i64,
        expires_ms: i64,
    ) -> StorageResult<()> {
        let c = self.conn().await?;
        crate::postgres_customers::create_link_code(&c, &customer_id, code_hash, now_ms, expires_ms)
            .await
    }

    async fn link_device(&self, input: LinkInput) -> StorageResult<String> {
        let mut c = self.conn().await?;
        crate::postgres_customers::link_device(&mut c, input).await
    }

    async fn customer(&self, customer_id: String) -> StorageResult<Option<CustomerRow>> {
        let mut c = self.conn().await?;
        crate::postgres_customers::customer(&mut c, &customer_id).await
    }

    async fn revoke_customer_device(
        &self,
        customer_id: String,
        device_id: String,
        now_ms: i64,
    ) -> StorageResult<bool> {
        let c = self.conn().await?;
        crate::postgres_customers::revoke_customer_device(
            &c,
            Some(&customer_id),
            &device_id,
            now_ms,
        )
        .await
    }

    async fn customers_scope(&self) -> StorageResult<StoreRow> {
        let c = self.conn().await?;
        crate::postgres_customers::customers_scope(&c).await
    }
}

impl PgStorage {
    /// Stores a validated batch in one transaction; with `events`, queues
    /// an outbox reference to each new change that may give events.
    async fn store_batch(
        &self,
        store_pk: i64,
        batch: Vec<DocBatch>,
        events: bool,
    ) -> StorageResult<Stored> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let doc_ids: Vec<String> = batch.iter().map(|d| d.doc_id.clone()).collect();
        let out = crate::postgres_docs::store_changes_tx(&tx, store_pk, batch, events).await?;
        tx.commit().await.map_err(pg)?;
        if out.new_changes > 0 {
            // Other instances hear of it once it committed, on its own
            // statement: a NOTIFY inside the write's transaction would take
            // PostgreSQL's one notify lock through the commit's flush and
            // queue every store's commits behind each other. If this
            // process dies between the two, the devices of other instances
            // hear of the write at their next notice or timed sync.
            let payload = crate::notice_bus::encode(&self.instance, store_pk, out.head, &doc_ids);
            if let Err(e) = exec(
                &c,
                "SELECT pg_notify($1, $2)",
                &[&crate::notice_bus::CHANNEL, &payload],
            )
            .await
            {
                tracing::warn!("the change notice to other instances was not sent: {e}");
            }
        }
        Ok(out)
    }
}

/// [`cut_page`] over one document's changes (customers follow documents
/// one by one).
pub(crate) async fn cut_document_page<C: GenericClient>(
    c: &C,
    doc_pk: i64,
    since: u64,
    exclude: &HashSet<[u8; 32]>,
    max_bytes: u64,
) -> StorageResult<PageCut> {
    cut_page(
        c,
        "SELECT seq, hash, octet_length(bytes)::bigint,
                COALESCE(inflated, octet_length(bytes))::bigint
         FROM changes
         WHERE doc_pk = $1 AND seq > $2 AND seq <= $4 AND (actor_seq IS NULL OR actor_seq >= 0)
         ORDER BY seq LIMIT $3",
        doc_pk,
        since,
        None,
        exclude,
        max_bytes,
    )
    .await
}
