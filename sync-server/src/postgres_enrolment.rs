//! Enrolment in the PostgreSQL backend: the rules of enrolment.rs, in one
//! transaction. The code's row and then the store's row are locked first, so
//! two devices using one code, or two codes of one empty store, at the same
//! time take turns (SQLite gets this from its single writer).

use deadpool_postgres::GenericClient;

use crate::enrolment::{
    Claim, CodeRow, RetryDevice, adopt_taken, check_code, claim, code_used, retry_allowed,
    till_taken,
};
use crate::postgres::{col, exec, one, opt, role_text, store_by_id, store_row};
use crate::storage::{EnrolInput, Enrolled, StorageResult};

pub(crate) async fn enrol_tx<C: GenericClient>(
    tx: &C,
    input: &EnrolInput,
) -> StorageResult<Enrolled> {
    let code_hash = input.code_hash.as_slice();
    let code = match opt(
        tx,
        "SELECT store_pk, role, expires_at, used_at, used_by, till_id
         FROM enrol_codes WHERE code_hash = $1 FOR UPDATE",
        &[&code_hash],
    )
    .await?
    {
        Some(r) => Some(CodeRow {
            store_pk: col(&r, 0)?,
            role: col(&r, 1)?,
            expires_at: col(&r, 2)?,
            used_at: col(&r, 3)?,
            used_by: col(&r, 4)?,
            till_id: col(&r, 5)?,
        }),
        None => None,
    };
    let code = check_code(code, input.now_ms)?;
    let mut store = store_row(
        &one(
            tx,
            "SELECT pk, store_id, name FROM stores WHERE pk = $1 FOR UPDATE",
            &[&code.store_pk],
        )
        .await?,
    )?;
    if code.used_at.is_some() {
        return retry(tx, input, &code, store).await;
    }
    let role = role_text(&code.role)?;
    let counts = one(
        tx,
        "SELECT (SELECT COUNT(*) FROM devices WHERE store_pk = $1),
                (SELECT COUNT(*) FROM documents WHERE store_pk = $1)",
        &[&code.store_pk],
    )
    .await?;
    let empty = col::<i64>(&counts, 0)? == 0 && col::<i64>(&counts, 1)? == 0;
    let Claim { till_id, adopt } = claim(input, &code, &store, role, empty)?;
    if let Some(id) = adopt {
        if store_by_id(tx, &id).await?.is_some() {
            return Err(adopt_taken(&id));
        }
        exec(
            tx,
            "UPDATE stores SET store_id = $1 WHERE pk = $2",
            &[&id, &code.store_pk],
        )
        .await?;
        store.store_id = id;
    }
    let taken = opt(
        tx,
        "SELECT 1 FROM devices WHERE store_pk = $1 AND till_id = $2",
        &[&code.store_pk, &till_id],
    )
    .await?
    .is_some();
    if taken {
        return Err(till_taken(&till_id));
    }
    exec(
        tx,
        "UPDATE enrol_codes SET used_at = $1, used_by = $2 WHERE code_hash = $3",
        &[&input.now_ms, &input.device_id, &code_hash],
    )
    .await?;
    exec(
        tx,
        "INSERT INTO devices (device_id, store_pk, role, till_id, till_name, token_hash, created_at, enrol_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &input.device_id,
            &code.store_pk,
            &role.as_str(),
            &till_id,
            &input.till_name,
            &input.token_hash.as_slice(),
            &input.now_ms,
            &input.till_id,
        ],
    )
    .await?;
    Ok(Enrolled {
        store,
        role,
        device_id: input.device_id.clone(),
        till_id,
    })
}

/// A used code: the same request again gets the device the code made, with
/// the new token; anything else is refused.
async fn retry<C: GenericClient>(
    tx: &C,
    input: &EnrolInput,
    code: &CodeRow,
    store: crate::storage::StoreRow,
) -> StorageResult<Enrolled> {
    let Some(device_id) = &code.used_by else {
        return Err(code_used());
    };
    let device = match opt(
        tx,
        "SELECT role, till_id, enrol_key, revoked_at IS NOT NULL FROM devices
         WHERE device_id = $1 AND store_pk = $2",
        &[device_id, &code.store_pk],
    )
    .await?
    {
        Some(r) => Some(RetryDevice {
            role: col(&r, 0)?,
            till_id: col(&r, 1)?,
            enrol_key: col(&r, 2)?,
            revoked: col(&r, 3)?,
        }),
        None => None,
    };
    let device = retry_allowed(input, &store, device.as_ref())?;
    exec(
        tx,
        "UPDATE devices SET token_hash = $1 WHERE device_id = $2",
        &[&input.token_hash.as_slice(), device_id],
    )
    .await?;
    Ok(Enrolled {
        store,
        role: role_text(&device.role)?,
        device_id: device_id.clone(),
        till_id: device.till_id.clone(),
    })
}
