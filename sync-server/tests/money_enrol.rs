//! Issue 7 part 6: a device enrolled as a till and the catalog. What it
//! edited before enrolment is reported as never sent; after, it refuses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use shopsync_core::sync::client;
use shopsync_core::{CoreError, NewProduct, Store};

fn money_local_product(sku: &str) -> NewProduct {
    NewProduct {
        sku: sku.into(),
        name: format!("Local {sku}"),
        price: 100,
        ..NewProduct::default()
    }
}

#[test]
fn enrolling_as_a_till_reports_catalog_edits_that_stay_local_and_then_refuses_more() -> R {
    let mut s = shop(5);
    // Till C: a copy of the store made from A's bundle, used offline, where
    // someone added a product before the device was enrolled.
    let bundle = s.dir.path().join("a.bundle");
    s.a.export_bundle_to(&bundle)?;
    let c_path = s.dir.path().join("c.db");
    let mut c = Store::init_from_bundle(&c_path, &bundle, "C")?;
    c.add_product(money_local_product("LOCAL"))?;
    let c_till = c.info().till_id.clone();
    drop(c);

    // A till bringing its own history needs a code made for its till id.
    let code = s.server.code_for_till(&s.store_id, &c_till);
    let (mut c, report) = client::enrol(&c_path, &s.server.url, &code, None, &mut |_| {})?;
    assert!(report.unsent_catalog_changes >= 1, "{report:?}");
    let note = report
        .catalog_note
        .clone()
        .ok_or("enrol must say what happens")?;
    assert!(note.contains("stay on this device only"), "{note}");

    // True: the product never reaches the other tills.
    sync(&mut c)?;
    sync(&mut s.b)?;
    assert!(c.product("LOCAL").is_ok());
    assert!(s.b.product("LOCAL").is_err());
    assert_eq!(c.sync_status()?.changes_waiting, 0);

    // From now on the till refuses catalog edits.
    assert!(matches!(
        c.add_product(money_local_product("MORE")),
        Err(CoreError::CatalogReadOnly)
    ));
    // A manager device is not affected.
    s.a.add_product(money_local_product("MGR"))?;
    sync(&mut s.a)?;
    sync(&mut c)?;
    assert!(c.product("MGR").is_ok());
    Ok(())
}
