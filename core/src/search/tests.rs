//! The in-memory index against the full-text query it replaces: the same
//! products in the same order, on a generated catalog and after the catalog
//! changes (edits, archiving, new products, another process, a rebuild).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::demo::DemoOptions;
use crate::error::Result;
use crate::store::{InitOptions, Store};
use crate::{NewProduct, ProductEdit};

const QUERIES: &[&str] = &[
    "s",
    "c",
    "ch",
    "choc",
    "chocolate",
    "milk",
    "dark choc",
    "milk 1l",
    "milk 1L",
    "fresh brea",
    "organic 500g",
    "family size",
    "6 pack",
    "pack spic",
    "sparkling clas",
    "tea single",
    "creme",
    "cafe",
    "brulee creme",
    "apfel",
    "P0001",
    "zzz",
    "1",
    "milk milk",
];

fn store(dir: &tempfile::TempDir) -> Result<Store> {
    let mut s = Store::init(
        &dir.path().join("s.db"),
        InitOptions {
            store_name: "Shop".into(),
            till_name: "T1".into(),
            currency: "EUR".into(),
        },
    )?;
    s.demo(
        &DemoOptions {
            products: 1500,
            days: 0,
            tills: 1,
            sales_per_day: 0,
            seed: 3,
        },
        &mut |_| {},
    )?;
    for (sku, name) in [
        ("X-1", "Crème Brûlée"),
        ("X-2", "CAFÉ Noir 250g"),
        ("X-3", "Äpfel Braeburn 1kg"),
        ("X-4", "Milk Milk Milk"),
    ] {
        s.add_product(product(sku, name))?;
    }
    Ok(s)
}

fn product(sku: &str, name: &str) -> NewProduct {
    NewProduct {
        sku: sku.into(),
        name: name.into(),
        price: 100,
        ..NewProduct::default()
    }
}

fn words(q: &str) -> Vec<&str> {
    q.split(|ch: char| !ch.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Both paths, for every query, limits 20 and 300 (the latter past the
/// 200 candidates), with and without archived products.
fn same_as_fts(s: &Store, when: &str) -> Result<()> {
    for q in QUERIES {
        let w = words(q);
        let prefixes = super::ascii_prefixes(&w).expect("ASCII queries");
        for limit in [20, 300] {
            for archived in [false, true] {
                let ids = |v: Vec<shopsync_types::Product>| -> Vec<String> {
                    v.into_iter()
                        .map(|p| format!("{} {}", p.sku, p.name))
                        .collect()
                };
                let fts = ids(s.search_names_fts(&w, limit, archived)?);
                let mem = ids(s.search_names_in_memory(&prefixes, limit, archived)?);
                assert_eq!(mem, fts, "{when}: {q:?} limit {limit} archived {archived}");
            }
        }
    }
    Ok(())
}

#[test]
fn the_index_finds_what_the_full_text_query_finds() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(&dir)?;
    same_as_fts(&s, "built")?;

    // Renames (to and from non-ASCII names), archiving, new products.
    let edit = |name: &str| ProductEdit {
        name: Some(name.into()),
        ..ProductEdit::default()
    };
    s.edit_product("P000001", edit("Crème Fraîche 250g"))?;
    s.edit_product("X-2", edit("Cafe Latte Chocolate"))?;
    // A name of no tokens at all.
    s.edit_product("P000002", edit("- + -"))?;
    for sku in ["P000003", "P000004", "P000010"] {
        s.archive_product(sku)?;
    }
    s.add_product(product("Y-1", "Dark Chocolate Sea Salt 100g"))?;
    s.add_product(product("Y-2", "Zzz Sleep Tea"))?;
    same_as_fts(&s, "after edits")?;

    // Another process writing the same file.
    let mut other = Store::open(&dir.path().join("s.db"))?;
    other.add_product(product("Z-1", "Milk Chocolate Buttons 1L"))?;
    other.edit_product("P000005", edit("Apfelsaft Naturtrüb 1L"))?;
    drop(other);
    same_as_fts(&s, "after another process")?;

    // A rebuild empties and refills `products` (new row numbers).
    s.rebuild(&mut |_| {})?;
    same_as_fts(&s, "after a rebuild")?;
    Ok(())
}

#[test]
fn the_index_reports_its_size() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir)?;
    let bytes = s.prepare_search()?;
    assert!(bytes > 1500 * 8, "{bytes} bytes for 1,504 products");
    Ok(())
}
