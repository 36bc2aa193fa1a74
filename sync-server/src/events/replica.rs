//! Events derived on the server's replica of a shop (`crate::public_derive`)
//! as it imports a page of the shop's change feed: `catalog.updated`
//! ([`super::catalog`]) and `stock.low` ([`super::stock`]). The replica is a till's store, so the
//! catalog document and projections are the ones every till has.

use automerge::Change;
use shopsync_core::Store;

use super::catalog::catalog_event;
use super::{MAX_REQUEST_EVENT_BYTES, OutboxEvent};
use crate::public_derive::DeriveError;

/// The events of a page just imported into `replica`: one `catalog.updated`
/// per catalog change of the page that touched products. Past
/// `MAX_REQUEST_EVENT_BYTES` of JSON, the page's later catalog events list
/// no products (the changes are stored: they cannot be refused, and each
/// still gets its event).
pub fn derive(
    replica: &mut Store,
    store_id: &str,
    catalog_changes: &[Change],
) -> Result<Vec<OutboxEvent>, DeriveError> {
    let mut out: Vec<OutboxEvent> = Vec::new();
    let mut bytes = 0usize;
    let all = if catalog_changes.is_empty() {
        Vec::new()
    } else {
        replica.catalog_product_edits(catalog_changes)?
    };
    for (change, edits) in catalog_changes.iter().zip(all) {
        let max = if bytes > MAX_REQUEST_EVENT_BYTES {
            0
        } else {
            usize::MAX
        };
        if let Some(e) = catalog_event(change.hash().0, store_id, &edits, max) {
            bytes += e.payload.len() + e.event_id.len() + e.subject.len();
            out.push(e);
        }
    }
    Ok(out)
}

/// Imports a page into the replica and derives its events (`events`:
/// false imports only): `stock.low` for the page's ledger changes first,
/// then `catalog.updated`.
pub fn import_page(
    replica: &mut Store,
    bundle: shopsync_core::bundle::Bundle,
    events: bool,
    seq: u64,
    catalog_changes: &[Change],
) -> Result<Vec<OutboxEvent>, DeriveError> {
    let ledger = events
        && bundle
            .docs
            .iter()
            .any(|(id, _)| matches!(id, shopsync_core::ids::DocId::Ledger { .. }));
    if ledger {
        super::stock::before(replica)?;
    }
    let store_id = bundle.store_id.clone();
    replica.import_bundle(bundle)?;
    if !events {
        return Ok(Vec::new());
    }
    let mut out = if ledger {
        super::stock::crossings(replica, &store_id, seq)?
    } else {
        Vec::new()
    };
    out.extend(derive(replica, &store_id, catalog_changes)?);
    Ok(out)
}
