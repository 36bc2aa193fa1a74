use automerge::{ActorId, AutoCommit, transaction::Transactable};
use shopsync_types::customer::{CustomerView, ItemWhat, ShoppingList};

use super::*;
use crate::error::{CoreError, Result};

fn text(t: &str) -> ItemWhat {
    ItemWhat::Text { text: t.into() }
}

fn device(doc: &mut AutoCommit, n: u8) -> AutoCommit {
    doc.fork().with_actor(ActorId::from([n; 16]))
}

fn merge(a: &mut AutoCommit, b: &mut AutoCommit) -> Result<()> {
    a.merge(b)?;
    b.merge(a)?;
    Ok(())
}

fn only_list(doc: &AutoCommit) -> Result<ShoppingList> {
    let mut v = read(doc)?;
    assert_eq!(v.lists.len(), 1, "{v:?}");
    Ok(v.lists.remove(0))
}

fn texts(list: &ShoppingList) -> Vec<String> {
    list.items
        .iter()
        .map(|i| match &i.what {
            ItemWhat::Text { text } => text.clone(),
            ItemWhat::Product { store_id, sku } => format!("{store_id}:{sku}"),
        })
        .collect()
}

/// A document with list "Groceries": milk, bread, eggs.
fn groceries() -> Result<(AutoCommit, String, Vec<String>)> {
    let mut doc = AutoCommit::new().with_actor(ActorId::from([9u8; 16]));
    let list = create_list(&mut doc, "Groceries")?;
    let mut ids = Vec::new();
    for t in ["milk", "bread", "eggs"] {
        ids.push(add_item(&mut doc, &list, &text(t), 1)?);
    }
    doc.commit();
    Ok((doc, list, ids))
}

#[test]
fn writes_and_reads_back() -> Result<()> {
    let mut doc = AutoCommit::new();
    set_name(&mut doc, "  Ada Lovelace ")?;
    set_email(&mut doc, Some("ada@example.org"))?;
    add_favourite(&mut doc, "store-b")?;
    add_favourite(&mut doc, "store-a")?;
    add_favourite(&mut doc, "store-a")?;
    let list = create_list(&mut doc, "Saturday")?;
    let milk = add_item(&mut doc, &list, &text(" milk "), 2)?;
    let soap = add_item(
        &mut doc,
        &list,
        &ItemWhat::Product {
            store_id: "store-a".into(),
            sku: "SOAP-1".into(),
        },
        1,
    )?;
    set_checked(&mut doc, &list, &milk, true)?;
    set_qty(&mut doc, &list, &soap, 10_000)?;
    move_item(&mut doc, &list, &soap, 0)?;
    let v = read(&doc)?;
    assert_eq!(v.profile.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(v.profile.email.as_deref(), Some("ada@example.org"));
    assert_eq!(v.favourites, ["store-a", "store-b"]);
    let l = &v.lists[0];
    assert_eq!(l.name, "Saturday");
    assert_eq!(texts(l), ["store-a:SOAP-1", "milk"]);
    assert_eq!((l.items[0].qty, l.items[0].checked), (10_000, false));
    assert_eq!((l.items[1].qty, l.items[1].checked), (2, true));
    // The document survives a save and a load.
    let loaded = AutoCommit::load(&doc.save())?;
    assert_eq!(read(&loaded)?, v);

    set_email(&mut doc, None)?;
    remove_favourite(&mut doc, "store-b")?;
    remove_favourite(&mut doc, "store-b")?;
    remove_item(&mut doc, &list, &milk)?;
    rename_list(&mut doc, &list, "Sunday")?;
    let v = read(&doc)?;
    assert_eq!(v.profile.email, None);
    assert_eq!(v.favourites, ["store-a"]);
    assert_eq!(v.lists[0].name, "Sunday");
    assert_eq!(texts(&v.lists[0]), ["store-a:SOAP-1"]);
    delete_list(&mut doc, &list)?;
    assert!(read(&doc)?.lists.is_empty());
    Ok(())
}

#[test]
fn moves_go_where_asked() -> Result<()> {
    let (mut doc, list, ids) = groceries()?;
    move_item(&mut doc, &list, &ids[0], 2)?;
    assert_eq!(texts(&only_list(&doc)?), ["bread", "eggs", "milk"]);
    move_item(&mut doc, &list, &ids[0], 0)?;
    assert_eq!(texts(&only_list(&doc)?), ["milk", "bread", "eggs"]);
    move_item(&mut doc, &list, &ids[2], 1)?;
    assert_eq!(texts(&only_list(&doc)?), ["milk", "eggs", "bread"]);
    // To where it is: nothing is written.
    doc.commit();
    let heads = doc.get_heads();
    move_item(&mut doc, &list, &ids[2], 1)?;
    assert_eq!(doc.pending_ops(), 0);
    assert_eq!(doc.get_heads(), heads);
    Ok(())
}

/// Every call that must fail, and the document after each is byte for byte
/// what it was.
#[test]
fn bad_input_changes_nothing() -> Result<()> {
    let (mut doc, list, ids) = groceries()?;
    let product = ItemWhat::Product {
        store_id: "s1".into(),
        sku: "A".into(),
    };
    let prod = add_item(&mut doc, &list, &product, 1)?;
    doc.commit();
    let before = doc.save();
    let heads = doc.get_heads();
    let long = "x".repeat(1_001);
    let at_limit = "y".repeat(1_000);
    type Call = Box<dyn Fn(&mut AutoCommit) -> Result<()>>;
    let (l, i) = (list.clone(), ids[0].clone());
    let calls: Vec<(&str, Call)> = vec![
        ("empty name", Box::new(|d| set_name(d, "  "))),
        ("long name", {
            let long = long.clone();
            Box::new(move |d| set_name(d, &long))
        }),
        ("control char", Box::new(|d| set_name(d, "a\u{0}b"))),
        ("email", Box::new(|d| set_email(d, Some("no-at-sign")))),
        ("email space", Box::new(|d| set_email(d, Some("a b@c")))),
        ("favourite id", Box::new(|d| add_favourite(d, "s/1"))),
        ("favourite empty", Box::new(|d| remove_favourite(d, ""))),
        ("list name", Box::new(|d| create_list(d, "").map(|_| ()))),
        ("list name long", {
            let long = long.clone();
            Box::new(move |d| create_list(d, &long).map(|_| ()))
        }),
        ("rename empty", {
            let l = l.clone();
            Box::new(move |d| rename_list(d, &l, "\t"))
        }),
        ("rename missing", Box::new(|d| rename_list(d, "nope", "x"))),
        ("delete missing", Box::new(|d| delete_list(d, "nope"))),
        ("qty 0", {
            let l = l.clone();
            Box::new(move |d| add_item(d, &l, &text("x"), 0).map(|_| ()))
        }),
        ("qty 10001", {
            let l = l.clone();
            Box::new(move |d| add_item(d, &l, &text("x"), 10_001).map(|_| ()))
        }),
        ("item text empty", {
            let l = l.clone();
            Box::new(move |d| add_item(d, &l, &text(" "), 1).map(|_| ()))
        }),
        ("item text long", {
            let (l, long) = (l.clone(), long.clone());
            Box::new(move |d| add_item(d, &l, &text(&long), 1).map(|_| ()))
        }),
        ("sku empty", {
            let l = l.clone();
            Box::new(move |d| {
                let p = ItemWhat::Product {
                    store_id: "s1".into(),
                    sku: "".into(),
                };
                add_item(d, &l, &p, 1).map(|_| ())
            })
        }),
        ("product store", {
            let l = l.clone();
            Box::new(move |d| {
                let p = ItemWhat::Product {
                    store_id: "../x".into(),
                    sku: "A".into(),
                };
                add_item(d, &l, &p, 1).map(|_| ())
            })
        }),
        (
            "add to missing list",
            Box::new(|d| add_item(d, "nope", &text("x"), 1).map(|_| ())),
        ),
        ("set qty -1", {
            let (l, i) = (l.clone(), i.clone());
            Box::new(move |d| set_qty(d, &l, &i, -1))
        }),
        ("set qty missing item", {
            let l = l.clone();
            Box::new(move |d| set_qty(d, &l, "nope", 2))
        }),
        ("tick missing item", {
            let l = l.clone();
            Box::new(move |d| set_checked(d, &l, "nope", true))
        }),
        ("text of a product", {
            let (l, p) = (l.clone(), prod.clone());
            Box::new(move |d| set_item_text(d, &l, &p, "x"))
        }),
        ("text too long", {
            let (l, i, long) = (l.clone(), i.clone(), long.clone());
            Box::new(move |d| set_item_text(d, &l, &i, &long))
        }),
        ("remove missing", {
            let l = l.clone();
            Box::new(move |d| remove_item(d, &l, "nope"))
        }),
        ("move past end", {
            let (l, i) = (l.clone(), i.clone());
            Box::new(move |d| move_item(d, &l, &i, 4))
        }),
        ("move missing", {
            let l = l.clone();
            Box::new(move |d| move_item(d, &l, "nope", 0))
        }),
    ];
    for (what, call) in &calls {
        let e = match call(&mut doc) {
            Ok(()) => panic!("{what}: accepted"),
            Err(e) => e,
        };
        assert!(
            matches!(e, CoreError::Invalid { .. } | CoreError::NotFound { .. }),
            "{what}: {e:?}"
        );
        assert_eq!(doc.pending_ops(), 0, "{what}: wrote something");
        assert_eq!(doc.get_heads(), heads, "{what}");
    }
    assert_eq!(doc.save(), before);
    // The limits themselves are accepted.
    add_item(&mut doc, &list, &text(&at_limit), 10_000)?;
    set_qty(&mut doc, &list, &ids[0], 1)?;
    Ok(())
}

#[test]
fn concurrent_moves_show_the_item_once() -> Result<()> {
    let (mut doc, list, ids) = groceries()?;
    let mut a = device(&mut doc, 1);
    let mut b = device(&mut doc, 2);
    move_item(&mut a, &list, &ids[0], 2)?;
    move_item(&mut b, &list, &ids[0], 1)?;
    merge(&mut a, &mut b)?;
    assert_eq!(order_entry_counts(&a, &list)?.get(&ids[0]), Some(&2));
    let la = only_list(&a)?;
    assert_eq!(la, only_list(&b)?);
    assert_eq!(la.items.len(), 3);
    assert_eq!(texts(&la), ["bread", "milk", "eggs"]);
    // The next move takes every entry away.
    move_item(&mut a, &list, &ids[0], 0)?;
    assert_eq!(order_entry_counts(&a, &list)?.get(&ids[0]), Some(&1));
    assert_eq!(texts(&only_list(&a)?), ["milk", "bread", "eggs"]);
    Ok(())
}

#[test]
fn edits_survive_a_concurrent_move() -> Result<()> {
    let (mut doc, list, ids) = groceries()?;
    let mut a = device(&mut doc, 1);
    let mut b = device(&mut doc, 2);
    move_item(&mut a, &list, &ids[1], 0)?;
    set_checked(&mut b, &list, &ids[1], true)?;
    set_qty(&mut b, &list, &ids[1], 6)?;
    set_item_text(&mut b, &list, &ids[1], "rye bread")?;
    merge(&mut a, &mut b)?;
    let l = only_list(&a)?;
    assert_eq!(l, only_list(&b)?);
    assert_eq!(texts(&l), ["rye bread", "milk", "eggs"]);
    assert!(l.items[0].checked);
    assert_eq!(l.items[0].qty, 6);
    Ok(())
}

#[test]
fn tick_and_quantity_both_survive() -> Result<()> {
    let (mut doc, list, ids) = groceries()?;
    let mut a = device(&mut doc, 1);
    let mut b = device(&mut doc, 2);
    set_checked(&mut a, &list, &ids[2], true)?;
    set_qty(&mut b, &list, &ids[2], 12)?;
    merge(&mut a, &mut b)?;
    let l = only_list(&a)?;
    assert!(l.items[2].checked);
    assert_eq!(l.items[2].qty, 12);
    // Two quantities at once: one of them, the same on both (not the sum).
    set_qty(&mut a, &list, &ids[2], 3)?;
    set_qty(&mut b, &list, &ids[2], 5)?;
    merge(&mut a, &mut b)?;
    let (qa, qb) = (only_list(&a)?.items[2].qty, only_list(&b)?.items[2].qty);
    assert_eq!(qa, qb);
    assert!(qa == 3 || qa == 5, "{qa}");
    Ok(())
}

#[test]
fn concurrent_renames_and_adds_merge() -> Result<()> {
    let (mut doc, list, _) = groceries()?;
    let mut a = device(&mut doc, 1);
    let mut b = device(&mut doc, 2);
    rename_list(&mut a, &list, "Weekly groceries")?;
    rename_list(&mut b, &list, "Groceries Sat")?;
    add_item(&mut b, &list, &text("tea"), 1)?;
    add_item(&mut a, &list, &text("jam"), 1)?;
    merge(&mut a, &mut b)?;
    let l = only_list(&a)?;
    assert_eq!(l, only_list(&b)?);
    assert_eq!(l.name, "Weekly groceries Sat");
    assert_eq!(l.items.len(), 5);
    Ok(())
}

#[test]
fn deleting_wins_over_concurrent_edits() -> Result<()> {
    let (mut doc, list, ids) = groceries()?;
    let mut a = device(&mut doc, 1);
    let mut b = device(&mut doc, 2);
    delete_list(&mut a, &list)?;
    add_item(&mut b, &list, &text("tea"), 1)?;
    set_checked(&mut b, &list, &ids[0], true)?;
    merge(&mut a, &mut b)?;
    assert!(read(&a)?.lists.is_empty());
    assert!(read(&b)?.lists.is_empty());
    // Removing an item and moving it at once: gone, and not shown twice.
    let (mut doc, list, ids) = groceries()?;
    let mut a = device(&mut doc, 1);
    let mut b = device(&mut doc, 2);
    remove_item(&mut a, &list, &ids[0])?;
    move_item(&mut b, &list, &ids[0], 2)?;
    merge(&mut a, &mut b)?;
    assert_eq!(texts(&only_list(&a)?), ["bread", "eggs"]);
    assert_eq!(only_list(&a)?, only_list(&b)?);
    Ok(())
}

#[test]
fn favourites_add_wins() -> Result<()> {
    let mut doc = AutoCommit::new();
    add_favourite(&mut doc, "s1")?;
    doc.commit();
    let mut a = device(&mut doc, 1);
    let mut b = device(&mut doc, 2);
    let mut c = device(&mut doc, 3);
    remove_favourite(&mut a, "s1")?;
    remove_favourite(&mut b, "s1")?;
    add_favourite(&mut b, "s2")?;
    add_favourite(&mut c, "s2")?;
    merge(&mut a, &mut b)?;
    merge(&mut a, &mut c)?;
    merge(&mut b, &mut c)?;
    assert_eq!(read(&a)?.favourites, ["s2"]);
    // A removal and an addition nobody had seen yet: the addition stays.
    remove_favourite(&mut a, "s2")?;
    add_favourite(&mut b, "s3")?;
    remove_favourite(&mut b, "s3")?;
    add_favourite(&mut c, "s3")?;
    merge(&mut a, &mut b)?;
    merge(&mut a, &mut c)?;
    merge(&mut b, &mut c)?;
    let v = read(&a)?;
    assert_eq!(v.favourites, ["s3"]);
    assert_eq!(v, read(&c)?);
    Ok(())
}

/// Two devices that each began the document (no common history) merge
/// without losing anything.
#[test]
fn independent_starts_merge() -> Result<()> {
    let mut a = AutoCommit::new().with_actor(ActorId::from([1u8; 16]));
    let mut b = AutoCommit::new().with_actor(ActorId::from([2u8; 16]));
    set_name(&mut a, "Ada")?;
    add_favourite(&mut a, "s1")?;
    let la = create_list(&mut a, "A's list")?;
    add_item(&mut a, &la, &text("milk"), 1)?;
    set_email(&mut b, Some("ada@example.org"))?;
    add_favourite(&mut b, "s2")?;
    let lb = create_list(&mut b, "B's list")?;
    add_item(&mut b, &lb, &text("tea"), 1)?;
    merge(&mut a, &mut b)?;
    let v: CustomerView = read(&a)?;
    assert_eq!(v, read(&b)?);
    assert_eq!(v.profile.name.as_deref(), Some("Ada"));
    assert_eq!(v.profile.email.as_deref(), Some("ada@example.org"));
    assert_eq!(v.favourites, ["s1", "s2"]);
    assert_eq!(v.lists.len(), 2);
    // Unknown root keys (a newer version) are ignored.
    a.put(automerge::ROOT, "future/x", 1)?;
    assert_eq!(read(&a)?, v);
    Ok(())
}
