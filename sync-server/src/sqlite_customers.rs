//! Customer accounts in the SQLite backend (migration `04-customers`): the
//! `Storage` methods' bodies, called from `impl Storage for SqliteStorage`
//! in sqlite.rs. Each one is one transaction (or one statement).

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use shopsync_core::access::Role;

use crate::sqlite::{SqliteStorage, hash32};
use crate::storage::{
    CUSTOMERS_STORE_ID, CustomerDeviceRow, CustomerRow, DeviceAuth, LinkInput, NewCustomer,
    StorageError, StorageResult, StoreRow,
};

/// The reserved `~customers` store row.
pub(crate) fn customers_scope(conn: &Connection) -> StorageResult<StoreRow> {
    conn.prepare_cached("SELECT pk, store_id, name FROM stores WHERE store_id = ?1")?
        .query_row([CUSTOMERS_STORE_ID], crate::sqlite::store_row)
        .optional()?
        .ok_or_else(|| {
            StorageError::Backend(format!(
                "the reserved store row {CUSTOMERS_STORE_ID} is missing (migration 04-customers)"
            ))
        })
}

/// A customer's device as authentication sees it, or None.
pub(crate) fn customer_device_auth(
    conn: &Connection,
    device_id: &str,
) -> StorageResult<Option<DeviceAuth>> {
    Ok(conn
        .prepare_cached(
            "SELECT d.device_id, d.token_hash, d.revoked_at IS NOT NULL, d.customer_id,
                    s.pk, s.store_id, s.name
             FROM customer_devices d JOIN stores s ON s.store_id = ?2
             WHERE d.device_id = ?1",
        )?
        .query_row(params![device_id, CUSTOMERS_STORE_ID], |r| {
            Ok(DeviceAuth {
                device_id: r.get(0)?,
                token_hash: hash32(r.get(1)?),
                revoked: r.get(2)?,
                role: Role::Customer,
                till_id: String::new(),
                store: StoreRow {
                    pk: r.get(4)?,
                    store_id: r.get(5)?,
                    name: r.get(6)?,
                },
                enrol_retry_open: false,
                customer: Some(r.get(3)?),
            })
        })
        .optional()?)
}

/// Revokes a customer's device (of `customer` only, when given); false if
/// there is no such device. An already revoked device keeps its time.
pub(crate) fn revoke_customer_device(
    conn: &Connection,
    customer: Option<&str>,
    device_id: &str,
    now_ms: i64,
) -> StorageResult<bool> {
    let n = conn.execute(
        "UPDATE customer_devices SET revoked_at = COALESCE(revoked_at, ?1)
         WHERE device_id = ?2 AND (?3 IS NULL OR customer_id = ?3)",
        params![now_ms, device_id, customer],
    )?;
    Ok(n > 0)
}

fn insert_device(
    conn: &Connection,
    customer_id: &str,
    device_id: &str,
    device_name: &str,
    token_hash: &[u8; 32],
    now_ms: i64,
) -> StorageResult<()> {
    conn.execute(
        "INSERT INTO customer_devices (device_id, customer_id, device_name, token_hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            device_id,
            customer_id,
            device_name,
            token_hash.as_slice(),
            now_ms
        ],
    )?;
    Ok(())
}

impl SqliteStorage {
    pub(crate) async fn create_customer_impl(&self, input: NewCustomer) -> StorageResult<()> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT INTO customers (customer_id, name, email, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![input.customer_id, input.name, input.email, input.now_ms],
            )?;
            insert_device(
                &tx,
                &input.customer_id,
                &input.device_id,
                &input.device_name,
                &input.token_hash,
                input.now_ms,
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn create_link_code_impl(
        &self,
        customer_id: String,
        code_hash: [u8; 32],
        now_ms: i64,
        expires_ms: i64,
    ) -> StorageResult<()> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let known = tx
                .prepare_cached("SELECT 1 FROM customers WHERE customer_id = ?1")?
                .exists([&customer_id])?;
            if !known {
                return Err(StorageError::NotFound(format!(
                    "no customer '{customer_id}'"
                )));
            }
            tx.execute(
                "INSERT INTO customer_link_codes (code_hash, customer_id, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![code_hash.as_slice(), customer_id, now_ms, expires_ms],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn link_device_impl(&self, input: LinkInput) -> StorageResult<String> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let code: Option<(String, i64, Option<i64>)> = tx
                .query_row(
                    "SELECT customer_id, expires_at, used_at FROM customer_link_codes
                     WHERE code_hash = ?1",
                    [input.code_hash.as_slice()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let Some((customer_id, expires_at, used_at)) = code else {
                return Err(StorageError::BadCode("unknown link code".into()));
            };
            if used_at.is_some() {
                return Err(StorageError::BadCode(
                    "this link code has been used already".into(),
                ));
            }
            if expires_at < input.now_ms {
                return Err(StorageError::BadCode("this link code has expired".into()));
            }
            tx.execute(
                "UPDATE customer_link_codes SET used_at = ?1, used_by = ?2 WHERE code_hash = ?3",
                params![input.now_ms, input.device_id, input.code_hash.as_slice()],
            )?;
            insert_device(
                &tx,
                &customer_id,
                &input.device_id,
                &input.device_name,
                &input.token_hash,
                input.now_ms,
            )?;
            tx.commit()?;
            Ok(customer_id)
        })
        .await
    }

    pub(crate) async fn customer_impl(
        &self,
        customer_id: String,
    ) -> StorageResult<Option<CustomerRow>> {
        self.read(move |conn| {
            // One read transaction: the customer and its devices agree.
            let tx = conn.unchecked_transaction()?;
            let found: Option<(String, Option<String>, i64)> = tx
                .query_row(
                    "SELECT name, email, created_at FROM customers WHERE customer_id = ?1",
                    [&customer_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let Some((name, email, created_at)) = found else {
                return Ok(None);
            };
            let devices = {
                let mut stmt = tx.prepare_cached(
                    "SELECT device_id, device_name, created_at, revoked_at IS NOT NULL
                     FROM customer_devices WHERE customer_id = ?1
                     ORDER BY created_at, device_id",
                )?;
                let rows = stmt.query_map([&customer_id], |r| {
                    Ok(CustomerDeviceRow {
                        device_id: r.get(0)?,
                        device_name: r.get(1)?,
                        created_at: r.get(2)?,
                        revoked: r.get(3)?,
                    })
                })?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            tx.commit()?;
            Ok(Some(CustomerRow {
                customer_id,
                name,
                email,
                created_at,
                devices,
            }))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::storage::Storage;

    fn new_customer(id: &str, device: &str) -> NewCustomer {
        NewCustomer {
            customer_id: id.into(),
            name: "Ana".into(),
            email: None,
            device_id: device.into(),
            device_name: "phone".into(),
            token_hash: [1; 32],
            now_ms: 1_000,
        }
    }

    fn link(code: u8, device: &str, now_ms: i64) -> LinkInput {
        LinkInput {
            code_hash: [code; 32],
            device_id: device.into(),
            device_name: "laptop".into(),
            token_hash: [2; 32],
            now_ms,
        }
    }

    /// A link code works once, before it expires; a failed link stores no
    /// device; the reserved store is hidden from lookups and the count.
    #[tokio::test(flavor = "multi_thread")]
    async fn link_codes_are_single_use_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let st = SqliteStorage::open(&dir.path().join("s.db")).unwrap();
        st.create_customer(new_customer("c1", "d1")).await.unwrap();
        st.create_link_code("c1".into(), [7; 32], 1_000, 2_000)
            .await
            .unwrap();
        st.create_link_code("c1".into(), [8; 32], 1_000, 2_000)
            .await
            .unwrap();
        assert!(matches!(
            st.link_device(link(9, "dx", 1_500)).await,
            Err(StorageError::BadCode(_))
        ));
        assert!(matches!(
            st.link_device(link(8, "dy", 2_001)).await,
            Err(StorageError::BadCode(m)) if m.contains("expired")
        ));
        assert_eq!(st.link_device(link(7, "d2", 1_500)).await.unwrap(), "c1");
        assert!(matches!(
            st.link_device(link(7, "d3", 1_600)).await,
            Err(StorageError::BadCode(m)) if m.contains("used")
        ));
        let c = st.customer("c1".into()).await.unwrap().unwrap();
        let ids: Vec<&str> = c.devices.iter().map(|d| d.device_id.as_str()).collect();
        assert_eq!(ids, ["d1", "d2"]);
        assert!(matches!(
            st.create_link_code("nobody".into(), [5; 32], 0, 1).await,
            Err(StorageError::NotFound(_))
        ));

        let auth = st.device("d2".into()).await.unwrap().unwrap();
        assert_eq!(auth.role, Role::Customer);
        assert_eq!(auth.customer.as_deref(), Some("c1"));
        assert_eq!(auth.store, st.customers_scope().await.unwrap());
        assert_eq!(auth.store.store_id, CUSTOMERS_STORE_ID);
        assert!(
            st.find_store(CUSTOMERS_STORE_ID.into())
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(st.totals().await.unwrap().stores, 0);

        // Another customer cannot revoke c1's device; c1 can; admin can.
        st.create_customer(new_customer("c2", "e1")).await.unwrap();
        assert!(
            !st.revoke_customer_device("c2".into(), "d2".into(), 3_000)
                .await
                .unwrap()
        );
        assert!(!st.device("d2".into()).await.unwrap().unwrap().revoked);
        assert!(
            st.revoke_customer_device("c1".into(), "d2".into(), 3_000)
                .await
                .unwrap()
        );
        assert!(st.device("d2".into()).await.unwrap().unwrap().revoked);
        assert!(st.revoke_device("e1".into(), 3_000).await.unwrap());
        assert!(st.device("e1".into()).await.unwrap().unwrap().revoked);
        assert!(!st.revoke_device("nothing".into(), 3_000).await.unwrap());
    }
}
