use shopsync_types::ItemWhat;

use super::*;
use crate::customer;
use crate::sync::customer_wire::DocAnswer;

const T: i64 = 1_700_000_000_000;

fn device_with_list(customer: &str) -> (Device, String) {
    let mut d = Device::new(customer);
    let list = d
        .edit_own(T, |doc| customer::create_list(doc, "Weekly"))
        .expect("a list");
    (d, list)
}

/// Adds a free-text item to a list of the device's own document.
fn add_text(d: &mut Device, list: &str, text: &str, qty: i64) {
    d.edit_own(T, |doc| {
        customer::add_item(doc, list, &ItemWhat::Text { text: text.into() }, qty)
    })
    .expect("item");
}

/// The answer with `doc_id` refused for `why`.
fn refusing(mut ans: CustomerSyncResponse, doc_id: &str, why: &str) -> CustomerSyncResponse {
    for a in &mut ans.docs {
        if a.doc_id == doc_id {
            a.refused = Some(why.into());
        }
    }
    ans
}

/// The server's answer that acknowledges everything sent and brings
/// `changes` for each document.
fn answer(sent: &Sent, bring: &[(String, Vec<Vec<u8>>, u64)]) -> CustomerSyncResponse {
    CustomerSyncResponse {
        protocol: 1,
        docs: sent
            .docs
            .iter()
            .map(|id| {
                let (changes, cursor) = bring
                    .iter()
                    .find(|(d, _, _)| d == id)
                    .map(|(_, c, n)| (c.iter().map(|b| encode_change(b)).collect(), *n))
                    .unwrap_or((Vec::new(), 0));
                DocAnswer {
                    doc_id: id.clone(),
                    cursor,
                    changes,
                    ..DocAnswer::default()
                }
            })
            .collect(),
    }
}

#[test]
fn an_edit_is_pending_until_the_server_acknowledges_it() {
    let (mut d, _) = device_with_list("c1");
    assert_eq!(d.changes_waiting(), 1);
    let (req, sent) = d.sync_request().expect("request");
    let own = req
        .docs
        .iter()
        .find(|r| r.doc_id == "customer/c1")
        .expect("own document asked for");
    assert_eq!(own.changes.len(), 1);
    let applied = d.apply_answer(&sent, answer(&sent, &[])).expect("applied");
    assert_eq!(applied.acked, 1);
    assert_eq!(d.changes_waiting(), 0);
    assert!(d.take_dirty().contains("customer/c1"));
}

#[test]
fn a_failed_edit_changes_nothing() {
    let (mut d, list) = device_with_list("c1");
    let before = d.stored("customer/c1").expect("held");
    let bad = d.edit_own(T, |doc| {
        customer::add_item(
            doc,
            &list,
            &ItemWhat::Text {
                text: "Milk".into(),
            },
            1,
        )?;
        customer::set_qty(doc, &list, "no-such-item", 2)
    });
    assert!(bad.is_err());
    assert_eq!(d.stored("customer/c1").expect("held"), before);
    assert_eq!(d.changes_waiting(), 1);
}

#[test]
fn another_customers_documents_cannot_be_written() {
    let mut d = Device::new("c1");
    let other = DocId::Customer {
        customer: "c2".into(),
    };
    let e = d.edit(&other, T, |doc| customer::create_list(doc, "Mine"));
    assert!(matches!(e, Err(CoreError::Unauthorized(_))), "{e:?}");
    let status = DocId::order_status("s1", "c1");
    let e = d.edit(&status, T, |_| Ok(()));
    assert!(matches!(e, Err(CoreError::Unauthorized(_))), "{e:?}");
}

#[test]
fn stored_documents_load_with_their_pending_changes_and_cursor() {
    let (mut a, list) = device_with_list("c1");
    add_text(&mut a, &list, "Milk", 2);
    let mut stored = a.stored("customer/c1").expect("held");
    stored.cursor = 7;
    let mut b = Device::new("c1");
    b.load("customer/c1", stored).expect("loaded");
    assert_eq!(b.changes_waiting(), 2);
    let (req, _) = b.sync_request().expect("request");
    let own = &req.docs[0];
    assert_eq!((own.since, own.changes.len()), (7, 2));
    let lists = b.view().expect("view").lists;
    assert_eq!(lists[0].items[0].qty, 2);
}

#[test]
fn merging_another_tabs_copy_keeps_both_edits_and_never_resends_acknowledged_ones() {
    let (mut a, list) = device_with_list("c1");
    // Tab A syncs: its list is acknowledged.
    let (_, sent) = a.sync_request().expect("request");
    a.apply_answer(&sent, answer(&sent, &[("customer/c1".into(), vec![], 3)]))
        .expect("applied");
    let stored_a = a.stored("customer/c1").expect("held");
    // Tab B opened before that, from an older copy with the list pending.
    let mut b = Device::new("c1");
    let mut older = stored_a.clone();
    older.pending = a_changes(&mut a);
    b.load("customer/c1", older).expect("loaded");
    add_text(&mut b, &list, "Eggs", 1);
    // A saves again: it merges B's stored copy first.
    let stored_b = b.stored("customer/c1").expect("held");
    a.merge_stored("customer/c1", stored_b).expect("merged");
    let items = a.view().expect("view").lists[0].items.clone();
    assert_eq!(items.len(), 1, "B's item reached A");
    // Only B's new change is pending on A: the list A had acknowledged is not.
    assert_eq!(a.changes_waiting(), 1);
    // The cursor stays A's.
    assert_eq!(a.stored("customer/c1").expect("held").cursor, 3);
}

fn a_changes(d: &mut Device) -> Vec<Vec<u8>> {
    d.docs
        .get_mut("customer/c1")
        .map(|e| {
            e.doc
                .get_changes(&[])
                .iter()
                .map(|c| c.raw_bytes().to_vec())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn changes_from_the_server_apply_and_move_the_cursor() {
    let (mut a, _) = device_with_list("c1");
    let mut b = Device::new("c1");
    let (_, sent) = b.sync_request().expect("request");
    let bring = vec![("customer/c1".to_string(), a_changes(&mut a), 12)];
    let applied = b
        .apply_answer(&sent, answer(&sent, &bring))
        .expect("applied");
    assert_eq!(applied.new_changes, 1);
    assert_eq!(b.view().expect("view").lists.len(), 1);
    let (req, _) = b.sync_request().expect("request");
    assert_eq!(req.docs[0].since, 12);
    // The same changes again are known, not new.
    let (_, sent) = b.sync_request().expect("request");
    let again = b
        .apply_answer(&sent, answer(&sent, &bring))
        .expect("applied");
    assert_eq!((again.new_changes, again.known_changes), (0, 1));
}

#[test]
fn a_change_with_a_missing_dependency_keeps_the_cursor() {
    let (mut a, list) = device_with_list("c1");
    add_text(&mut a, &list, "Milk", 1);
    let all = a_changes(&mut a);
    let mut b = Device::new("c1");
    let (_, sent) = b.sync_request().expect("request");
    // Only the second change: its dependency never came.
    let bring = vec![("customer/c1".to_string(), vec![all[1].clone()], 9)];
    let applied = b
        .apply_answer(&sent, answer(&sent, &bring))
        .expect("applied");
    assert_eq!(applied.failed.len(), 1, "{applied:?}");
    let (req, _) = b.sync_request().expect("request");
    assert_eq!(req.docs[0].since, 0, "asked again from the start");
}

#[test]
fn an_answer_for_a_document_not_asked_for_is_refused() {
    let (mut d, _) = device_with_list("c1");
    let (_, sent) = d.sync_request().expect("request");
    let mut ans = answer(&sent, &[]);
    ans.docs.push(DocAnswer {
        doc_id: "customer/c2".into(),
        ..DocAnswer::default()
    });
    assert!(d.apply_answer(&sent, ans).is_err());
    assert_eq!(d.changes_waiting(), 1, "nothing acknowledged");
}

#[test]
fn a_new_server_epoch_resends_everything_and_drops_public_catalogs() {
    let (mut d, _) = device_with_list("c1");
    d.edit_own(T, |doc| customer::add_favourite(doc, "s1"))
        .expect("favourite");
    assert!(
        !d.note_epoch("e1").expect("epoch"),
        "the first epoch is no reset"
    );
    let (_, sent) = d.sync_request().expect("request");
    let public = vec![("store/s1/public".to_string(), public_changes(), 5)];
    d.apply_answer(&sent, answer(&sent, &public))
        .expect("applied");
    assert_eq!(d.changes_waiting(), 0);
    assert!(d.catalog("s1").expect("read").is_some());
    assert!(d.note_epoch("e2").expect("epoch"), "a restored server");
    assert_eq!(
        d.changes_waiting(),
        2,
        "both changes of the own document again"
    );
    assert!(d.catalog("s1").expect("read").is_none());
    let (req, _) = d.sync_request().expect("request");
    assert!(req.docs.iter().all(|r| r.since == 0));
}

fn public_changes() -> Vec<Vec<u8>> {
    let mut doc = AutoCommit::new();
    crate::public_catalog::write(
        &mut doc,
        &PublicCatalog {
            store_id: "s1".into(),
            name: "Corner Shop".into(),
            currency: "EUR".into(),
            published: true,
            products: Vec::new(),
        },
    )
    .expect("write");
    doc.commit();
    doc.get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect()
}

#[test]
fn followed_documents_are_the_own_orders_and_catalogs() {
    let (mut d, list) = device_with_list("c1");
    d.edit_own(T, |doc| {
        customer::add_favourite(doc, "s1")?;
        customer::add_item(
            doc,
            &list,
            &ItemWhat::Text {
                text: "Milk".into(),
            },
            1,
        )
    })
    .expect("edits");
    d.look_at("s2").expect("look");
    let ids: Vec<String> = d
        .followed()
        .expect("followed")
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(
        ids,
        [
            "customer/c1",
            "store/s1/orders/c1/requests",
            "store/s1/orders/c1/status",
            "store/s1/public",
            "store/s2/public",
        ]
    );
}

#[test]
fn sending_a_list_writes_a_valid_order_and_cancelling_it_works() {
    let (mut d, list) = device_with_list("c1");
    add_text(&mut d, &list, "Milk", 2);
    let (order, left_out) = d.send_order(&list, "s1", "Ann", None, T).expect("sent");
    assert_eq!((order.lines.len(), left_out), (1, 0));
    assert_eq!(order.status, shopsync_types::OrderStatus::Sent);
    let (req, _) = d.sync_request().expect("request");
    let requests = req
        .docs
        .iter()
        .find(|r| r.doc_id == "store/s1/orders/c1/requests")
        .expect("the order document is sent");
    assert_eq!(requests.changes.len(), 1);
    d.cancel_order(&order.id, None, T + 1).expect("cancelled");
    assert_eq!(d.orders()[0].status, shopsync_types::OrderStatus::Cancelled);
    // A control character breaks the order rules: nothing is written.
    let waiting = d.changes_waiting();
    assert!(d.send_order(&list, "s1", "Ann\u{7}", None, T).is_err());
    assert_eq!(d.changes_waiting(), waiting);
}

#[test]
fn adopting_an_account_moves_the_local_documents() {
    let (mut d, _) = device_with_list("local-1");
    d.adopt_account("acct-9").expect("adopted");
    assert_eq!(d.customer_id(), "acct-9");
    assert_eq!(d.view().expect("view").lists.len(), 1);
    let dirty = d.take_dirty();
    assert!(dirty.contains("customer/local-1") && dirty.contains("customer/acct-9"));
    assert!(d.stored("customer/local-1").is_none());
    assert_eq!(d.changes_waiting(), 1, "the list is still to be sent");
}

#[test]
fn a_refused_order_is_taken_back_and_the_rest_goes_on() {
    let (mut d, list) = device_with_list("c1");
    add_text(&mut d, &list, "Milk", 1);
    d.send_order(&list, "s1", "Ann", None, T).expect("sent");
    assert_eq!(d.orders().len(), 1);
    let (_, sent) = d.sync_request().expect("request");
    let ans = refusing(
        answer(&sent, &[]),
        "store/s1/orders/c1/requests",
        "shop s1 does not take orders",
    );
    let applied = d.apply_answer(&sent, ans).expect("applied");
    assert_eq!(applied.refused.len(), 1, "{applied:?}");
    assert!(applied.refused[0].error.contains("does not take orders"));
    assert!(d.orders().is_empty(), "the order is taken back");
    assert_eq!(d.changes_waiting(), 0, "the own document was acknowledged");
    // The requests document works again afterwards.
    d.send_order(&list, "s1", "Ann", None, T + 1)
        .expect("sent again");
    assert_eq!(d.orders().len(), 1);
}

#[test]
fn an_account_forgotten_and_taken_again_sends_everything_but_its_orders() {
    let (mut d, list) = device_with_list("acct-1");
    add_text(&mut d, &list, "Milk", 1);
    d.send_order(&list, "s1", "Ann", None, T).expect("sent");
    d.note_epoch("e1").expect("epoch");
    let (_, sent) = d.sync_request().expect("request");
    let bring: Vec<(String, Vec<Vec<u8>>, u64)> = vec![("customer/acct-1".into(), vec![], 40)];
    d.apply_answer(&sent, answer(&sent, &bring))
        .expect("applied");
    assert_eq!(d.changes_waiting(), 0);
    // Forgotten (revoked), then signed up as another account.
    d.adopt_account("acct-2").expect("adopted");
    let (req, _) = d.sync_request().expect("request");
    let own = req
        .docs
        .iter()
        .find(|r| r.doc_id == "customer/acct-2")
        .expect("own");
    assert_eq!(own.since, 0, "the old id's cursor means nothing here");
    assert_eq!(
        own.changes.len(),
        3,
        "every change of the own document again"
    );
    assert!(d.orders().is_empty(), "orders stay with the old account");
    assert!(!req.docs.iter().any(|r| r.doc_id.contains("acct-1")));
}

#[test]
fn a_request_carries_at_most_upload_changes() {
    let (mut d, list) = device_with_list("c1");
    add_text(&mut d, &list, "Milk", 1);
    let items = d.view().expect("view").lists[0].items.clone();
    let item = items[0].id.clone();
    for i in 0..(UPLOAD_CHANGES + 10) {
        d.edit_own(T, |doc| {
            customer::set_qty(doc, &list, &item, (i % 50) as i64 + 1)
        })
        .expect("qty");
    }
    let (req, sent) = d.sync_request().expect("request");
    let n: usize = req.docs.iter().map(|r| r.changes.len()).sum();
    assert_eq!(n, UPLOAD_CHANGES);
    assert!(sent.more_to_send);
}

#[test]
fn a_taken_back_document_is_stored_over_not_merged_with() {
    let (mut d, list) = device_with_list("c1");
    add_text(&mut d, &list, "Milk", 1);
    d.send_order(&list, "s1", "Ann", None, T).expect("sent");
    let key = "store/s1/orders/c1/requests";
    let before = d.stored(key).expect("held");
    let (_, sent) = d.sync_request().expect("request");
    let ans = refusing(answer(&sent, &[]), key, "no such shop");
    d.apply_answer(&sent, ans).expect("applied");
    assert!(d.must_overwrite(key));
    // Merging the copy stored before would bring the order back: that is
    // why the app overwrites it.
    d.merge_stored(key, before).expect("merged");
    assert_eq!(d.orders().len(), 1, "merging resurrects it");
    d.overwritten(&[key.to_string()].into_iter().collect());
    assert!(!d.must_overwrite(key));
}

#[test]
fn a_copy_saved_under_an_older_server_epoch_is_read_as_of_then() {
    let (mut a, _) = device_with_list("c1");
    a.edit_own(T, |doc| customer::add_favourite(doc, "s1"))
        .expect("favourite");
    a.note_epoch("e1").expect("epoch");
    let (_, sent) = a.sync_request().expect("request");
    let bring = vec![
        ("customer/c1".to_string(), vec![], 30),
        ("store/s1/public".to_string(), public_changes(), 31),
    ];
    a.apply_answer(&sent, answer(&sent, &bring))
        .expect("applied");
    let own = a.stored("customer/c1").expect("held");
    let public = a.stored("store/s1/public").expect("held");
    assert_eq!(own.epoch.as_deref(), Some("e1"));
    // Another tab already on the restored server's epoch reads them.
    let mut b = Device::new("c1");
    b.set_epoch(Some("e2".into()));
    b.load("customer/c1", own).expect("loaded");
    b.load("store/s1/public", public).expect("loaded");
    assert!(
        b.catalog("s1").expect("read").is_none(),
        "the old catalog is dropped"
    );
    let (req, _) = b.sync_request().expect("request");
    let doc = req
        .docs
        .iter()
        .find(|r| r.doc_id == "customer/c1")
        .expect("own");
    assert_eq!(doc.since, 0, "the old cursor means nothing now");
    assert_eq!(doc.changes.len(), 2, "all of it again");
}

#[test]
fn orders_sent_under_a_local_id_join_the_account() {
    let (mut d, list) = device_with_list("local-1");
    add_text(&mut d, &list, "Milk", 1);
    let local = d.stored("customer/local-1").expect("held");
    d.send_order(&list, "s1", "Ann", None, T).expect("sent");
    let order = d.stored("store/s1/orders/local-1/requests").expect("held");
    // The account's device holds the stray copies a stale tab saved.
    let mut acct = Device::new("acct-1");
    acct.load("customer/local-1", local).expect("loaded");
    acct.load("store/s1/orders/local-1/requests", order)
        .expect("loaded");
    assert_eq!(acct.absorb_stray_customer_docs().expect("absorbed"), 2);
    assert_eq!(acct.view().expect("view").lists.len(), 1);
    assert_eq!(acct.orders().len(), 1, "the order is the account's now");
    let (req, _) = acct.sync_request().expect("request");
    assert!(req.docs.iter().all(|r| !r.doc_id.contains("local-1")));
    assert!(
        req.docs
            .iter()
            .any(|r| r.doc_id == "store/s1/orders/acct-1/requests" && r.changes.len() == 1)
    );
}
