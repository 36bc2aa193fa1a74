//! A customer's sync answer applied to the device's store, without a
//! server: a document whose changes do not apply does not stop the others.
//! (The real server cannot be made to send a broken change; the customer
//! client against the real server is tested in
//! `sync-server/tests/customer_client.rs`.)

mod common;

use automerge::AutoCommit;
use common::R;
use shopsync_core::CustomerStore;
use shopsync_core::customer_store::CustomerSyncConfig;
use shopsync_core::sync::customer_wire::{
    CustomerSyncRequest, CustomerSyncResponse, DocAnswer, encode_change,
};
use shopsync_core::types::{Availability, PublicCatalog, PublicProduct};

const CUSTOMER: &str = "0190a0c0-0000-7000-8000-00000000c001";
const SHOP: &str = "0190a0c0-0000-7000-8000-00000000a001";

/// A device of [`CUSTOMER`] at `dir/<name>.db`, with an account recorded
/// (no server is asked).
fn device(dir: &std::path::Path, name: &str) -> Result<CustomerStore, Box<dyn std::error::Error>> {
    let mut s = CustomerStore::create(&dir.join(format!("{name}.db")))?;
    s.adopt_account(
        &CustomerSyncConfig {
            server: "http://127.0.0.1:1".into(),
            customer_id: CUSTOMER.into(),
            device_id: format!("device-{name}"),
            token: format!("device-{name}.secret"),
            allow_insecure_http: false,
        },
        Some("Ada"),
    )?;
    Ok(s)
}

fn product(sku: &str, availability: Availability) -> PublicProduct {
    PublicProduct {
        sku: sku.into(),
        name: sku.into(),
        price: 199,
        barcode: None,
        category: None,
        availability,
        count: None,
    }
}

/// An answer to `req`: each document gets the changes `changes` gives it
/// (none otherwise), its cursor their count.
fn answer(
    req: &CustomerSyncRequest,
    changes: impl Fn(&str) -> Vec<String>,
) -> CustomerSyncResponse {
    CustomerSyncResponse {
        protocol: req.protocol,
        docs: req
            .docs
            .iter()
            .map(|d| {
                let changes = changes(&d.doc_id);
                DocAnswer {
                    doc_id: d.doc_id.clone(),
                    cursor: d.since + changes.len() as u64,
                    changes,
                    ..DocAnswer::default()
                }
            })
            .collect(),
    }
}

#[test]
fn a_document_that_does_not_apply_does_not_stop_the_others() -> R {
    let dir = tempfile::tempdir()?;
    // The tablet's new list, as it uploads it.
    let mut tablet = device(dir.path(), "tablet")?;
    tablet.new_list("Groceries")?;
    let own = tablet.own_doc().to_string();
    let (upload, _) = tablet.sync_request()?;
    let list: Vec<String> = upload
        .docs
        .iter()
        .filter(|d| d.doc_id == own)
        .flat_map(|d| d.changes.clone())
        .collect();
    assert!(!list.is_empty());
    // The shop's public catalog.
    let mut public = AutoCommit::new();
    shopsync_core::public_catalog::write(
        &mut public,
        &PublicCatalog {
            store_id: SHOP.into(),
            name: "Corner Shop".into(),
            currency: "EUR".into(),
            published: true,
            products: vec![
                product("MILK", Availability::InStock),
                product("BUTTER", Availability::Low),
                product("EGGS", Availability::Out),
            ],
        },
    )?;
    public.commit();
    let catalog: Vec<String> = public
        .get_changes(&[])
        .iter()
        .map(|c| encode_change(c.raw_bytes()))
        .collect();
    let public_id = format!("store/{SHOP}/public");

    // The phone follows the shop; the answer's catalog change is garbled.
    let mut phone = device(dir.path(), "phone")?;
    phone.add_favourite(SHOP)?;
    let (req, pending) = phone.sync_request()?;
    assert!(pending.docs.contains(&public_id), "{:?}", pending.docs);
    let applied = phone.apply_sync_answer(
        &pending,
        answer(&req, |d| {
            if d == own {
                list.clone()
            } else if d == public_id {
                vec!["not base64!".into()]
            } else {
                vec![]
            }
        }),
    )?;
    assert_eq!(applied.failed.len(), 1, "{applied:?}");
    assert_eq!(applied.failed[0].doc_id, public_id);
    assert_eq!(
        phone.lists()?.len(),
        1,
        "the customer's own document applied"
    );
    assert!(!phone.catalog(SHOP, None)?.synced);

    // Its cursor did not move: the next request asks from 0 again.
    let (req, pending) = phone.sync_request()?;
    let since = req
        .docs
        .iter()
        .find(|d| d.doc_id == public_id)
        .map(|d| d.since);
    assert_eq!(since, Some(0));
    let applied = phone.apply_sync_answer(
        &pending,
        answer(&req, |d| {
            if d == public_id {
                catalog.clone()
            } else {
                vec![]
            }
        }),
    )?;
    assert!(applied.failed.is_empty(), "{applied:?}");
    let seen = phone.catalog(SHOP, None)?;
    assert!(seen.synced);
    assert_eq!(seen.catalog.products.len(), 3);
    Ok(())
}
