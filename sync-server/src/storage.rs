//! The server's storage, behind a trait so a PostgreSQL backend can follow
//! without touching the handlers. Every method is one atomic unit of work.
//!
//! Contract for implementations:
//! - `store_changes` validates dependencies and writes a whole batch in one
//!   transaction, or nothing;
//! - sequence numbers (`seq`) grow with commit order, so a reader that has
//!   seen seq N will never later see a new change with seq <= N (SQLite gets
//!   this from its single writer; PostgreSQL takes a per-store counter
//!   under a row lock in the same transaction, postgres.rs);
//! - a backend several instances share returns a `notice_listener` and
//!   announces each write that stored new changes to them in the write's
//!   transaction (notice_bus.rs).

use std::collections::HashSet;
use std::future::Future;
use std::path::Path;

use shopsync_core::access::Role;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The input cannot be stored (missing dependencies, a bad code).
    #[error("{0}")]
    Invalid(String),
    /// The enrolment code is unknown, used or expired.
    #[error("{0}")]
    BadCode(String),
    /// The database failed; details are logged, not shown to clients.
    #[error("storage backend: {0}")]
    Backend(String),
    /// The database cannot be reached now (PostgreSQL down, restarting or
    /// out of connections): the request was not applied and may be retried
    /// (503). Details are logged, not shown to clients.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        let text = e.to_string();
        // A file `migrate-storage` moved refuses writes (its triggers): the
        // request may be retried against the PostgreSQL server.
        if text.contains(crate::migrate_storage::MOVED) {
            return StorageError::Unavailable(text);
        }
        // Another process holds the file's write lock past the busy
        // timeout (migrate-storage copying it, a backup tool): try later.
        if let rusqlite::Error::SqliteFailure(f, _) = &e
            && matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            )
        {
            return StorageError::Unavailable(text);
        }
        StorageError::Backend(text)
    }
}

pub type StorageResult<T> = Result<T, StorageError>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreRow {
    pub pk: i64,
    pub store_id: String,
    pub name: String,
}

/// What an enrolling device asks for (the code is already normalised).
#[derive(Debug, Clone)]
pub struct EnrolInput {
    pub code_hash: [u8; 32],
    pub till_id: String,
    pub till_name: String,
    pub store_id: Option<String>,
    pub device_id: String,
    pub token_hash: [u8; 32],
    pub now_ms: i64,
    // -- hostile bodies: server-assigned till ids, idempotent enrolment --
    /// The till id the server gives a new till (one with no store).
    pub assigned_till_id: String,
}

#[derive(Debug, Clone)]
pub struct Enrolled {
    pub store: StoreRow,
    pub role: Role,
    // -- hostile bodies: server-assigned till ids, idempotent enrolment --
    /// The device: the new one, or the one this code enrolled before (a
    /// retry after a lost answer), whose token is now replaced.
    pub device_id: String,
    /// The till id the device writes as.
    pub till_id: String,
}

/// A device as authentication sees it.
#[derive(Debug, Clone)]
pub struct DeviceAuth {
    pub device_id: String,
    pub token_hash: [u8; 32],
    pub revoked: bool,
    pub role: Role,
    pub till_id: String,
    pub store: StoreRow,
    /// The enrolment that made this device may still be retried (its answer
    /// may have been lost): true until the device's token is first used.
    pub enrol_retry_open: bool,
    /// A customer's device: the customer id (role `Customer`, store the
    /// reserved `~customers` row, till id empty). None for a till or a
    /// manager.
    pub customer: Option<String>,
}

/// The store id of the reserved row that owns customers' documents (`~` is
/// never valid in a real store id).
pub const CUSTOMERS_STORE_ID: &str = "~customers";

/// A new customer and its first device (fields already checked).
#[derive(Debug, Clone)]
pub struct NewCustomer {
    pub customer_id: String,
    pub name: String,
    pub email: Option<String>,
    pub device_id: String,
    pub device_name: String,
    pub token_hash: [u8; 32],
    pub now_ms: i64,
}

/// A device joining a customer with a link code (already normalised).
#[derive(Debug, Clone)]
pub struct LinkInput {
    pub code_hash: [u8; 32],
    pub device_id: String,
    pub device_name: String,
    pub token_hash: [u8; 32],
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerDeviceRow {
    pub device_id: String,
    pub device_name: String,
    pub created_at: i64,
    pub revoked: bool,
}

/// A customer and its devices (oldest first), read together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRow {
    pub customer_id: String,
    pub name: String,
    pub email: Option<String>,
    pub created_at: i64,
    pub devices: Vec<CustomerDeviceRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeviceRow {
    pub device_id: String,
    pub role: Role,
    pub revoked: bool,
    pub till_id: String,
    pub till_name: String,
    pub created_at: i64,
}

/// A change already decoded and checked against the caller's rights.
#[derive(Debug, Clone)]
pub struct NewChange {
    pub hash: [u8; 32],
    pub deps: Vec<[u8; 32]>,
    pub bytes: Vec<u8>,
    // -- hostile bodies --
    /// The change's size once inflated (its stored size if not compressed).
    pub inflated_len: u64,
    // restore: the change's Automerge actor and sequence number.
    pub actor: Vec<u8>,
    pub actor_seq: u64,
}

/// An answer page also stops before its changes inflate past this (a page
/// of 8 MiB of compressed changes could otherwise inflate to gigabytes in
/// the till that downloads it).
pub const PAGE_INFLATED_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct DocBatch {
    pub doc_id: String,
    pub changes: Vec<NewChange>,
}

#[derive(Debug, Clone, Default)]
pub struct Stored {
    pub new_changes: u64,
    pub known_changes: u64,
    pub new_documents: u64,
    /// The store's highest seq after the write.
    pub head: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Page {
    pub docs: Vec<(String, Vec<Vec<u8>>)>,
    pub changes: u64,
    pub bytes: u64,
    pub cursor: u64,
    pub head: u64,
    pub more: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Totals {
    pub stores: u64,
    pub devices: u64,
    pub documents: u64,
    pub changes: u64,
}

pub trait Storage: Send + Sync + 'static {
    fn create_store(
        &self,
        name: String,
        now_ms: i64,
    ) -> impl Future<Output = StorageResult<StoreRow>> + Send;

    fn find_store(
        &self,
        store_id: String,
    ) -> impl Future<Output = StorageResult<Option<StoreRow>>> + Send;

    /// Stores a code's hash for `store_id`; with `till_id`, the code may
    /// only enrol that till (an offline till bringing its history).
    fn create_enrol_code(
        &self,
        store_id: String,
        role: Role,
        code_hash: [u8; 32],
        now_ms: i64,
        expires_ms: i64,
        till_id: Option<String>,
    ) -> impl Future<Output = StorageResult<()>> + Send;

    /// Uses a code (once) and creates the device; an empty store adopts the
    /// enrolling till's store id.
    fn enrol(&self, input: EnrolInput) -> impl Future<Output = StorageResult<Enrolled>> + Send;

    fn device(
        &self,
        device_id: String,
    ) -> impl Future<Output = StorageResult<Option<DeviceAuth>>> + Send;

    /// The device's token has been used: its enrolment can no longer be
    /// retried (whoever else holds the code cannot take the device over).
    fn close_enrol_retry(
        &self,
        device_id: String,
    ) -> impl Future<Output = StorageResult<()>> + Send;

    fn list_devices(
        &self,
        store_id: String,
    ) -> impl Future<Output = StorageResult<Vec<DeviceRow>>> + Send;

    /// Marks a device (a till's, a manager's or a customer's) revoked;
    /// false if it does not exist.
    fn revoke_device(
        &self,
        device_id: String,
        now_ms: i64,
    ) -> impl Future<Output = StorageResult<bool>> + Send;

    /// Stores a validated batch: all of it, or nothing.
    fn store_changes(
        &self,
        store_pk: i64,
        batch: Vec<DocBatch>,
    ) -> impl Future<Output = StorageResult<Stored>> + Send;

    /// Changes of the store with seq > `since`, oldest first, skipping
    /// `exclude`, up to about `max_bytes`.
    fn changes_since(
        &self,
        store_pk: i64,
        since: u64,
        exclude: HashSet<[u8; 32]>,
        max_bytes: u64,
    ) -> impl Future<Output = StorageResult<Page>> + Send;

    /// Like `changes_since`, only changes with seq <= `until`; once every
    /// one up to `until` was looked at, the cursor is `until` (or the head).
    /// A backend without an outbox never needs it: no bound (it derives no
    /// replica events, so it is never asked for one).
    fn changes_until(
        &self,
        store_pk: i64,
        since: u64,
        until: u64,
        max_bytes: u64,
    ) -> impl Future<Output = StorageResult<Page>> + Send {
        let _ = until;
        self.changes_since(store_pk, since, HashSet::new(), max_bytes)
    }

    fn head(&self, store_pk: i64) -> impl Future<Output = StorageResult<u64>> + Send;

    /// How many changes the store holds (at least roughly: it decides
    /// whether a store is large). By default its head.
    fn change_count(&self, store_pk: i64) -> impl Future<Output = StorageResult<u64>> + Send {
        self.head(store_pk)
    }

    fn totals(&self) -> impl Future<Output = StorageResult<Totals>> + Send;

    /// Whether this instance can serve now: its database opens afresh and
    /// reads at the schema this server migrated it to (`/readyz`).
    fn ready(&self) -> impl Future<Output = StorageResult<()>> + Send;

    /// restore: this database's epoch (identity per database lifetime).
    fn epoch(&self) -> String;

    /// A consistent copy of the database, taken while it serves. restore:
    /// the copy gets a fresh epoch.
    fn backup(&self, to: &Path) -> impl Future<Output = StorageResult<()>> + Send;

    // -- hostile bodies: quotas --

    /// How many documents of the store have ids starting with `prefix`, and
    /// how many of `candidates` the store does not have yet.
    fn count_documents(
        &self,
        store_pk: i64,
        prefix: String,
        candidates: Vec<String>,
    ) -> impl Future<Output = StorageResult<(u64, u64)>> + Send;

    // -- customers: documents followed one by one, and shops to find --

    /// The store whose scope holds `doc_id`, if the document exists.
    fn document_scope(
        &self,
        doc_id: String,
    ) -> impl Future<Output = StorageResult<Option<i64>>> + Send;

    /// One document's changes with seq > `since`, oldest first, skipping
    /// `exclude`, up to about `max_bytes` (at least one change).
    fn document_changes_since(
        &self,
        doc_id: String,
        since: u64,
        exclude: HashSet<[u8; 32]>,
        max_bytes: u64,
    ) -> impl Future<Output = StorageResult<DocPage>> + Send;

    /// Records whether a store publishes its catalog, under what name;
    /// returns whether it published before (`None`: no listing yet).
    fn set_shop_listing(
        &self,
        store_pk: i64,
        name: String,
        published: bool,
        now_ms: i64,
    ) -> impl Future<Output = StorageResult<Option<bool>>> + Send;

    /// Whether the store publishes its catalog now (as last derived).
    fn shop_published(&self, store_pk: i64) -> impl Future<Output = StorageResult<bool>> + Send;

    /// Stores whose listing says they publish, or that have none (never
    /// derived, or their derivation did not finish): what the public
    /// catalog's deriver looks at when it starts.
    fn stores_maybe_publishing(&self) -> impl Future<Output = StorageResult<Vec<StoreRow>>> + Send;

    /// Shops that publish, by name, those whose name contains `search`
    /// (any case) if given; at most `limit`.
    fn published_shops(
        &self,
        search: Option<String>,
        limit: u32,
    ) -> impl Future<Output = StorageResult<Vec<StoreRow>>> + Send;

    // -- customer accounts (docs/PROTOCOL.md, "Customer accounts") --

    /// Creates a customer and its first device.
    fn create_customer(&self, input: NewCustomer)
    -> impl Future<Output = StorageResult<()>> + Send;

    /// Stores a link code's hash for `customer_id`, valid until `expires_ms`.
    fn create_link_code(
        &self,
        customer_id: String,
        code_hash: [u8; 32],
        now_ms: i64,
        expires_ms: i64,
    ) -> impl Future<Output = StorageResult<()>> + Send;

    /// Uses a link code (once) and creates the device; returns the
    /// customer id. `BadCode` for an unknown, used or expired code.
    fn link_device(&self, input: LinkInput) -> impl Future<Output = StorageResult<String>> + Send;

    /// The customer and all its devices (revoked ones too); None if unknown.
    fn customer(
        &self,
        customer_id: String,
    ) -> impl Future<Output = StorageResult<Option<CustomerRow>>> + Send;

    /// Revokes `device_id` if it is a device of `customer_id`; false if it
    /// is not (unknown, or another customer's). Revoking twice is true.
    fn revoke_customer_device(
        &self,
        customer_id: String,
        device_id: String,
        now_ms: i64,
    ) -> impl Future<Output = StorageResult<bool>> + Send;

    /// The reserved store row (`~customers`) that owns customers' documents.
    fn customers_scope(&self) -> impl Future<Output = StorageResult<StoreRow>> + Send;

    // -- several instances (notice_bus.rs) --

    /// What hears other instances' writes to this database, if several
    /// instances can share it (PostgreSQL: `store_changes` then also
    /// notifies them in its transaction). None: one process writes
    /// (SQLite), its notices stay in process.
    fn notice_listener(&self) -> Option<crate::notice_bus::Listener> {
        None
    }

    // -- events for other systems (docs/EVENTS.md): the outbox --

    /// Whether this backend keeps an event outbox (`--nats` needs one).
    fn keeps_outbox(&self) -> bool {
        false
    }

    /// Like `store_changes`, and queues in the outbox, in the same
    /// transaction, a reference to each change new to the server of a
    /// document whose changes give events (`events::yields_events`): the
    /// publisher derives the events from the stored change.
    fn store_changes_with_events(
        &self,
        store_pk: i64,
        batch: Vec<DocBatch>,
    ) -> impl Future<Output = StorageResult<Stored>> + Send {
        async move {
            let _ = (store_pk, batch);
            Err(StorageError::Backend(
                "this storage backend keeps no event outbox".into(),
            ))
        }
    }

    /// Up to `limit` outbox entries with an id above `after`, oldest first,
    /// each change entry with its stored change; stops early once the
    /// entries read pass `OUTBOX_BATCH_BYTES` (changes inflated, whole
    /// events by their payload; at least one entry).
    fn outbox_batch(
        &self,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = StorageResult<Vec<OutboxRow>>> + Send {
        let _ = (after, limit);
        async { Ok(Vec::new()) }
    }

    /// Removes the entries with these ids (all their events acknowledged or
    /// set aside): by id, not by range, as a lower id may commit later.
    /// `dead` (entry id, reason): change entries whose events could not all
    /// be derived, recorded in `event_change_dead_letters` in the same
    /// transaction, only by the call that deleted the entry (another
    /// publisher may have handled it already). Returns how many dead
    /// letters this call wrote.
    fn outbox_delete(
        &self,
        ids: Vec<i64>,
        dead: Vec<(i64, String)>,
    ) -> impl Future<Output = StorageResult<u64>> + Send {
        let _ = (ids, dead);
        async { Ok(0) }
    }

    /// JetStream refused an event for good: it goes to the dead letters
    /// with `error`; the entry it came from is deleted (an event entry) or
    /// marks `handled` events of its change done (a change entry), in one
    /// transaction. Only the call that deleted or moved the entry writes
    /// the dead letter; returns whether it did.
    fn outbox_dead_letter(
        &self,
        entry: i64,
        handled: u32,
        event: crate::events::OutboxEvent,
        error: String,
    ) -> impl Future<Output = StorageResult<bool>> + Send {
        let _ = (entry, handled, event, error);
        async { Ok(false) }
    }

    /// The first `handled` events of a change entry are in the stream:
    /// saved when a batch fails partway through the entry, so a change
    /// with many events advances even if NATS fails before it is all out.
    /// Never moves back.
    fn outbox_progress(
        &self,
        entry: i64,
        handled: u32,
    ) -> impl Future<Output = StorageResult<()>> + Send {
        let _ = (entry, handled);
        async { Ok(()) }
    }

    /// Whether this backend keeps the event cursors that catalog and stock
    /// events (derived on replicas) need.
    fn keeps_event_cursors(&self) -> bool {
        false
    }

    /// At start (`enabled`: with `--nats`): where the events derived from
    /// replicas (catalog, stock) start for stores that never had any.
    fn start_replica_events(
        &self,
        enabled: bool,
    ) -> impl Future<Output = StorageResult<()>> + Send {
        let _ = enabled;
        async { Ok(()) }
    }

    /// The sequence number up to which a store's replica events were
    /// derived; None: not derived (no outbox, or not started with `--nats`).
    fn replica_events_from(
        &self,
        store_pk: i64,
    ) -> impl Future<Output = StorageResult<Option<u64>>> + Send {
        let _ = store_pk;
        async { Ok(None) }
    }

    /// Stores with changes past their replica event cursor (catalog and
    /// stock events not derived yet): derived at start, so changes stored
    /// just before a stop are not left waiting for the shop's next sync.
    fn stores_behind_events(&self) -> impl Future<Output = StorageResult<Vec<StoreRow>>> + Send {
        async { Ok(Vec::new()) }
    }

    /// Takes, or renews, this instance's lease on deriving a store's
    /// replica events: false while another instance holds it (several
    /// instances on one database each keep replicas; one at a time derives
    /// a store's events, or a page could be queued twice).
    fn lease_replica_events(
        &self,
        store_pk: i64,
    ) -> impl Future<Output = StorageResult<bool>> + Send {
        let _ = store_pk;
        async { Ok(true) }
    }

    /// Gives the lease of [`Storage::lease_replica_events`] back.
    fn release_replica_events(
        &self,
        store_pk: i64,
    ) -> impl Future<Output = StorageResult<()>> + Send {
        let _ = store_pk;
        async { Ok(()) }
    }

    /// Queues events derived from a store's replica and moves its cursor
    /// to `upto`, in one transaction (refused if this instance lost the
    /// store's lease).
    /// `from`: the cursor the events' page started after (several
    /// instances: refused unless the cursor is still there).
    fn queue_replica_events(
        &self,
        store_pk: i64,
        from: u64,
        upto: u64,
        events: Vec<crate::events::OutboxEvent>,
    ) -> impl Future<Output = StorageResult<()>> + Send {
        let _ = (store_pk, from, upto, events);
        async {
            Err(StorageError::Backend(
                "this storage backend keeps no event outbox".into(),
            ))
        }
    }

    /// How many events wait (an estimate), and when the oldest was queued (ms).
    fn outbox_backlog(&self) -> impl Future<Output = StorageResult<OutboxBacklog>> + Send {
        async { Ok(OutboxBacklog::default()) }
    }
}

/// One document's changes after a cursor.
#[derive(Debug, Clone, Default)]
pub struct DocPage {
    pub changes: Vec<Vec<u8>>,
    pub bytes: u64,
    /// The seq of the last change looked at (or `since`).
    pub cursor: u64,
    pub more: bool,
}

/// Bytes one `outbox_batch` reads at most (past its first entry): changes
/// counted inflated, whole events by their payload. What the publisher
/// holds at once stays below this plus one entry
/// (`MAX_INFLATED_CHANGE_BYTES`), and the derived events' JSON.
pub const OUTBOX_BATCH_BYTES: u64 = 8 * 1024 * 1024;

/// An entry of the outbox: one event, or a change whose events are derived
/// when published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub created_ms: i64,
    pub entry: OutboxEntry,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxEntry {
    Event(crate::events::OutboxEvent),
    Change {
        store_pk: i64,
        seq: i64,
        /// Its first `handled` events are acknowledged or set aside.
        handled: u32,
        /// None: the change is not in the database.
        stored: Option<StoredChange>,
    },
}

/// A change as the server stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChange {
    pub doc_id: String,
    pub hash: [u8; 32],
    pub bytes: Vec<u8>,
}

/// The outbox's size, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxBacklog {
    /// Outbox ids from the oldest to the newest waiting: the number waiting
    /// unless ids were skipped (cheap to read, unlike `count(*)`).
    pub events: u64,
    /// When the oldest waiting event was queued (ms), if any waits.
    pub oldest_ms: Option<i64>,
}
