//! Product categories: created, renamed, archived and restored; products
//! name them by id; the CSV's `category` column; two tills editing offline.

mod common;

use common::{R, Till, product, send, verify_clean};
use shopsync_core::{CoreError, NewProduct, ProductEdit, Store};

fn with_category(sku: &str, name: &str, category: &str) -> NewProduct {
    NewProduct {
        category: Some(category.into()),
        ..product(sku, name, 100)
    }
}

fn names(s: &Store, all: bool) -> Result<Vec<String>, CoreError> {
    Ok(s.categories(all)?.into_iter().map(|c| c.name).collect())
}

#[test]
fn categories_are_added_renamed_archived_and_restored() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = Till::default().open(dir.path())?;
    let dairy = s.add_category("Dairy")?;
    let bakery = s.add_category("  Bakery ")?;
    assert_eq!(bakery.name, "Bakery");
    assert_eq!(names(&s, false)?, vec!["Bakery", "Dairy"]);

    // Refused, and nothing changes.
    for bad in ["", "   ", "dairy", "Bad\u{7}name"] {
        assert!(s.add_category(bad).is_err(), "{bad:?} was accepted");
    }
    assert!(s.rename_category("Dairy", "BAKERY").is_err());
    assert!(s.rename_category("Nope", "Fish").is_err());
    assert_eq!(names(&s, true)?, vec!["Bakery", "Dairy"]);

    let renamed = s.rename_category(&dairy.id, "Milk & cheese")?;
    assert_eq!(
        (renamed.id.as_str(), renamed.name.as_str()),
        (dairy.id.as_str(), "Milk & cheese")
    );
    s.add_product(with_category("MILK", "Milk", &dairy.id))?;
    s.add_product(with_category("BREAD", "Bread", &bakery.id))?;
    s.add_product(with_category("ROLL", "Roll", &bakery.id))?;
    let counts: Vec<(String, i64)> = s
        .categories(false)?
        .into_iter()
        .map(|c| (c.name, c.products))
        .collect();
    assert_eq!(
        counts,
        vec![("Bakery".into(), 2), ("Milk & cheese".into(), 1)]
    );
    let in_bakery: Vec<String> = s
        .products_in_category(&bakery.id, "", 100, false)?
        .into_iter()
        .map(|p| p.sku)
        .collect();
    assert_eq!(in_bakery, vec!["BREAD", "ROLL"]);

    // Archived: hidden from the list, kept on its products, offered to no new one.
    let archived = s.set_category_archived("bakery", true)?;
    assert!(archived.archived);
    assert_eq!(names(&s, false)?, vec!["Milk & cheese"]);
    assert_eq!(names(&s, true)?, vec!["Bakery", "Milk & cheese"]);
    let err = s
        .add_product(with_category("CAKE", "Cake", &bakery.id))
        .unwrap_err();
    assert!(err.to_string().contains("archived"), "{err}");
    let err = s
        .edit_product(
            "MILK",
            ProductEdit {
                category: Some(Some(bakery.id.clone())),
                ..ProductEdit::default()
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("archived"), "{err}");
    // A product already in it keeps it through other edits.
    s.edit_product(
        "BREAD",
        ProductEdit {
            price: Some(120),
            ..ProductEdit::default()
        },
    )?;
    assert_eq!(
        s.product("BREAD")?.category.as_deref(),
        Some(bakery.id.as_str())
    );
    let err = s
        .add_product(with_category("FISH", "Fish", "no-such-category"))
        .unwrap_err();
    assert!(matches!(err, CoreError::NotFound { .. }), "{err}");

    s.set_category_archived(&bakery.id, false)?;
    s.add_product(with_category("CAKE", "Cake", &bakery.id))?;
    assert_eq!(s.products_in_category(&bakery.id, "", 100, false)?.len(), 3);
    // The text filter comes before the limit: "roll" is the third by name,
    // past a limit of 1, and is still found; the SKU matches too, any case.
    let bakery_id = bakery.id.as_str();
    assert_eq!(in_category(&s, bakery_id, "rOLl", 1, false)?, vec!["ROLL"]);
    assert_eq!(
        in_category(&s, bakery_id, "  cak ", 5, false)?,
        vec!["CAKE"]
    );
    assert_eq!(
        in_category(&s, bakery_id, "", 2, false)?,
        vec!["BREAD", "CAKE"]
    );
    assert!(
        in_category(&s, bakery_id, "milk", 5, false)?.is_empty(),
        "milk is in another category"
    );
    // Text beyond ASCII is folded by Unicode rules: "KÄSE" finds "Käsebrot".
    s.add_product(with_category("KB", "Käsebrot", bakery_id))?;
    assert_eq!(in_category(&s, bakery_id, "KÄSE", 5, false)?, vec!["KB"]);
    assert_eq!(
        in_category(&s, bakery_id, "käsebrot", 5, false)?,
        vec!["KB"]
    );
    // An archived product matches only when archived ones are asked for.
    s.archive_product("KB")?;
    assert!(in_category(&s, bakery_id, "käse", 5, false)?.is_empty());
    assert_eq!(in_category(&s, bakery_id, "KÄSE", 5, true)?, vec!["KB"]);
    assert_eq!(in_category(&s, bakery_id, "kb", 5, true)?, vec!["KB"]);
    verify_clean(&s)?;
    Ok(())
}

/// The SKUs of a category's products holding `q`, as the Sell screen asks.
fn in_category(
    s: &Store,
    category: &str,
    q: &str,
    limit: u32,
    archived: bool,
) -> Result<Vec<String>, CoreError> {
    Ok(s.products_in_category(category, q, limit, archived)?
        .into_iter()
        .map(|p| p.sku)
        .collect())
}

#[test]
fn the_csv_category_column_names_creates_and_round_trips() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = Till::default().open(dir.path())?;
    let dairy = s.add_category("Dairy")?;
    let old = s.add_category("Old stock")?;
    s.set_category_archived(&old.id, true)?;

    let csv = "sku,name,price,category\n\
               MILK,Milk,1.00,dairy\n\
               TEA,Tea,2.00,Drinks\n\
               COLA,Cola,1.50,drinks\n\
               BUN,Bun,0.50,\n";
    let sum = s.import_products_reader(csv.as_bytes(), &mut |_| {})?;
    assert_eq!(sum.added, 4);
    assert_eq!(
        names(&s, false)?,
        vec!["Dairy", "Drinks"],
        "one new category, made once"
    );
    let drinks = s.category_by_ref("Drinks")?;
    assert_eq!(
        s.product("MILK")?.category.as_deref(),
        Some(dairy.id.as_str())
    );
    assert_eq!(
        s.product("TEA")?.category.as_deref(),
        Some(drinks.id.as_str())
    );
    assert_eq!(
        s.product("COLA")?.category.as_deref(),
        Some(drinks.id.as_str())
    );
    assert_eq!(s.product("BUN")?.category, None);

    // An archived category refuses the whole file, naming the row; nothing
    // is written (no new category either).
    let bad = "sku,name,price,category\n\
               JAM,Jam,3.00,Spreads\n\
               OLD,Old thing,1.00,Old stock\n";
    let err = s
        .import_products_reader(bad.as_bytes(), &mut |_| {})
        .unwrap_err();
    match &err {
        CoreError::CsvRow {
            row,
            field,
            message,
        } => {
            assert_eq!((*row, field.as_str()), (3, "category"));
            assert!(message.contains("archived"), "{message}");
        }
        other => panic!("expected a row error, got {other}"),
    }
    assert!(s.product("JAM").is_err());
    assert_eq!(names(&s, true)?, vec!["Dairy", "Drinks", "Old stock"]);

    // Export writes names; importing the export changes nothing, and a
    // fresh store gets the same categories from it.
    let mut out = Vec::new();
    s.export_products_csv(&mut out)?;
    let text = String::from_utf8(out.clone())?;
    assert!(
        text.lines()
            .next()
            .unwrap_or_default()
            .split(',')
            .any(|c| c == "category"),
        "{text}"
    );
    assert!(text.contains("TEA,Tea,2.00,,,,,,Drinks"), "{text}");
    let again = s.import_products_reader(out.as_slice(), &mut |_| {})?;
    assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 4));
    let mut fresh = Till {
        file: "fresh.db",
        ..Till::default()
    }
    .open(dir.path())?;
    fresh.import_products_reader(out.as_slice(), &mut |_| {})?;
    assert_eq!(names(&fresh, false)?, vec!["Dairy", "Drinks"]);
    let fresh_drinks = fresh.category_by_ref("drinks")?;
    assert_eq!(fresh_drinks.products, 2);
    verify_clean(&s)?;
    verify_clean(&fresh)?;
    Ok(())
}

#[test]
fn two_tills_editing_categories_offline_converge() -> R {
    let dir = tempfile::tempdir()?;
    let mut a = Till::default().open(dir.path())?;
    let snacks = a.add_category("Snacks")?;
    a.add_product(with_category("CHIPS", "Chips", &snacks.id))?;
    let mut b = common::till_from(dir.path(), &a, "B", None)?;

    // Offline: A renames and B archives the same category; both add one.
    a.rename_category(&snacks.id, "Crisps & snacks")?;
    b.set_category_archived(&snacks.id, true)?;
    a.add_category("Fruit")?;
    b.add_category("Sweets")?;
    send(&a, &mut b)?;
    send(&b, &mut a)?;

    assert_eq!(a.categories(true)?, b.categories(true)?);
    let merged = a.category_by_ref(&snacks.id)?;
    assert_eq!(
        (merged.name.as_str(), merged.archived),
        ("Crisps & snacks", true)
    );
    assert_eq!(names(&a, false)?, vec!["Fruit", "Sweets"]);
    assert_eq!(
        a.product("CHIPS")?.category.as_deref(),
        Some(snacks.id.as_str())
    );
    verify_clean(&a)?;
    verify_clean(&b)?;
    Ok(())
}

#[test]
fn free_text_categories_survive_an_export_and_import() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = Till::default().open(dir.path())?;
    // A product from before categories were managed: free text, written
    // here straight into the catalog as an older version did.
    s.add_product(product("OLD", "Old product", 100))?;
    let id = s.product("OLD")?.id;
    s.connection().execute(
        "UPDATE products SET category = 'Misc stuff' WHERE id = ?1",
        [&id],
    )?;
    let mut out = Vec::new();
    s.export_products_csv(&mut out)?;
    assert!(String::from_utf8(out.clone())?.contains("Misc stuff"));
    let again = s.import_products_reader(out.as_slice(), &mut |_| {})?;
    assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 1));
    assert!(
        s.categories(true)?.is_empty(),
        "no category made from kept text"
    );
    Ok(())
}

#[test]
fn an_archived_flag_an_older_version_kept_is_shown_after_the_upgrade() -> R {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("a.db");
    {
        let mut s = Till::default().open(dir.path())?;
        let old = s.add_category("Old stock")?;
        s.add_category("Dairy")?;
        s.set_category_archived(&old.id, true)?;
    }
    // As a version-8 till left it: the flag is in the catalog document but
    // its projection has no such column.
    rusqlite::Connection::open(&path)?.execute_batch(&format!(
        "{} {} {} PRAGMA user_version = 8;",
        common::UNDO_MIGRATION_11,
        common::UNDO_MIGRATION_10,
        common::UNDO_MIGRATION_09
    ))?;
    let s = Store::open(&path)?;
    assert_eq!(names(&s, false)?, vec!["Dairy"]);
    assert_eq!(names(&s, true)?, vec!["Dairy", "Old stock"]);
    verify_clean(&s)?;
    Ok(())
}
