//! `shopsync favourites`: the Sell screen's grid from the command line,
//! through the real binary on a real file.

mod common;

use common::{E, R, Till};
use serde_json::Value;

fn skus(list: &Value) -> Result<Vec<String>, E> {
    Ok(list
        .as_array()
        .ok_or("a list")?
        .iter()
        .filter_map(|f| f["sku"].as_str().map(str::to_string))
        .collect())
}

#[test]
fn favourites_are_listed_added_moved_and_removed() -> R {
    let dir = tempfile::tempdir()?;
    let t = Till::new(dir.path(), "fav");
    t.init("Cafe", "A")?;
    for (sku, name, price) in [
        ("BUN", "Bun", "0.60"),
        ("TEA", "Tea", "1.80"),
        ("CAKE", "Cake", "3.20"),
    ] {
        t.add_product(sku, name, price)?;
    }
    assert_eq!(t.human(&["favourites", "list"])?.trim(), "no favourites");

    t.json(&["favourites", "add", "BUN"])?;
    t.json(&["favourites", "add", "TEA"])?;
    let list = t.json(&["favourites", "add", "CAKE", "--pos", "1"])?;
    assert_eq!(skus(&list)?, vec!["CAKE", "BUN", "TEA"]);
    assert_eq!(list[0]["price"], "3.20");
    assert_eq!(list[0]["pos"], 1);
    let list = t.json(&["favourites", "move", "TEA", "2"])?;
    assert_eq!(skus(&list)?, vec!["CAKE", "TEA", "BUN"]);
    let list = t.json(&["favourites", "remove", "CAKE"])?;
    assert_eq!(skus(&list)?, vec!["TEA", "BUN"]);
    let human = t.human(&["favourites", "list"])?;
    assert_eq!(human.lines().next(), Some("1. TEA  Tea  1.80"), "{human}");

    // Refused with one line, and the grid is as it was.
    let err = t.fails(&["favourites", "add", "TEA"])?;
    assert!(err.contains("a favourite already"), "{err}");
    let err = t.fails(&["favourites", "add", "NOPE"])?;
    assert!(err.contains("not found"), "{err}");
    let err = t.fails(&["favourites", "move", "BUN", "0"])?;
    assert!(err.contains("position 0"), "{err}");
    let err = t.fails(&["favourites", "remove", "CAKE"])?;
    assert!(err.contains("not found"), "{err}");
    assert_eq!(skus(&t.json(&["favourites", "list"])?)?, vec!["TEA", "BUN"]);
    Ok(())
}
