//! Admin commands (`store create`, `enrol-code create`, `device list`,
//! `device revoke`, `backup`), run by the binary against the database.

use std::path::Path;
use std::time::Duration;

use rand::Rng;
use shopsync_core::access::Role;

use crate::api::normalise_code;
use crate::auth::sha256;
use crate::storage::{DeviceRow, Storage, StorageError, StoreRow};

/// Letters and digits that cannot be misread (no 0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A fresh code, `XXXX-XXXX-XXXX` (about 59 bits).
pub fn new_code() -> String {
    let mut rng = rand::rng();
    let chars: Vec<char> = (0..12)
        .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Creates an enrolment code for a store; returns it (shown once).
pub async fn create_code<S: Storage>(
    storage: &S,
    store_id: &str,
    role: Role,
    ttl: Duration,
) -> Result<String, StorageError> {
    create_code_for(storage, store_id, role, ttl, None).await
}

/// Creates an enrolment code; with `till_id`, one that only that till (an
/// offline till bringing its history) can use.
pub async fn create_code_for<S: Storage>(
    storage: &S,
    store_id: &str,
    role: Role,
    ttl: Duration,
    till_id: Option<&str>,
) -> Result<String, StorageError> {
    if let Some(t) = till_id
        && (t.is_empty()
            || t.len() > 64
            || !t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    {
        return Err(StorageError::Invalid(
            "--till-id must be 1-64 letters, digits or dashes (`shopsync info` on the till shows it)"
                .into(),
        ));
    }
    let code = new_code();
    let now = now_ms();
    storage
        .create_enrol_code(
            store_id.to_string(),
            role,
            sha256(normalise_code(&code).as_bytes()),
            now,
            now + ttl.as_millis() as i64,
            till_id.map(str::to_string),
        )
        .await?;
    Ok(code)
}

/// Creates a store and its first (manager) enrolment code.
pub async fn create_store<S: Storage>(
    storage: &S,
    name: &str,
    ttl: Duration,
) -> Result<(StoreRow, String), StorageError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(StorageError::Invalid("a store needs a name".into()));
    }
    let store = storage.create_store(name.to_string(), now_ms()).await?;
    let code = create_code(storage, &store.store_id, Role::Manager, ttl).await?;
    Ok((store, code))
}

pub async fn list_devices<S: Storage>(
    storage: &S,
    store_id: &str,
) -> Result<Vec<DeviceRow>, StorageError> {
    storage.list_devices(store_id.to_string()).await
}

pub async fn revoke<S: Storage>(storage: &S, device_id: &str) -> Result<(), StorageError> {
    if storage
        .revoke_device(device_id.to_string(), now_ms())
        .await?
    {
        Ok(())
    } else {
        Err(StorageError::NotFound(format!("no device '{device_id}'")))
    }
}

pub async fn backup<S: Storage>(storage: &S, to: &Path) -> Result<(), StorageError> {
    storage.backup(to).await
}
