//! The Sell screen's favourites grid on the command line:
//! `favourites list|add SKU [--pos N]|move SKU N|remove SKU`.

use std::fmt::Write;

use clap::Subcommand;
use shopsync_core::types::Favourite;
use shopsync_core::{Result, Store};

use crate::output::Output;

#[derive(Subcommand, Debug)]
pub enum FavouritesCmd {
    /// The grid in order.
    List,
    /// Put a product (SKU, id or SKU#n) on the grid, last or at place N (1 first).
    Add {
        product: String,
        #[arg(long, allow_hyphen_values = true)]
        pos: Option<i64>,
    },
    /// Move a favourite to place N (1 first).
    Move {
        product: String,
        #[arg(allow_hyphen_values = true)]
        pos: i64,
    },
    /// Take a product off the grid.
    Remove { product: String },
}

pub fn run(store: &mut Store, cmd: FavouritesCmd) -> Result<Output> {
    let list = match cmd {
        FavouritesCmd::List => store.favourites()?,
        FavouritesCmd::Add { product, pos } => store.add_favourite(&product, pos)?,
        FavouritesCmd::Move { product, pos } => store.move_favourite(&product, pos)?,
        FavouritesCmd::Remove { product } => store.remove_favourite(&product)?,
    };
    Output::new(grid(&list), &list)
}

fn grid(list: &[Favourite]) -> String {
    let mut s = String::new();
    for f in list {
        let _ = writeln!(s, "{}. {}  {}  {}", f.pos, f.sku, f.name, f.price);
    }
    if list.is_empty() {
        s.push_str("no favourites\n");
    }
    s
}
