//! This browser's device: the core's [`Device`] (documents, cursors,
//! unsent changes) kept in memory for the page and in IndexedDB across
//! sessions, the account, and the signals the screens redraw from.
//!
//! Every edit is applied to the device at once and saved to IndexedDB
//! right after; the sync runs in the background (`sync.rs`) and never
//! holds an edit up.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::rc::Rc;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use shopsync_core::customer_device::Device;
use shopsync_core::{CoreError, Result as CoreResult};

use crate::persist::{self, StorageError};

/// Meta keys in IndexedDB.
const KEY_ACCOUNT: &str = "account";
const KEY_LOCAL_ID: &str = "local_customer_id";
const KEY_EPOCH: &str = "server_epoch";
const KEY_LOOKED_AT: &str = "looked_at";

/// The account this browser belongs to (the token stays in IndexedDB,
/// readable only by this origin).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub customer_id: String,
    pub device_id: String,
    pub token: String,
    pub name: Option<String>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("customer_id", &self.customer_id)
            .field("device_id", &self.device_id)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// What the sync indicator shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncState {
    /// No account yet: everything stays on this device.
    Local,
    Syncing,
    Synced,
    Offline,
    Error,
    /// The account's owner revoked this device.
    Revoked,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyncView {
    pub state: SyncState,
    pub waiting: usize,
    /// Milliseconds since the epoch.
    pub last_sync: Option<f64>,
    pub message: Option<String>,
}

/// The signals every screen reads.
#[derive(Clone, Copy)]
pub struct Ctx {
    /// Bumped after every change to the device's documents.
    pub rev: RwSignal<u64>,
    pub sync: RwSignal<SyncView>,
    pub account: RwSignal<Option<Account>>,
    /// A message for the customer (an error from the last action).
    pub message: RwSignal<Option<String>>,
    /// The device is loaded from IndexedDB.
    pub ready: RwSignal<bool>,
}

impl Ctx {
    pub fn new() -> Ctx {
        Ctx {
            rev: RwSignal::new(0),
            sync: RwSignal::new(SyncView {
                state: SyncState::Local,
                waiting: 0,
                last_sync: None,
                message: None,
            }),
            account: RwSignal::new(None),
            message: RwSignal::new(None),
            ready: RwSignal::new(false),
        }
    }

    pub fn token(&self) -> Option<String> {
        self.account.get_untracked().map(|a| a.token)
    }
}

thread_local! {
    static SAVING: Cell<bool> = const { Cell::new(false) };
    static SAVE_AGAIN: Cell<bool> = const { Cell::new(false) };
    static DEVICE: RefCell<Option<Device>> = const { RefCell::new(None) };
    static DB: RefCell<Option<Rc<idb::Database>>> = const { RefCell::new(None) };
}

pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// Reads the device (`None` before it is loaded).
pub fn read<T>(f: impl FnOnce(&Device) -> T) -> Option<T> {
    DEVICE.with(|d| d.borrow().as_ref().map(f))
}

fn write<T>(f: impl FnOnce(&mut Device) -> CoreResult<T>) -> CoreResult<T> {
    DEVICE.with(|d| match d.borrow_mut().as_mut() {
        Some(dev) => f(dev),
        None => Err(CoreError::Conflict("still loading".into())),
    })
}

fn db() -> Option<Rc<idb::Database>> {
    DB.with(|d| d.borrow().clone())
}

/// Opens IndexedDB and loads the device.
pub async fn boot(ctx: Ctx) -> Result<(), StorageError> {
    let db = persist::open().await?;
    let account: Option<Account> = persist::meta(&db, KEY_ACCOUNT)
        .await?
        .and_then(|v| serde_json::from_str(&v).ok());
    let customer_id = match &account {
        Some(a) => a.customer_id.clone(),
        None => match persist::meta(&db, KEY_LOCAL_ID).await? {
            Some(id) => id,
            None => {
                let id = shopsync_core::ids::new_id();
                persist::save(&db, &[], &[(KEY_LOCAL_ID, Some(id.clone()))]).await?;
                id
            }
        },
    };
    let mut device = Device::new(&customer_id);
    device.set_epoch(persist::meta(&db, KEY_EPOCH).await?);
    let looked: Vec<String> = persist::meta(&db, KEY_LOOKED_AT)
        .await?
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default();
    for s in looked {
        let _ = device.look_at(&s);
    }
    for (id, stored) in persist::load_docs(&db).await? {
        if let Err(e) = device.load(&id, stored) {
            // One damaged record must not keep the app from opening.
            web_sys::console::warn_1(&format!("document {id} was not loaded: {e}").into());
        }
    }
    // Lists a tab kept writing under the local id after another tab
    // signed up join the account's document (and are sent).
    let strays = device.absorb_stray_customer_docs().unwrap_or(0);
    if strays == 0 {
        device.take_dirty();
    }
    DEVICE.with(|d| *d.borrow_mut() = Some(device));
    DB.with(|d| *d.borrow_mut() = Some(Rc::new(db)));
    if strays > 0 {
        leptos::task::spawn_local(async move {
            if let Err(e) = persist().await {
                ctx.message.set(Some(e.to_string()));
            }
        });
    }
    ctx.account.set(account);
    ctx.ready.set(true);
    refresh_waiting(ctx);
    ctx.rev.update(|r| *r += 1);
    Ok(())
}

fn refresh_waiting(ctx: Ctx) {
    let waiting = read(Device::changes_waiting).unwrap_or(0);
    ctx.sync.update(|s| s.waiting = waiting);
}

/// Saves what changed since the last save: each changed document merged
/// with what another tab may have stored, then written whole. One save at
/// a time (an older copy never overwrites a newer one); a save asked for
/// meanwhile runs right after. What a failed save held is saved next time.
pub async fn persist() -> Result<(), StorageError> {
    if SAVING.with(|s| s.replace(true)) {
        SAVE_AGAIN.with(|a| a.set(true));
        return Ok(());
    }
    let mut result = Ok(());
    loop {
        SAVE_AGAIN.with(|a| a.set(false));
        if let Err(e) = save_dirty().await {
            result = Err(e);
            break;
        }
        if !SAVE_AGAIN.with(|a| a.get()) {
            break;
        }
    }
    SAVING.with(|s| s.set(false));
    result
}

async fn save_dirty() -> Result<(), StorageError> {
    let Some(db) = db() else { return Ok(()) };
    let dirty: BTreeSet<String> = DEVICE.with(|d| {
        d.borrow_mut()
            .as_mut()
            .map(Device::take_dirty)
            .unwrap_or_default()
    });
    let result = write_docs(&db, &dirty).await;
    if result.is_err() {
        let _ = write(|d| {
            d.mark_dirty(dirty);
            Ok(())
        });
    }
    result
}

async fn write_docs(db: &idb::Database, dirty: &BTreeSet<String>) -> Result<(), StorageError> {
    let mut docs = Vec::with_capacity(dirty.len());
    for id in dirty.iter().cloned() {
        let merge = read(|d| d.doc_ids().contains(&id) && !d.must_overwrite(&id)).unwrap_or(false);
        if merge && let Ok(Some(theirs)) = persist::load_doc(db, &id).await {
            // A failed merge keeps ours; the record is rewritten below.
            let _ = write(|d| d.merge_stored(&id, theirs));
        }
        let stored = DEVICE.with(|d| d.borrow_mut().as_mut().and_then(|dev| dev.stored(&id)));
        docs.push((id, stored));
    }
    let (epoch, looked) = read(|d| {
        (
            d.epoch().map(str::to_string),
            serde_json::to_string(&d.looked_at().iter().collect::<Vec<_>>()).ok(),
        )
    })
    .unwrap_or_default();
    persist::save(db, &docs, &[(KEY_EPOCH, epoch), (KEY_LOOKED_AT, looked)]).await?;
    let _ = write(|d| {
        d.overwritten(dirty);
        Ok(())
    });
    Ok(())
}

/// Applies one edit, redraws, saves it and asks for a sync. An error is
/// shown and changes nothing.
pub fn edit<T>(ctx: Ctx, f: impl FnOnce(&mut Device, i64) -> CoreResult<T>) -> Option<T> {
    let now = now_ms();
    match write(|d| f(d, now)) {
        Ok(v) => {
            ctx.message.set(None);
            after_change(ctx);
            crate::sync::soon(ctx);
            Some(v)
        }
        Err(e) => {
            ctx.message.set(Some(e.to_string()));
            None
        }
    }
}

/// Redraws and saves after the device changed.
pub fn after_change(ctx: Ctx) {
    ctx.rev.update(|r| *r += 1);
    refresh_waiting(ctx);
    leptos::task::spawn_local(async move {
        if let Err(e) = persist().await {
            ctx.message.set(Some(e.to_string()));
        }
    });
}

/// Runs `f` on the device (for sync), without redrawing.
pub fn with_device<T>(f: impl FnOnce(&mut Device) -> CoreResult<T>) -> CoreResult<T> {
    write(f)
}

/// Records the account this browser signed up for or linked to: the
/// documents kept under the local id move to the account's.
pub async fn adopt(ctx: Ctx, account: Account) -> Result<(), String> {
    write(|d| d.adopt_account(&account.customer_id)).map_err(|e| e.to_string())?;
    persist().await.map_err(|e| e.to_string())?;
    let Some(db) = db() else {
        return Err("still loading".into());
    };
    let json = serde_json::to_string(&account).map_err(|e| e.to_string())?;
    persist::save(&db, &[], &[(KEY_ACCOUNT, Some(json)), (KEY_LOCAL_ID, None)])
        .await
        .map_err(|e| e.to_string())?;
    ctx.account.set(Some(account));
    ctx.rev.update(|r| *r += 1);
    Ok(())
}

/// Forgets the account on this browser (after the device was revoked):
/// the lists stay here, and signing up or linking again takes them along.
pub async fn forget_account(ctx: Ctx) -> Result<(), String> {
    let Some(db) = db() else {
        return Err("still loading".into());
    };
    // The documents stay under this id, now a local one, until the device
    // signs up or links again.
    let id = read(|d| d.customer_id().to_string()).unwrap_or_default();
    persist::save(&db, &[], &[(KEY_ACCOUNT, None), (KEY_LOCAL_ID, Some(id))])
        .await
        .map_err(|e| e.to_string())?;
    ctx.account.set(None);
    ctx.sync.update(|s| {
        s.state = SyncState::Local;
        s.message = None;
    });
    Ok(())
}
