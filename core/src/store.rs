//! A till's store: one SQLite file holding the documents' change log,
//! snapshots, projections and this device's local state.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use shopsync_types::zone::StoreZone;
use shopsync_types::{Currency, StoreInfo};

use crate::catalog;
use crate::db;
use crate::docs::DocCache;
use crate::error::{CoreError, Result};
use crate::ids::{DocId, PARTITION_MAX_RECORDS, new_id};
use crate::projection;
use crate::records::Record;
use crate::snapshot_worker::{Background, CHECKPOINT_EVERY_COMMITS};

pub struct InitOptions {
    pub store_name: String,
    pub till_name: String,
    pub currency: String,
}

/// Where due snapshots and WAL checkpoints are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Snapshots {
    /// On two threads of their own (snapshots, checkpoints), each with its
    /// own connection: a write returns as soon as it is durable. For the
    /// till at the counter (the app).
    Background,
    /// Right after the write that made them due, before it returns, and
    /// SQLite's own checkpoints (the default: short-lived command-line runs,
    /// servers' replicas, tests).
    Inline,
}

pub struct Store {
    /// Declared first so it is dropped first: the worker's threads finish
    /// the jobs in progress and close their connections before the store's
    /// own closes (the last connection to close checkpoints and removes the
    /// WAL).
    background: Option<Background>,
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    pub(crate) info: StoreInfo,
    pub(crate) currency: Currency,
    /// Where the store's calendar days begin (the `time_zone` setting).
    pub(crate) zone: StoreZone,
    pub(crate) docs: DocCache,
    /// The in-memory product name index, built on the first name search.
    pub(crate) search: crate::search::NameSearch,
    /// Fixed time for tests and generated history; `None` is the system clock.
    pub(crate) fixed_now: Option<i64>,
    snapshots: Snapshots,
    commits_since_checkpoint: u32,
    /// During an enrolment download: the snapshot mode to go back to.
    long_download: Option<Snapshots>,
    /// Received changes applied per transaction (`sync::APPLY_CHUNK`).
    pub(crate) apply_chunk: usize,
    /// The staff member acting now, if any (`Store::acting`).
    pub(crate) acting: Option<crate::staff::Operator>,
}

impl Store {
    /// Creates a new store with this device as its first till.
    pub fn init(path: &Path, opts: InitOptions) -> Result<Store> {
        let currency = Currency::from_code(&opts.currency)
            .map_err(|e| CoreError::invalid("currency", e.to_string()))?;
        let store_name = required("store name", &opts.store_name)?;
        let store_id = new_id();
        let mut store = Self::create(path, &store_id, &opts.till_name)?;
        store.write(|w| {
            w.catalog_edit(|doc| {
                catalog::set_setting(doc, "store_name", &store_name)?;
                catalog::set_setting(doc, "currency", currency.code())?;
                Ok(vec![
                    format!("{}store_name", catalog::SETTING),
                    format!("{}currency", catalog::SETTING),
                ])
            })
        })?;
        store.reload_info()?;
        Ok(store)
    }

    /// Creates the file and this till's identity for an existing store id;
    /// the documents arrive afterwards (bundle import or sync).
    pub(crate) fn create(path: &Path, store_id: &str, till_name: &str) -> Result<Store> {
        Self::create_with_till(path, store_id, &new_id(), till_name)
    }

    /// Like `create`, with a till id chosen beforehand (a sync server learns
    /// it at enrolment, before the local file exists).
    pub fn create_with_till(
        path: &Path,
        store_id: &str,
        till_id: &str,
        till_name: &str,
    ) -> Result<Store> {
        let till_name = valid_till_name(till_name)?;
        if path.exists() {
            let conn = db::open(path)?;
            let has: bool = conn
                .prepare("SELECT 1 FROM meta WHERE key = 'store_id'")?
                .exists([])?;
            if has {
                return Err(CoreError::AlreadyInitialized(path.display().to_string()));
            }
        }
        let conn = db::open(path)?;
        let till_id = till_id.to_string();
        let actor = crate::ids::new_actor();
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let mut put = conn.prepare("INSERT INTO meta (key, value) VALUES (?1, ?2)")?;
        put.execute(["store_id", store_id])?;
        put.execute(["till_id", &till_id])?;
        put.execute(["till_name", &till_name])?;
        put.execute(["actor", &actor.to_hex_string()])?;
        put.execute(["sale_seq", "0"])?;
        drop(put);
        conn.execute_batch("COMMIT")?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            info: StoreInfo {
                store_id: store_id.to_string(),
                store_name: String::new(),
                till_id,
                till_name,
                currency: "XXX".into(),
                time_zone: String::new(),
            },
            currency: Currency::NONE,
            zone: StoreZone::Machine,
            docs: DocCache::new(actor),
            search: Default::default(),
            fixed_now: None,
            background: None,
            snapshots: Snapshots::Inline,
            commits_since_checkpoint: 0,
            long_download: None,
            apply_chunk: crate::sync::APPLY_CHUNK,
            acting: None,
        })
    }

    pub fn open(path: &Path) -> Result<Store> {
        if !path.exists() {
            return Err(CoreError::NotInitialized(path.display().to_string()));
        }
        let conn = db::open(path)?;
        // A snapshot download an enrolment left (stopped before the swap).
        crate::sync::snapshot::remove_leftover(path);
        let meta = |key: &str| -> Result<String> {
            conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| {
                r.get::<_, String>(0)
            })
            .optional()?
            .ok_or_else(|| CoreError::NotInitialized(path.display().to_string()))
        };
        // restore: a fresh Automerge actor for every open (see
        // docs/DOCUMENTS.md, "Actors"): a till restored from a backup or a
        // cloned disk can then never reuse an (actor, seq) pair. `meta.actor`
        // (the first actor) stays for information only.
        meta("actor")?;
        let actor = crate::ids::new_actor();
        let info = StoreInfo {
            store_id: meta("store_id")?,
            store_name: String::new(),
            till_id: meta("till_id")?,
            till_name: meta("till_name")?,
            currency: "XXX".into(),
            time_zone: String::new(),
        };
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            info,
            currency: Currency::NONE,
            zone: StoreZone::Machine,
            docs: DocCache::new(actor),
            search: Default::default(),
            fixed_now: None,
            background: None,
            snapshots: Snapshots::Inline,
            commits_since_checkpoint: 0,
            long_download: None,
            apply_chunk: crate::sync::APPLY_CHUNK,
            acting: None,
        };
        store.reload_info()?;
        store.backfill_if_due()?;
        Ok(store)
    }

    /// Projects once what migration 08 found kept but not projected
    /// (`crate::staff` backfill), in one transaction.
    fn backfill_if_due(&mut self) -> Result<()> {
        let due = self
            .conn
            .prepare("SELECT 1 FROM meta WHERE key = ?1")?
            .exists([crate::staff::BACKFILL_DUE])?;
        if due {
            let tx = self.conn.transaction()?;
            crate::staff::backfill(&tx)?;
            tx.commit()?;
        }
        let tx = self.conn.transaction()?;
        crate::ops::categories::reproject_if_due(&tx)?;
        crate::purchase::upgrade::reproject_if_due(&tx)?;
        crate::ops::favourites::reproject_if_due(&tx)?;
        crate::purchase::upgrade::project_costs_if_due(&tx)?;
        tx.commit()?;
        let tx = self.conn.transaction()?;
        crate::drawer::project::rebuild_if_due(&tx)?;
        tx.commit()?;
        Ok(())
    }

    /// Re-reads the store name and currency from the settings projection.
    pub(crate) fn reload_info(&mut self) -> Result<()> {
        let setting = |key: &str| -> Result<Option<String>> {
            Ok(self
                .conn
                .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                    r.get(0)
                })
                .optional()?)
        };
        self.info.store_name = setting("store_name")?.unwrap_or_default();
        if let Some(code) = setting("currency")? {
            self.currency =
                Currency::from_code(&code).map_err(|e| CoreError::Corrupt(e.to_string()))?;
            self.info.currency = self.currency.code().to_string();
        }
        // A zone this build's database does not know (set on a newer till)
        // must not stop the till: its days follow the machine until updated.
        let zone_setting = setting("time_zone")?.unwrap_or_default();
        self.zone = StoreZone::parse(&zone_setting).unwrap_or_else(|e| {
            tracing::warn!("{e}; report days follow this machine's zone");
            StoreZone::Machine
        });
        self.info.time_zone = self.zone.name().to_string();
        Ok(())
    }

    /// The store's time zone: report days and "today" follow it.
    pub fn zone(&self) -> StoreZone {
        self.zone
    }

    /// The store's calendar day now (by the store's clock, see `now_ms`).
    pub fn today(&self) -> chrono::NaiveDate {
        chrono::DateTime::from_timestamp_millis(self.now_ms())
            .map_or_else(|| self.zone.today(), |t| self.zone.date_of(t))
    }

    pub fn info(&self) -> &StoreInfo {
        &self.info
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying connection, for read-only queries by tests and tools.
    /// Never write `doc_changes` through it: the document cache catches up
    /// only with other connections' commits (`PRAGMA data_version`), so a
    /// change stored here behind its back would be missed until the store
    /// is opened again.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Pins the clock (tests, generated history). `None` returns to real time.
    pub fn set_now(&mut self, at: Option<DateTime<Utc>>) {
        self.fixed_now = at.map(|t| t.timestamp_millis());
    }

    pub fn now_ms(&self) -> i64 {
        self.fixed_now
            .unwrap_or_else(|| Utc::now().timestamp_millis())
    }

    /// Runs `f` in one IMMEDIATE transaction: documents, change log and
    /// projections commit together or not at all. On success, snapshots that
    /// have become due are handed to the background worker (or, with
    /// [`Snapshots::Inline`], written in a second transaction: the business
    /// write is already durable by then).
    pub(crate) fn write<T>(&mut self, f: impl FnOnce(&mut Writer<'_>) -> Result<T>) -> Result<T> {
        let now = self.now_ms();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut w = Writer {
            conn: &tx,
            docs: &mut self.docs,
            info: &self.info,
            acting: self.acting.as_ref(),
            now,
        };
        let out = match f(&mut w) {
            Ok(v) => v,
            Err(e) => {
                drop(tx);
                self.docs.discard_dirty();
                return Err(e);
            }
        };
        if let Err(e) = tx.commit() {
            self.docs.discard_dirty();
            return Err(e.into());
        }
        self.docs.clear_dirty();
        self.after_commit();
        Ok(out)
    }

    /// Snapshots and checkpoints after a committed write. Never fails the
    /// write: it is durable already, and a missing snapshot only makes the
    /// next load longer.
    fn after_commit(&mut self) {
        if self.snapshots == Snapshots::Background {
            self.commits_since_checkpoint += 1;
            // An enrolment download commits a page at a time, tens of MB:
            // the worker copies each into the database while the next is
            // applied (otherwise it checkpoints every 8 commits).
            let checkpoint = self.commits_since_checkpoint >= CHECKPOINT_EVERY_COMMITS
                || self.long_download.is_some();
            if !checkpoint && !self.docs.any_due() {
                return;
            }
            if self.hand_to_background(checkpoint) {
                return;
            }
            self.set_snapshots(Snapshots::Inline);
        }
        if let Err(e) = self.maintenance() {
            tracing::warn!("could not write a snapshot (will retry): {e}");
        }
    }

    /// `false` if the worker cannot start or has stopped.
    fn hand_to_background(&mut self, checkpoint: bool) -> bool {
        if self
            .background
            .as_ref()
            .is_some_and(Background::is_finished)
        {
            tracing::error!(
                "a background thread of the store stopped; snapshots and checkpoints are written inline"
            );
            self.finish_background();
            return false;
        }
        if self.background.is_none() {
            let worker = Background::start(&self.path, &self.info.till_id).and_then(|w| {
                // The worker checkpoints from now on; SQLite's own
                // checkpoint after a commit (copying and fsyncing before the
                // sale returns) steps in only far past its usual threshold.
                self.conn.pragma_update(
                    None,
                    "wal_autocheckpoint",
                    self.fallback_checkpoint_pages(),
                )?;
                Ok(w)
            });
            match worker {
                Ok(worker) => self.background = Some(worker),
                Err(e) => {
                    tracing::warn!("snapshots stay inline: {e}");
                    return false;
                }
            }
        }
        let Some(worker) = &self.background else {
            return false;
        };
        if !self.docs.any_due() && !checkpoint {
            return true;
        }
        let mut sent = worker.snapshot(self.docs.take_due());
        if checkpoint {
            self.commits_since_checkpoint = 0;
            sent &= worker.checkpoint();
        }
        if !sent {
            tracing::error!(
                "a background thread of the store stopped; snapshots and checkpoints are written inline"
            );
            self.finish_background();
        }
        sent
    }

    /// Where snapshots and checkpoints are written (inline by default).
    /// Leaving the background waits for the job in progress. Entering it
    /// starts the worker and its first checkpoint at once: a WAL left by a
    /// till that stopped without closing is copied off the sale path, and
    /// the first sale does not checkpoint at SQLite's usual threshold.
    pub fn set_snapshots(&mut self, mode: Snapshots) {
        self.snapshots = mode;
        match mode {
            Snapshots::Inline => self.finish_background(),
            Snapshots::Background => {
                if !self.hand_to_background(true) {
                    self.set_snapshots(Snapshots::Inline);
                }
            }
        }
    }

    /// A new till downloading its store at enrolment (no counter sells
    /// from the file yet) applies whole pages per transaction, hands a
    /// checkpoint to the background worker after every commit (off the
    /// applying thread), uses a page cache big enough for a large
    /// store's indexes, commits without waiting for an fsync, and builds
    /// the indexes the download does not read only at its end
    /// (`crate::enrol_indexes`). [`Store::end_enrol_download`] puts all of
    /// it back; a till that dies before gets its indexes back the next time
    /// its file is opened (and its fsyncs with every open).
    pub(crate) fn start_enrol_download(&mut self) {
        if self.long_download.is_some() {
            return;
        }
        self.long_download = Some(self.snapshots);
        self.snapshots = Snapshots::Background;
        self.reset_fallback_checkpoint();
        self.apply_chunk = crate::sync::ENROL_APPLY_CHUNK;
        if let Err(e) =
            self.conn
                .pragma_update(None, "cache_size", crate::db::LONG_DOWNLOAD_CACHE_KIB)
        {
            tracing::warn!("could not grow the page cache for the download: {e}");
        }
        // A power cut during the download loses at most the last pages
        // applied, never the file's consistency (WAL), and a page's cursor
        // commits with it, so those pages are downloaded again: no fsync
        // per commit (checkpoints still sync).
        if let Err(e) = self.conn.pragma_update(None, "synchronous", "NORMAL") {
            tracing::warn!("each page of the download waits for its fsync: {e}");
        }
        // Only slower without it: the indexes stay and are kept up to date.
        if let Err(e) = crate::enrol_indexes::defer(&mut self.conn) {
            tracing::warn!("the indexes are kept up to date during the download: {e}");
        }
    }

    /// Ends [`Store::start_enrol_download`], waiting for the worker's job in
    /// progress, creates the deferred indexes again, and empties the WAL the
    /// download grew (it would otherwise keep its size on disk). Runs after
    /// a failed download too. An error means the fsyncs are not back on
    /// this connection; indexes left pending are created by the next open
    /// of the file.
    pub(crate) fn end_enrol_download(&mut self) -> Result<()> {
        let Some(mode) = self.long_download.take() else {
            return Ok(());
        };
        self.set_snapshots(mode);
        self.reset_fallback_checkpoint();
        self.apply_chunk = crate::sync::APPLY_CHUNK;
        // Every later sale needs its fsync: a failure here is the caller's.
        let durable = self
            .conn
            .pragma_update(None, "synchronous", crate::db::SYNCHRONOUS);
        // With the download's page cache still (the sorts use it). A
        // failure is not the enrolment's: the till is enrolled and works
        // without them, and the next open of the file creates them.
        if let Err(e) = crate::enrol_indexes::restore(&mut self.conn) {
            tracing::warn!("the indexes the download deferred wait for the next open: {e}");
        }
        if let Err(e) = self
            .conn
            .pragma_update(None, "cache_size", crate::db::CACHE_KIB)
        {
            tracing::warn!("could not shrink the page cache after the download: {e}");
        }
        // TRUNCATE does not wait for the checkpoint thread's lock.
        self.wait_for_background();
        match self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                r.get::<_, i64>(0)
            }) {
            Ok(0) => {}
            Ok(_) => tracing::warn!("could not empty the WAL after the download: it is in use"),
            Err(e) => tracing::warn!("could not empty the WAL after the download: {e}"),
        }
        durable?;
        Ok(())
    }

    /// Where the till's own connection checkpoints in a commit while the
    /// worker checkpoints.
    fn fallback_checkpoint_pages(&self) -> i64 {
        if self.long_download.is_some() {
            DOWNLOAD_FALLBACK_CHECKPOINT_PAGES
        } else {
            SALE_FALLBACK_CHECKPOINT_PAGES
        }
    }

    /// After the fallback's inputs change, with the worker running.
    fn reset_fallback_checkpoint(&self) {
        if self.background.is_some()
            && let Err(e) = self.conn.pragma_update(
                None,
                "wal_autocheckpoint",
                self.fallback_checkpoint_pages(),
            )
        {
            tracing::warn!("could not move the WAL's fallback checkpoint: {e}");
        }
    }

    /// Stops the background worker after the job in progress (it starts
    /// again when needed) and gives checkpoints back to SQLite.
    pub fn finish_background(&mut self) {
        if self.background.take().is_some()
            && let Err(e) =
                self.conn
                    .pragma_update(None, "wal_autocheckpoint", SQLITE_AUTOCHECKPOINT_PAGES)
        {
            tracing::warn!("could not give checkpoints back to SQLite: {e}");
        }
    }

    /// Waits until the background worker has done every job queued so far
    /// (tests, and a till about to copy its file).
    pub fn wait_for_background(&mut self) {
        if let Some(worker) = &self.background {
            worker.wait_idle();
        }
    }

    /// How many changes on top of a snapshot make the next one due
    /// ([`crate::docs::SNAPSHOT_EVERY`] by default; tests lower it).
    pub fn set_snapshot_every(&mut self, changes: u64) {
        self.docs.set_snapshot_every(changes);
    }

    /// Writes the snapshots that have become due, on this thread. Returns how many.
    pub fn maintenance(&mut self) -> Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = self.docs.snapshot_due(&tx)?;
        if n > 0 {
            tx.commit()?;
        }
        Ok(n)
    }
}

/// SQLite's own checkpoint threshold (its default), while snapshots are inline.
pub(crate) const SQLITE_AUTOCHECKPOINT_PAGES: i64 = 1_000;
/// With the worker checkpointing, SQLite checkpoints in a sale's commit only
/// once the WAL reaches this: 2 GiB of 4 KB pages, ~15,000 sales (~135 KB of
/// WAL each) without one pause of ~25 ms between two of them. A sale that
/// checkpoints waits for a copy and two fsyncs, 20–100 ms under that load;
/// below this the WAL only grows while the worker's PASSIVE checkpoints
/// cannot catch up, and starts over at the first pause. (At 64 MB, selling
/// back-to-back made one sale in ~500 checkpoint: 33–57 ms.)
#[doc(hidden)]
pub const SALE_FALLBACK_CHECKPOINT_PAGES: i64 = 524_288;
/// During an enrolment download (no sale waits; a bounded WAL keeps its
/// page cache and disk use down): 64 MB.
const DOWNLOAD_FALLBACK_CHECKPOINT_PAGES: i64 = 16_384;

/// A partition with this many changes is not loaded again to append to it:
/// a write that would have to load it starts the month's next part instead.
/// Loading costs ~6 ms per 1,000 records; every part but the last holds
/// at least this many, so a month has at most records / 4,000 parts however
/// often the till is opened.
const FRESH_PART_AFTER: i64 = 4_000;

/// A till's name as the server takes it at enrolment (`api.rs`): refused
/// here too, a till never holds a name it cannot enrol with.
pub(crate) fn valid_till_name(value: &str) -> Result<String> {
    let name = required("till name", value)?;
    if name.len() > 100 || name.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            "till name",
            "a till name is at most 100 bytes, without control characters",
        ));
    }
    Ok(name)
}

fn required(what: &str, value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(CoreError::invalid(
            what,
            format!("{what} must not be empty"),
        ));
    }
    Ok(v.to_string())
}

/// The open write transaction, with the documents it may change.
pub(crate) struct Writer<'a> {
    pub conn: &'a Connection,
    pub docs: &'a mut DocCache,
    pub info: &'a StoreInfo,
    /// Who is acting (`Store::acting`): catalog edits need a manager.
    pub acting: Option<&'a crate::staff::Operator>,
    pub now: i64,
}

impl Writer<'_> {
    /// Edits the catalog and re-projects the root keys `edit` reports touching.
    pub fn catalog_edit(
        &mut self,
        edit: impl FnOnce(&mut automerge::AutoCommit) -> Result<Vec<String>>,
    ) -> Result<()> {
        crate::ops::catalog_fixes::ensure_catalog_writable(self.conn)?;
        // Staff: only a manager (or with a manager's approval) edits the catalog.
        crate::staff::authorize(self.conn, &[crate::staff::Action::EditCatalog], self.acting)?;
        let doc_id = DocId::catalog(&self.info.store_id);
        let mut touched = Vec::new();
        self.docs
            .commit_local(self.conn, &doc_id, self.now, |doc| {
                touched = edit(doc)?;
                Ok(())
            })?;
        let entry = self.docs.get(self.conn, &doc_id)?;
        for key in touched {
            projection::catalog::project_key(self.conn, &entry.doc, &key)?;
        }
        Ok(())
    }

    /// Appends a record to this till's ledger and projects it.
    pub fn append(&mut self, record: &Record) -> Result<()> {
        // The causal stamp (crate::clock), unless the operation set one.
        let mut stamped = record.clone();
        if !stamped.has_stamp() {
            stamped.stamp_if_missing(crate::clock::tick(self.conn, self.now, &self.info.till_id)?);
        }
        let record = &stamped;
        let id = record.id().to_string();
        // The server's rules, on the record itself: the change that puts it
        // is made without decoding (see DocCache::append_record).
        crate::validate::check_record(&id, record).map_err(|v| {
            CoreError::invalid(
                "record",
                format!("{} ({}): {}", v.record, v.rule.as_str(), v.detail),
            )
        })?;
        let doc_id = self.partition_for(record.at())?;
        let bytes = record.encode()?;
        self.docs
            .append_record(self.conn, &doc_id, self.now, &id, bytes)?;
        self.docs
            .retain(&[&doc_id, &DocId::catalog(&self.info.store_id)]);
        projection::ledger::apply(self.conn, &self.info.till_id, record)
    }

    /// This till's partition for a record dated `at`: the month's latest
    /// part, or a new part once that one is full — or, when that part is
    /// not in memory (the first write since the store opened, or since a
    /// sync or rebuild dropped it) and holds [`FRESH_PART_AFTER`] changes,
    /// the next part: the first sale of the day never waits to load a big
    /// partition (~90 ms for 14k records). Never past part 999. While the
    /// part last appended to stays loaded it is used without a look-up
    /// (another process on this file may have started a newer part since:
    /// records land correctly either way).
    fn partition_for(&mut self, at: i64) -> Result<DocId> {
        let when = DateTime::<Utc>::from_timestamp_millis(at)
            .ok_or_else(|| CoreError::invalid("time", "record time is out of range"))?;
        let base = DocId::ledger(&self.info.store_id, &self.info.till_id, when, 1).to_string();
        if let Some((month, doc_id)) = &self.docs.ledger_part
            && *month == base
            && self.docs.is_loaded(doc_id)
        {
            let doc_id = doc_id.clone();
            return self.part_with_room(doc_id, when);
        }
        let parts: Vec<String> = self
            .conn
            .prepare_cached(
                "SELECT doc_id FROM documents WHERE doc_id = ?1 OR doc_id LIKE ?1 || '.%'",
            )?
            .query_map(params![base], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let part = parts
            .iter()
            .map(|d| {
                d.rsplit_once('.')
                    .and_then(|(_, n)| n.parse::<u32>().ok())
                    .unwrap_or(1)
            })
            .max()
            .unwrap_or(1);
        let doc_id = DocId::ledger(&self.info.store_id, &self.info.till_id, when, part);
        if parts.is_empty() {
            return Ok(doc_id);
        }
        if self.docs.loaded(&doc_id).is_none() {
            let changes: i64 = self
                .conn
                .prepare_cached("SELECT COUNT(*) FROM doc_changes WHERE doc_id = ?1")?
                .query_row([doc_id.to_string()], |r| r.get(0))?;
            if changes >= FRESH_PART_AFTER && part < crate::ids::MAX_PARTITION {
                let next = DocId::ledger(&self.info.store_id, &self.info.till_id, when, part + 1);
                self.docs.ledger_part = Some((base, next.clone()));
                return Ok(next);
            }
        }
        self.docs.ledger_part = Some((base, doc_id.clone()));
        self.part_with_room(doc_id, when)
    }

    /// `doc_id`, or the part after it once it holds
    /// [`PARTITION_MAX_RECORDS`] records.
    fn part_with_room(&mut self, doc_id: DocId, when: DateTime<Utc>) -> Result<DocId> {
        let len = self.docs.records(self.conn, &doc_id)?;
        if len < PARTITION_MAX_RECORDS {
            return Ok(doc_id);
        }
        let part = doc_id.part().unwrap_or(1);
        let next = DocId::ledger(&self.info.store_id, &self.info.till_id, when, part + 1);
        if let Some((_, cached)) = &mut self.docs.ledger_part {
            *cached = next.clone();
        }
        Ok(next)
    }

    /// The next sale number of this till (stored with the sale, never reused).
    /// restore: it continues past the highest number of this till found in
    /// any sale the till holds (its own file may be an old backup while its
    /// later sales came back by sync or bundle).
    pub fn next_sale_seq(&mut self) -> Result<u64> {
        let seq: u64 = self
            .conn
            .prepare_cached(
                "UPDATE meta SET value = MAX(CAST(value AS INTEGER),
                     COALESCE((SELECT MAX(seq) FROM sales WHERE till_id = ?1 AND seq < 1000000000), 0)) + 1
                 WHERE key = 'sale_seq' RETURNING value",
            )?
            .query_row([&self.info.till_id], |r| r.get::<_, String>(0))?
            .parse()
            .map_err(|_| CoreError::Corrupt("sale counter is not a number".into()))?;
        Ok(seq)
    }
}

/// A new store at `path` for unit tests.
#[cfg(test)]
pub(crate) fn test_store(path: &Path) -> Result<Store> {
    Store::init(
        path,
        InitOptions {
            store_name: "S".into(),
            till_name: "A".into(),
            currency: "EUR".into(),
        },
    )
}

#[cfg(test)]
mod long_download_tests {
    use super::*;

    fn cache_size(s: &Store) -> i64 {
        s.conn
            .pragma_query_value(None, "cache_size", |r| r.get(0))
            .unwrap_or_default()
    }

    fn synchronous(s: &Store) -> i64 {
        s.conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap_or_default()
    }

    fn autocheckpoint(s: &Store) -> i64 {
        s.conn
            .pragma_query_value(None, "wal_autocheckpoint", |r| r.get(0))
            .unwrap_or_default()
    }

    #[test]
    fn the_tills_own_checkpoint_moves_with_the_worker_and_the_download() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| CoreError::io("tempdir", e))?;
        let mut s = crate::store::test_store(&dir.path().join("t.db"))?;
        assert_eq!(autocheckpoint(&s), SQLITE_AUTOCHECKPOINT_PAGES);
        s.set_snapshots(Snapshots::Background);
        assert!(s.background.is_some(), "the worker starts at once");
        assert_eq!(autocheckpoint(&s), SALE_FALLBACK_CHECKPOINT_PAGES);
        s.start_enrol_download();
        assert_eq!(autocheckpoint(&s), DOWNLOAD_FALLBACK_CHECKPOINT_PAGES);
        s.end_enrol_download()?;
        assert_eq!(autocheckpoint(&s), SALE_FALLBACK_CHECKPOINT_PAGES);
        s.set_snapshots(Snapshots::Inline);
        assert_eq!(autocheckpoint(&s), SQLITE_AUTOCHECKPOINT_PAGES);
        // A download that starts the worker itself.
        s.start_enrol_download();
        assert!(s.hand_to_background(true));
        assert_eq!(autocheckpoint(&s), DOWNLOAD_FALLBACK_CHECKPOINT_PAGES);
        s.end_enrol_download()?;
        assert_eq!(autocheckpoint(&s), SQLITE_AUTOCHECKPOINT_PAGES);
        Ok(())
    }

    #[test]
    fn an_enrolment_download_gives_back_the_page_cache_the_chunk_the_sync_and_the_snapshot_mode()
    -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| CoreError::io("tempdir", e))?;
        let mut s = crate::store::test_store(&dir.path().join("t.db"))?;
        assert_eq!(cache_size(&s), crate::db::CACHE_KIB);
        s.start_enrol_download();
        s.start_enrol_download();
        assert_eq!(s.snapshots, Snapshots::Background);
        assert_eq!(cache_size(&s), crate::db::LONG_DOWNLOAD_CACHE_KIB);
        assert_eq!(s.apply_chunk, crate::sync::ENROL_APPLY_CHUNK);
        assert_eq!(synchronous(&s), 1, "NORMAL");
        s.end_enrol_download()?;
        assert_eq!(synchronous(&s), 2, "FULL again");
        assert_eq!(s.apply_chunk, crate::sync::APPLY_CHUNK);
        assert_eq!(
            s.snapshots,
            Snapshots::Inline,
            "the mode before, not Background"
        );
        assert_eq!(cache_size(&s), crate::db::CACHE_KIB);
        // A till at the counter (Background already) stays in Background.
        s.set_snapshots(Snapshots::Background);
        s.start_enrol_download();
        s.end_enrol_download()?;
        assert_eq!(s.snapshots, Snapshots::Background);
        Ok(())
    }
}
