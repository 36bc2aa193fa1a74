//! A new till's enrolment download builds some projection indexes only at
//! its end (issue 11): whatever way the download ends — done, failed, or
//! the till dying half way — the file ends with exactly the schema of a
//! fresh store, and the data in the indexes matches the tables.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{R, Till, product, sell_cash, verify_clean};
use rusqlite::Connection;
use shopsync_core::access::Role;
use shopsync_core::sync::client::{Exchanged, SyncError, Transport, enrol_via};
use shopsync_core::sync::wire::{DocChanges, PROTOCOL_VERSION, SyncResponse};
use shopsync_core::sync::{EnrolRequest, EnrolResponse};
use shopsync_core::{InitOptions, Store};

/// What the fake server does when asked for its third page.
#[derive(Clone, Copy, PartialEq)]
enum Third {
    /// Answers it, the last page.
    Answer,
    /// Copies the till's file as it is committed (what a till that died
    /// now would leave), then answers.
    CopyThenAnswer,
    /// Fails (a server error half way).
    Fail,
}

/// A server holding one store: page 1 is every change of it, page 2 is
/// empty, page 3 ends the download (or not: [`Third`]).
#[derive(Clone)]
struct Fake {
    store_id: String,
    docs: Vec<DocChanges>,
    third: Third,
    till_file: PathBuf,
    copy_to: PathBuf,
    calls: Arc<AtomicUsize>,
}

impl Transport for Fake {
    fn enrol(&self, req: &EnrolRequest) -> Result<EnrolResponse, SyncError> {
        Ok(EnrolResponse {
            device_id: "dev-new".into(),
            token: "token".into(),
            store_id: self.store_id.clone(),
            store_name: "S".into(),
            role: Role::Till,
            till_id: format!("till-{}", req.till_name),
        })
    }

    fn exchange_with_epoch(
        &self,
        _req: &shopsync_core::sync::wire::SyncRequest,
        _known: Option<&str>,
    ) -> Result<Exchanged, SyncError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        // The third request is made once the first page is committed (it
        // is fetched while the empty second one is applied).
        if n == 3 {
            match self.third {
                Third::Answer => {}
                Third::CopyThenAnswer => {
                    let c = Connection::open(&self.till_file)
                        .map_err(|e| SyncError::Network(e.to_string()))?;
                    c.execute("VACUUM INTO ?1", [self.copy_to.to_string_lossy()])
                        .map_err(|e| SyncError::Network(e.to_string()))?;
                }
                Third::Fail => {
                    return Err(SyncError::Refused {
                        status: 500,
                        message: "the server broke half way".into(),
                    });
                }
            }
        }
        let docs = if n == 1 {
            self.docs.clone()
        } else {
            Vec::new()
        };
        Ok(Exchanged {
            response: SyncResponse {
                version: PROTOCOL_VERSION,
                cursor: n as u64,
                head: 3,
                more: n < 3,
                acked: Vec::new(),
                docs,
            },
            sent: 0,
            received: 0,
            epoch: None,
            server_time_ms: None,
        })
    }

    fn with_token(&self, _token: &str) -> Result<Self, SyncError> {
        Ok(self.clone())
    }

    fn base(&self) -> &str {
        "http://127.0.0.1:1"
    }
}

/// A store with a catalog, stock, and sales (the rows the deferred
/// indexes cover), as the fake server's one page.
fn source(dir: &Path) -> Result<(Store, Vec<DocChanges>), Box<dyn std::error::Error>> {
    let mut a = Till {
        stock: vec![
            (product("C1", "Cola", 150), 100),
            (product("W1", "Water", 90), 50),
        ],
        ..Till::default()
    }
    .open(dir)?;
    for i in 0..30 {
        sell_cash(
            &mut a,
            if i % 2 == 0 { "C1" } else { "W1" },
            1 + i % 3,
            1_000,
        )?;
    }
    let docs = a
        .export_bundle()?
        .docs
        .into_iter()
        .map(|(id, changes)| DocChanges {
            doc_id: id.to_string(),
            changes: changes.iter().map(|c| c.raw_bytes().to_vec()).collect(),
        })
        .collect();
    Ok((a, docs))
}

fn fake(dir: &Path, a: &Store, docs: Vec<DocChanges>, third: Third) -> Fake {
    Fake {
        store_id: a.info().store_id.clone(),
        docs,
        third,
        till_file: dir.join("new.db"),
        copy_to: dir.join("died.db"),
        calls: Arc::new(AtomicUsize::new(0)),
    }
}

fn enrol_new(f: &Fake) -> Result<(Store, shopsync_core::sync::client::EnrolReport), SyncError> {
    enrol_via(&f.till_file, f, "CODE-1234", Some("N"), false, &mut |_| {})
}

/// Every index (name, SQL) as `sqlite_schema` holds it, by name.
type Indexes = Vec<(String, Option<String>)>;

fn indexes(c: &Connection) -> Result<Indexes, rusqlite::Error> {
    c.prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'index' ORDER BY name")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

fn fresh_indexes(dir: &Path) -> Result<Indexes, Box<dyn std::error::Error>> {
    let fresh = Store::init(
        &dir.join("fresh.db"),
        InitOptions {
            store_name: "F".into(),
            till_name: "F".into(),
            currency: "EUR".into(),
        },
    )?;
    Ok(indexes(fresh.connection())?)
}

fn pending(c: &Connection) -> Result<bool, rusqlite::Error> {
    c.prepare("SELECT 1 FROM meta WHERE key = 'enrol.deferred_indexes'")?
        .exists([])
}

fn integrity(c: &Connection) -> Result<String, rusqlite::Error> {
    c.query_row("PRAGMA integrity_check", [], |r| r.get(0))
}

fn sales(c: &Connection) -> Result<i64, rusqlite::Error> {
    c.query_row("SELECT COUNT(*) FROM sales", [], |r| r.get(0))
}

#[test]
fn a_finished_enrolment_download_ends_with_every_index_of_a_fresh_store() -> R {
    let dir = tempfile::tempdir()?;
    let (a, docs) = source(dir.path())?;
    let f = fake(dir.path(), &a, docs, Third::Answer);
    let (till, _) = enrol_new(&f)?;
    assert_eq!(indexes(till.connection())?, fresh_indexes(dir.path())?);
    assert!(!pending(till.connection())?);
    assert_eq!(integrity(till.connection())?, "ok");
    assert_eq!(sales(till.connection())?, 30);
    verify_clean(&till)?;
    Ok(())
}

#[test]
fn a_till_that_dies_mid_download_gets_its_indexes_back_when_its_file_is_opened() -> R {
    let dir = tempfile::tempdir()?;
    let (a, docs) = source(dir.path())?;
    let f = fake(dir.path(), &a, docs, Third::CopyThenAnswer);
    enrol_new(&f)?;
    let fresh = fresh_indexes(dir.path())?;
    {
        // The file as the till left it: sales in, the deferred indexes
        // missing (and only those), their SQL pending.
        let died = Connection::open(&f.copy_to)?;
        assert_eq!(sales(&died)?, 30);
        assert!(pending(&died)?);
        let missing: Vec<&str> = fresh
            .iter()
            .filter(|i| !indexes(&died).is_ok_and(|now| now.contains(i)))
            .map(|(name, _)| name.as_str())
            .collect();
        assert_eq!(
            missing,
            [
                "sales_at",
                "sales_drawer_session",
                "sales_staff",
                "sales_till_number",
                "sales_till_seq",
                "stock_movements_product_at"
            ]
        );
    }
    let reopened = Store::open(&f.copy_to)?;
    assert_eq!(indexes(reopened.connection())?, fresh);
    assert!(!pending(reopened.connection())?);
    assert_eq!(integrity(reopened.connection())?, "ok");
    verify_clean(&reopened)?;
    Ok(())
}

#[test]
fn an_enrolment_download_that_fails_half_way_puts_the_indexes_back() -> R {
    let dir = tempfile::tempdir()?;
    let (a, docs) = source(dir.path())?;
    let f = fake(dir.path(), &a, docs, Third::Fail);
    let err = enrol_new(&f)
        .err()
        .ok_or("the download should have failed")?;
    assert!(err.to_string().contains("half way"), "{err}");
    // Read without `Store::open`, which would create them itself.
    let c = Connection::open(&f.till_file)?;
    assert_eq!(indexes(&c)?, fresh_indexes(dir.path())?);
    assert!(!pending(&c)?);
    assert_eq!(integrity(&c)?, "ok");
    assert_eq!(sales(&c)?, 30, "the first page stays applied");
    Ok(())
}
