//! Product search (issue 13): two-word and word + size queries, the name
//! index following the catalog (added, renamed, archived products; another
//! process writing the same file), and any typed text answered without an
//! error.

mod common;

use common::{R, Till, product};
use shopsync_core::{ProductEdit, Store};

fn new_store(dir: &tempfile::TempDir) -> Result<Store, shopsync_core::CoreError> {
    let stock = [
        ("CHOC-DARK", "Dark Chocolate Bar 100g"),
        ("CHOC-MILK", "Milk Chocolate Bar 100g"),
        ("MILK-1L", "Whole Milk 1L"),
        ("MILK-2L", "Whole Milk 2L"),
        ("DRINK-OAT", "Oat Drink 1L"),
        ("DARK-ROAST", "Dark Roast Coffee 250g"),
    ]
    .into_iter()
    .map(|(sku, name)| (product(sku, name, 100), 0))
    .collect();
    Till {
        file: "s.db",
        stock,
        ..Till::default()
    }
    .open(dir.path())
}

fn skus(s: &Store, q: &str) -> Result<Vec<String>, shopsync_core::CoreError> {
    let mut out: Vec<String> = s
        .search_products(q, 20, false)?
        .into_iter()
        .map(|p| p.sku)
        .collect();
    out.sort();
    Ok(out)
}

#[test]
fn two_words_and_word_plus_size() -> R {
    let dir = tempfile::tempdir()?;
    let s = new_store(&dir)?;
    assert_eq!(skus(&s, "dark choc")?, vec!["CHOC-DARK"]);
    assert_eq!(skus(&s, "choc dark")?, vec!["CHOC-DARK"]);
    assert_eq!(skus(&s, "DARK")?, vec!["CHOC-DARK", "DARK-ROAST"]);
    assert_eq!(skus(&s, "milk 1l")?, vec!["MILK-1L"]);
    assert_eq!(skus(&s, "Milk 1L")?, vec!["MILK-1L"]);
    assert_eq!(skus(&s, "1l")?, vec!["DRINK-OAT", "MILK-1L"]);
    assert_eq!(skus(&s, "milk 100")?, vec!["CHOC-MILK"]);
    assert_eq!(skus(&s, "whole milk")?, vec!["MILK-1L", "MILK-2L"]);
    // Each word must start a word of the name: "ilk" is inside "milk".
    assert!(skus(&s, "ilk")?.is_empty());
    assert!(skus(&s, "dark milk 1l")?.is_empty());
    // A shorter name ranks first (bm25, as the full-text index ranked).
    let first = s.search_products("milk", 20, false)?;
    assert_eq!(first.first().map(|p| p.sku.as_str()), Some("MILK-1L"));
    Ok(())
}

#[test]
fn the_index_follows_added_renamed_and_archived_products() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = new_store(&dir)?;
    // Built by this search.
    assert_eq!(skus(&s, "oat")?, vec!["DRINK-OAT"]);
    s.add_product(product("DRINK-BARISTA", "Oat Drink Barista 500ml", 100))?;
    assert_eq!(skus(&s, "oat")?, vec!["DRINK-BARISTA", "DRINK-OAT"]);
    assert_eq!(skus(&s, "oat bari")?, vec!["DRINK-BARISTA"]);
    s.edit_product(
        "DRINK-OAT",
        ProductEdit {
            name: Some("Soya Drink 1L".into()),
            ..ProductEdit::default()
        },
    )?;
    assert_eq!(skus(&s, "oat")?, vec!["DRINK-BARISTA"]);
    assert_eq!(skus(&s, "soya 1l")?, vec!["DRINK-OAT"]);
    s.archive_product("DRINK-BARISTA")?;
    assert!(skus(&s, "oat")?.is_empty());
    let archived: Vec<String> = s
        .search_products("oat", 20, true)?
        .into_iter()
        .map(|p| p.sku)
        .collect();
    assert_eq!(archived, vec!["DRINK-BARISTA"]);
    // A price change leaves the name index as it was.
    s.edit_product(
        "CHOC-DARK",
        ProductEdit {
            price: Some(250),
            ..ProductEdit::default()
        },
    )?;
    assert_eq!(skus(&s, "dark choc")?, vec!["CHOC-DARK"]);
    Ok(())
}

#[test]
fn another_process_writing_the_file_is_seen() -> R {
    let dir = tempfile::tempdir()?;
    let s = new_store(&dir)?;
    assert_eq!(skus(&s, "tea")?, Vec::<String>::new());
    let mut other = Store::open(&dir.path().join("s.db"))?;
    other.add_product(product("TEA-GREEN", "Green Tea 20 bags", 100))?;
    other.edit_product(
        "CHOC-MILK",
        ProductEdit {
            name: Some("Milk Chocolate Tea Cake".into()),
            ..ProductEdit::default()
        },
    )?;
    other.archive_product("MILK-2L")?;
    assert_eq!(skus(&s, "tea")?, vec!["CHOC-MILK", "TEA-GREEN"]);
    assert_eq!(skus(&s, "whole milk")?, vec!["MILK-1L"]);
    assert!(skus(&s, "milk bar")?.is_empty());
    Ok(())
}

#[test]
fn any_text_is_a_search_not_an_error() -> R {
    let dir = tempfile::tempdir()?;
    let s = new_store(&dir)?;
    let long = "choc ".repeat(2_000);
    let odd = [
        "",
        "   ",
        "\"",
        "\"dark",
        "*",
        "choc*",
        "-",
        "-milk",
        "NEAR",
        "NEAR(dark choc)",
        "dark NEAR choc",
        "name:dark",
        ":",
        "^dark",
        "dark AND choc",
        "dark OR milk",
        "NOT milk",
        "(",
        ")",
        "'",
        "%",
        "_",
        "\\",
        "\u{0}",
        "\u{10FFFF}",
        "😀",
        "Čokoláda",
        "ščř 1l",
        "日本",
        &long,
    ];
    for q in odd {
        for limit in [0, 1, 20] {
            s.search_products(q, limit, false)?;
            s.search_products(q, limit, true)?;
        }
    }
    // FTS5 words are plain words here.
    assert!(skus(&s, "NEAR")?.is_empty());
    assert_eq!(skus(&s, "dark AND choc")?, Vec::<String>::new());
    assert_eq!(skus(&s, "choc*")?, vec!["CHOC-DARK", "CHOC-MILK"]);
    assert_eq!(skus(&s, "-milk 1l")?, vec!["MILK-1L"]);
    assert_eq!(skus(&s, &long)?, vec!["CHOC-DARK", "CHOC-MILK"]);
    Ok(())
}
