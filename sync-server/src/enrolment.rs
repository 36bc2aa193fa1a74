//! Enrolment: which till id a code may claim, and retries after a lost
//! answer (the rules, shared by both backends), and the SQLite transaction
//! (postgres_enrolment.rs has PostgreSQL's). See docs/PROTOCOL.md,
//! "Enrolment".
//!
//! - A new till (no store) gets a till id from the server; what it sent as
//!   `till_id` is only its request key.
//! - A till bringing its history keeps its till id only if the code was made
//!   for that till (`enrol-code create --till-id ID`), or if it is the first
//!   till of an empty store, with the manager code (it adopts the store).
//!   Otherwise a code holder could claim the id of a till that has not
//!   enrolled yet and write that till's ledger.
//! - The same code and request key sent again while the code is valid get
//!   the device the code made, with a fresh token (the old one stops
//!   working): a till whose answer was lost can simply try again.

use rusqlite::{OptionalExtension, Transaction, params};
use shopsync_core::access::Role;

use crate::sqlite::{role_of, store_by_id};
use crate::storage::{EnrolInput, Enrolled, StorageError, StorageResult, StoreRow};

pub(crate) struct CodeRow {
    pub store_pk: i64,
    pub role: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub used_by: Option<String>,
    pub till_id: Option<String>,
}

/// What a valid, unused code lets this enrolment do (decided by [`claim`],
/// the same for every backend).
pub(crate) struct Claim {
    /// The till id the new device writes as.
    pub till_id: String,
    /// The store id an empty store adopts (the first till's own), if any.
    pub adopt: Option<String>,
}

/// The code exists and has not expired.
pub(crate) fn check_code(code: Option<CodeRow>, now_ms: i64) -> StorageResult<CodeRow> {
    let Some(code) = code else {
        return Err(StorageError::BadCode("unknown enrolment code".into()));
    };
    if code.expires_at < now_ms {
        return Err(StorageError::BadCode(
            "this enrolment code has expired".into(),
        ));
    }
    Ok(code)
}

/// Which till id an unused code may claim for this device in `store`
/// (`empty`: the store has no devices and no documents yet). The caller
/// still checks that an adopted store id is not another store's.
pub(crate) fn claim(
    input: &EnrolInput,
    code: &CodeRow,
    store: &StoreRow,
    role: Role,
    empty: bool,
) -> StorageResult<Claim> {
    match &input.store_id {
        Some(id) if *id == store.store_id || !empty => {
            if *id != store.store_id {
                return Err(StorageError::Conflict(format!(
                    "this till belongs to store {id}, but the code is for store {} which already has data",
                    store.store_id
                )));
            }
            // A till bringing its history into a store with data: only with
            // a code made for this very till.
            if code.till_id.as_deref() != Some(input.till_id.as_str()) {
                return Err(StorageError::Conflict(format!(
                    "this till (till id {}) brings its own history: enrol it with a code made for it \
                     (shopsync-server enrol-code create --store {} --role till --till-id {})",
                    input.till_id, store.store_id, input.till_id
                )));
            }
            Ok(Claim {
                till_id: input.till_id.clone(),
                adopt: None,
            })
        }
        Some(id) => {
            // An empty store adopts the first till's store id.
            if role != Role::Manager {
                return Err(StorageError::Conflict(
                    "this server store is empty: the first till to join must use the manager code from `store create`".into(),
                ));
            }
            if let Some(bound) = &code.till_id
                && *bound != input.till_id
            {
                return Err(StorageError::Conflict(format!(
                    "this code was made for till {bound}, not for this till ({})",
                    input.till_id
                )));
            }
            Ok(Claim {
                till_id: input.till_id.clone(),
                adopt: Some(id.clone()),
            })
        }
        None if empty => Err(StorageError::Conflict(
            "this server store is empty: first enrol a till that has the store (it uploads it), then new tills can join".into(),
        )),
        None => {
            if let Some(bound) = &code.till_id {
                return Err(StorageError::Conflict(format!(
                    "this code was made for till {bound}, which brings its own history; a new till needs a code made without --till-id"
                )));
            }
            Ok(Claim {
                till_id: input.assigned_till_id.clone(),
                adopt: None,
            })
        }
    }
}

/// An adopted store id that another store already has.
pub(crate) fn adopt_taken(id: &str) -> StorageError {
    StorageError::Conflict(format!(
        "store {id} already exists on this server under another name: enrol with a code of that store"
    ))
}

/// The till id is enrolled in the store already.
pub(crate) fn till_taken(till_id: &str) -> StorageError {
    StorageError::Conflict(format!(
        "till {till_id} is already enrolled in this store (revoke it and enrol as a new till)"
    ))
}

pub(crate) fn code_used() -> StorageError {
    StorageError::BadCode("this enrolment code has been used already".into())
}

/// The device a used code made, as a retry sees it.
pub(crate) struct RetryDevice {
    pub role: String,
    pub till_id: String,
    pub enrol_key: Option<String>,
    pub revoked: bool,
}

/// A used code: the same request again (same key, same store) may get the
/// device back (`Some(device_id)` with the device); anything else is refused.
pub(crate) fn retry_allowed<'a>(
    input: &EnrolInput,
    store: &StoreRow,
    device: Option<&'a RetryDevice>,
) -> StorageResult<&'a RetryDevice> {
    let Some(device) = device else {
        return Err(code_used());
    };
    let same_store = input
        .store_id
        .as_ref()
        .is_none_or(|id| *id == store.store_id);
    if device.revoked || device.enrol_key.as_deref() != Some(input.till_id.as_str()) || !same_store
    {
        return Err(code_used());
    }
    Ok(device)
}

pub(crate) fn enrol_tx(tx: &Transaction<'_>, input: &EnrolInput) -> StorageResult<Enrolled> {
    let code: Option<CodeRow> = tx
        .query_row(
            "SELECT store_pk, role, expires_at, used_at, used_by, till_id
             FROM enrol_codes WHERE code_hash = ?1",
            [input.code_hash.as_slice()],
            |r| {
                Ok(CodeRow {
                    store_pk: r.get(0)?,
                    role: r.get(1)?,
                    expires_at: r.get(2)?,
                    used_at: r.get(3)?,
                    used_by: r.get(4)?,
                    till_id: r.get(5)?,
                })
            },
        )
        .optional()?;
    let code = check_code(code, input.now_ms)?;
    let mut store: StoreRow = tx.query_row(
        "SELECT pk, store_id, name FROM stores WHERE pk = ?1",
        [code.store_pk],
        |r| {
            Ok(StoreRow {
                pk: r.get(0)?,
                store_id: r.get(1)?,
                name: r.get(2)?,
            })
        },
    )?;
    if code.used_at.is_some() {
        return retry(tx, input, &code, store);
    }
    let role = role_of(&code.role)?;
    let devices: i64 = tx.query_row(
        "SELECT COUNT(*) FROM devices WHERE store_pk = ?1",
        [code.store_pk],
        |r| r.get(0),
    )?;
    let documents: i64 = tx.query_row(
        "SELECT COUNT(*) FROM documents WHERE store_pk = ?1",
        [code.store_pk],
        |r| r.get(0),
    )?;
    let empty = devices == 0 && documents == 0;
    let Claim { till_id, adopt } = claim(input, &code, &store, role, empty)?;
    if let Some(id) = adopt {
        if store_by_id(tx, &id)?.is_some() {
            return Err(adopt_taken(&id));
        }
        tx.execute(
            "UPDATE stores SET store_id = ?1 WHERE pk = ?2",
            params![id, code.store_pk],
        )?;
        store.store_id = id;
    }
    let taken: bool = tx
        .prepare("SELECT 1 FROM devices WHERE store_pk = ?1 AND till_id = ?2")?
        .exists(params![code.store_pk, till_id])?;
    if taken {
        return Err(till_taken(&till_id));
    }
    tx.execute(
        "UPDATE enrol_codes SET used_at = ?1, used_by = ?2 WHERE code_hash = ?3",
        params![input.now_ms, input.device_id, input.code_hash.as_slice()],
    )?;
    tx.execute(
        "INSERT INTO devices (device_id, store_pk, role, till_id, till_name, token_hash, created_at, enrol_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            input.device_id,
            code.store_pk,
            role.as_str(),
            till_id,
            input.till_name,
            input.token_hash.as_slice(),
            input.now_ms,
            input.till_id
        ],
    )?;
    Ok(Enrolled {
        store,
        role,
        device_id: input.device_id.clone(),
        till_id,
    })
}

/// A used code: the same request again (same key, same store) gets the
/// device the code made, with the new token; anything else is refused.
fn retry(
    tx: &Transaction<'_>,
    input: &EnrolInput,
    code: &CodeRow,
    store: StoreRow,
) -> StorageResult<Enrolled> {
    let Some(device_id) = &code.used_by else {
        return Err(code_used());
    };
    let device: Option<RetryDevice> = tx
        .query_row(
            "SELECT role, till_id, enrol_key, revoked_at IS NOT NULL FROM devices
             WHERE device_id = ?1 AND store_pk = ?2",
            params![device_id, code.store_pk],
            |r| {
                Ok(RetryDevice {
                    role: r.get(0)?,
                    till_id: r.get(1)?,
                    enrol_key: r.get(2)?,
                    revoked: r.get(3)?,
                })
            },
        )
        .optional()?;
    let device = retry_allowed(input, &store, device.as_ref())?;
    tx.execute(
        "UPDATE devices SET token_hash = ?1 WHERE device_id = ?2",
        params![input.token_hash.as_slice(), device_id],
    )?;
    Ok(Enrolled {
        store,
        role: role_of(&device.role)?,
        device_id: device_id.clone(),
        till_id: device.till_id.clone(),
    })
}
