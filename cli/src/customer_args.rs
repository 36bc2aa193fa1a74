//! `shopsync customer …`: a customer's device on the command line.

use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct CustomerArgs {
    #[command(subcommand)]
    pub cmd: CustomerCmd,
}

#[derive(Subcommand, Debug)]
pub enum CustomerCmd {
    /// Create a customer account on a server, with this device as its first.
    Signup {
        /// The server, e.g. https://sync.example.com.
        #[arg(long)]
        server: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: Option<String>,
        /// Allow http:// to a server that is not on this machine.
        #[arg(long, env = "SHOPSYNC_ALLOW_HTTP", value_parser = clap::builder::BoolishValueParser::new())]
        allow_insecure_http: bool,
    },
    /// Make a one-time code to link another device to this account.
    LinkCode,
    /// Link this device to an account with a code from one of its devices.
    Link {
        #[arg(long)]
        server: String,
        #[arg(long)]
        code: String,
        #[arg(long, env = "SHOPSYNC_ALLOW_HTTP", value_parser = clap::builder::BoolishValueParser::new())]
        allow_insecure_http: bool,
    },
    /// This device's account (and, online, the account's devices).
    Me,
    /// Find shops on the server (remembered by name for later commands).
    Shops {
        #[arg(long)]
        search: Option<String>,
    },
    /// Favourite shops: their catalogs and orders are synced.
    #[command(subcommand)]
    Favourite(FavouriteCmd),
    /// A shop's public catalog, as last synced (works offline).
    Catalog {
        /// A shop: its id, or its name (or a prefix) from `shops` or favourites.
        shop: String,
        #[arg(long)]
        search: Option<String>,
    },
    /// Shopping lists and their items.
    #[command(subcommand)]
    List(ListCmd),
    /// Send a list to a shop as a pickup order, or cancel one.
    #[command(subcommand)]
    Order(OrderCmd),
    /// Every pickup order with every shop, and where it stands.
    Orders,
    /// Sync with the server once; `--watch` keeps syncing.
    Sync {
        #[arg(long)]
        watch: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum FavouriteCmd {
    Add { shop: String },
    Remove { shop: String },
    List,
}

#[derive(Subcommand, Debug)]
pub enum ListCmd {
    /// A new, empty list.
    New {
        name: String,
    },
    Rename {
        list: String,
        name: String,
    },
    Delete {
        list: String,
    },
    /// One list's items.
    Show {
        list: String,
    },
    /// Every list.
    Ls,
    /// Add a line of text, or a shop's product with `--product SHOP:SKU`.
    Add {
        list: String,
        /// The item's text (not with --product).
        text: Option<String>,
        /// A shop's product: SHOP:SKU (SHOP by id or name).
        #[arg(long, conflicts_with = "text")]
        product: Option<String>,
        #[arg(long, default_value_t = 1, allow_hyphen_values = true)]
        qty: i64,
    },
    /// Change an item's quantity.
    Qty {
        list: String,
        item: String,
        #[arg(allow_hyphen_values = true)]
        qty: i64,
    },
    /// Tick an item off.
    Tick {
        list: String,
        item: String,
    },
    Untick {
        list: String,
        item: String,
    },
    Remove {
        list: String,
        item: String,
    },
    /// Move an item to a position (1 = first).
    Move {
        list: String,
        item: String,
        to: usize,
    },
}

#[derive(Subcommand, Debug)]
pub enum OrderCmd {
    /// Send the list's items not ticked off (text, and that shop's products).
    Send {
        list: String,
        #[arg(long)]
        shop: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Cancel an order the shop has not made ready yet.
    Cancel {
        /// The order's id (or a prefix).
        id: String,
        #[arg(long)]
        reason: Option<String>,
    },
}
