//! Customer accounts in the PostgreSQL backend: the `Storage` methods'
//! bodies, called from `impl Storage for PgStorage` in postgres.rs, with the
//! same rules as sqlite_customers.rs. A link code's row is locked while it
//! is used, so it links one device only.

use deadpool_postgres::{GenericClient, Object};
use shopsync_core::access::Role;

use crate::postgres::{col, exec, opt, pg, rows};
use crate::postgres_docs::store_row_by_id;
use crate::sqlite::hash32;
use crate::storage::{
    CUSTOMERS_STORE_ID, CustomerDeviceRow, CustomerRow, DeviceAuth, LinkInput, NewCustomer,
    StorageError, StorageResult, StoreRow,
};

/// The reserved `~customers` store row.
pub(crate) async fn customers_scope<C: GenericClient>(c: &C) -> StorageResult<StoreRow> {
    store_row_by_id(c, CUSTOMERS_STORE_ID)
        .await?
        .ok_or_else(|| {
            StorageError::Backend(format!(
                "the reserved store row {CUSTOMERS_STORE_ID} is missing (migration V1__initial)"
            ))
        })
}

/// A customer's device as authentication sees it, or None.
pub(crate) async fn customer_device_auth<C: GenericClient>(
    c: &C,
    device_id: &str,
) -> StorageResult<Option<DeviceAuth>> {
    let Some(r) = opt(
        c,
        "SELECT d.device_id, d.token_hash, d.revoked_at IS NOT NULL, d.customer_id,
                s.pk, s.store_id, s.name
         FROM customer_devices d JOIN stores s ON s.store_id = $2
         WHERE d.device_id = $1",
        &[&device_id, &CUSTOMERS_STORE_ID],
    )
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(DeviceAuth {
        device_id: col(&r, 0)?,
        token_hash: hash32(col(&r, 1)?),
        revoked: col(&r, 2)?,
        role: Role::Customer,
        till_id: String::new(),
        store: StoreRow {
            pk: col(&r, 4)?,
            store_id: col(&r, 5)?,
            name: col(&r, 6)?,
        },
        enrol_retry_open: false,
        customer: Some(col(&r, 3)?),
    }))
}

/// Revokes a customer's device (of `customer` only, when given); false if
/// there is no such device. An already revoked device keeps its time.
pub(crate) async fn revoke_customer_device<C: GenericClient>(
    c: &C,
    customer: Option<&str>,
    device_id: &str,
    now_ms: i64,
) -> StorageResult<bool> {
    let n = exec(
        c,
        "UPDATE customer_devices SET revoked_at = COALESCE(revoked_at, $1)
         WHERE device_id = $2 AND ($3::text IS NULL OR customer_id = $3)",
        &[&now_ms, &device_id, &customer],
    )
    .await?;
    Ok(n > 0)
}

async fn insert_device<C: GenericClient>(
    c: &C,
    customer_id: &str,
    device_id: &str,
    device_name: &str,
    token_hash: &[u8; 32],
    now_ms: i64,
) -> StorageResult<()> {
    exec(
        c,
        "INSERT INTO customer_devices (device_id, customer_id, device_name, token_hash, created_at)
         VALUES ($1, $2, $3, $4, $5)",
        &[
            &device_id,
            &customer_id,
            &device_name,
            &token_hash.as_slice(),
            &now_ms,
        ],
    )
    .await?;
    Ok(())
}

pub(crate) async fn create_customer(c: &mut Object, input: NewCustomer) -> StorageResult<()> {
    let tx = c.transaction().await.map_err(pg)?;
    exec(
        &tx,
        "INSERT INTO customers (customer_id, name, email, created_at) VALUES ($1, $2, $3, $4)",
        &[&input.customer_id, &input.name, &input.email, &input.now_ms],
    )
    .await?;
    insert_device(
        &tx,
        &input.customer_id,
        &input.device_id,
        &input.device_name,
        &input.token_hash,
        input.now_ms,
    )
    .await?;
    tx.commit().await.map_err(pg)
}

pub(crate) async fn create_link_code<C: GenericClient>(
    c: &C,
    customer_id: &str,
    code_hash: [u8; 32],
    now_ms: i64,
    expires_ms: i64,
) -> StorageResult<()> {
    // One statement: the customer is checked and the code stored together.
    let n = exec(
        c,
        "INSERT INTO customer_link_codes (code_hash, customer_id, created_at, expires_at)
         SELECT $1, customer_id, $3, $4 FROM customers WHERE customer_id = $2",
        &[&code_hash.as_slice(), &customer_id, &now_ms, &expires_ms],
    )
    .await?;
    if n == 0 {
        return Err(StorageError::NotFound(format!(
            "no customer '{customer_id}'"
        )));
    }
    Ok(())
}

pub(crate) async fn link_device(c: &mut Object, input: LinkInput) -> StorageResult<String> {
    let tx = c.transaction().await.map_err(pg)?;
    let code_hash = input.code_hash.as_slice();
    let Some(r) = opt(
        &tx,
        "SELECT customer_id, expires_at, used_at FROM customer_link_codes
         WHERE code_hash = $1 FOR UPDATE",
        &[&code_hash],
    )
    .await?
    else {
        return Err(StorageError::BadCode("unknown link code".into()));
    };
    let customer_id: String = col(&r, 0)?;
    let expires_at: i64 = col(&r, 1)?;
    let used_at: Option<i64> = col(&r, 2)?;
    if used_at.is_some() {
        return Err(StorageError::BadCode(
            "this link code has been used already".into(),
        ));
    }
    if expires_at < input.now_ms {
        return Err(StorageError::BadCode("this link code has expired".into()));
    }
    exec(
        &tx,
        "UPDATE customer_link_codes SET used_at = $1, used_by = $2 WHERE code_hash = $3",
        &[&input.now_ms, &input.device_id, &code_hash],
    )
    .await?;
    insert_device(
        &tx,
        &customer_id,
        &input.device_id,
        &input.device_name,
        &input.token_hash,
        input.now_ms,
    )
    .await?;
    tx.commit().await.map_err(pg)?;
    Ok(customer_id)
}

pub(crate) async fn customer(
    c: &mut Object,
    customer_id: &str,
) -> StorageResult<Option<CustomerRow>> {
    // One snapshot: the customer and its devices agree.
    let tx = c
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(pg)?;
    let Some(r) = opt(
        &tx,
        "SELECT name, email, created_at FROM customers WHERE customer_id = $1",
        &[&customer_id],
    )
    .await?
    else {
        return Ok(None);
    };
    let devices = rows(
        &tx,
        "SELECT device_id, device_name, created_at, revoked_at IS NOT NULL
         FROM customer_devices WHERE customer_id = $1
         ORDER BY created_at, device_id",
        &[&customer_id],
    )
    .await?
    .iter()
    .map(|d| {
        Ok(CustomerDeviceRow {
            device_id: col(d, 0)?,
            device_name: col(d, 1)?,
            created_at: col(d, 2)?,
            revoked: col(d, 3)?,
        })
    })
    .collect::<StorageResult<Vec<_>>>()?;
    tx.commit().await.map_err(pg)?;
    Ok(Some(CustomerRow {
        customer_id: customer_id.to_string(),
        name: col(&r, 0)?,
        email: col(&r, 1)?,
        created_at: col(&r, 2)?,
        devices,
    }))
}
