//! A shop for the customer's web app to see: a till store made with the
//! real CLI (products by CSV import, stock by one delivery), publishing
//! its catalog, enrolled with a [`Server`] and synced.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use serde_json::Value;
use tempfile::TempDir;

use super::server::field;
use super::{Cli, Server};

/// What product `i` of a [`Shop`] is (`i` from 1). Deterministic, so a test
/// knows what to look for without asking the shop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Product {
    /// `P00001`…
    pub sku: String,
    /// e.g. "Green tea 500g 42": an everyday item, a size, and `i`.
    pub name: String,
    /// In cents, 0.50 to 10.49.
    pub price_cents: i64,
    /// Units received: every 10th has none (out), every 10th from 5 has 2
    /// (low: at most the reorder point), the rest 10 to 49 (in stock).
    pub stock: i64,
    pub reorder_point: i64,
}

const ITEMS: [&str; 16] = [
    "Apple juice",
    "Oat milk",
    "Green tea",
    "Coffee beans",
    "Sourdough loaf",
    "Butter",
    "Cheddar",
    "Basmati rice",
    "Penne pasta",
    "Tomatoes",
    "Olive oil",
    "Honey",
    "Free-range eggs",
    "Greek yoghurt",
    "Bananas",
    "Dark chocolate",
];
const SIZES: [&str; 5] = ["250g", "500g", "1kg", "1L", "6 pack"];

/// Product `i` (from 1) of every [`Shop`].
pub fn product(i: usize) -> Product {
    let item = ITEMS[i % ITEMS.len()];
    let size = SIZES[(i / ITEMS.len()) % SIZES.len()];
    let stock = match i % 10 {
        0 => 0,
        5 => 2,
        _ => 10 + (i % 40) as i64,
    };
    Product {
        sku: format!("P{i:05}"),
        name: format!("{item} {size} {i}"),
        price_cents: 50 + ((i * 37) % 1000) as i64,
        stock,
        reorder_point: 3,
    }
}

/// "1.99" for 199 cents.
fn price(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// A till store enrolled with a server as its shop's manager till. Its
/// folder is removed on drop.
pub struct Shop {
    pub name: String,
    pub store_id: String,
    pub cli: Cli,
    products: usize,
    dir: TempDir,
}

impl Shop {
    /// A shop named `name` with products 1..=`n` ([`product`]) and their
    /// stock, publishing, enrolled with `server` and synced: once the server
    /// has derived its public catalog (a moment later), customers see it.
    /// Thousands of products take seconds (one CSV import, one delivery).
    pub fn with_products(server: &Server, name: &str, n: usize) -> Result<Shop> {
        let dir = tempfile::Builder::new()
            .prefix("shopsync-web-shop-")
            .tempdir()?;
        let cli = Cli::till(&dir.path().join("till.db"))?;
        cli.run(&[
            "init",
            "--store-name",
            name,
            "--till",
            "Till 1",
            "--currency",
            "EUR",
        ])?;
        let shop = Shop {
            name: name.into(),
            store_id: String::new(),
            cli,
            products: n,
            dir,
        };
        shop.add_products(n)?;
        shop.run(&["setting", "set", "publish", "true"])?;
        let (_, code) = server.create_store(name)?;
        let enrolled = shop.run(&["enrol", "--server", &server.url(), "--code", &code])?;
        // The server adopts the store of the first till that brings one.
        let store_id = field(&enrolled, "store_id")?;
        shop.run(&["sync"])?;
        Ok(Shop { store_id, ..shop })
    }

    /// Products 1..=n by CSV import, then their stock as one delivery.
    fn add_products(&self, n: usize) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        let mut csv = String::from("sku,name,price,reorder_point\n");
        let mut delivery = vec!["receive".to_string()];
        for p in (1..=n).map(product) {
            writeln!(
                csv,
                "{},{},{},{}",
                p.sku,
                p.name,
                price(p.price_cents),
                p.reorder_point
            )?;
            if p.stock > 0 {
                delivery.push(format!("{}x{}", p.sku, p.stock));
            }
        }
        let file = self.dir.path().join("products.csv");
        std::fs::write(&file, csv)?;
        let file = file
            .to_str()
            .ok_or_else(|| anyhow!("{} is not UTF-8", file.display()))?;
        self.run(&["product", "import", file])?;
        let delivery: Vec<&str> = delivery.iter().map(String::as_str).collect();
        self.run(&delivery)?;
        Ok(())
    }

    /// Runs a till command (`shopsync --db TILL --json ARGS…`) on this shop.
    pub fn run(&self, args: &[&str]) -> Result<Value> {
        self.cli.run(args)
    }

    /// Syncs with the server once.
    pub fn sync(&self) -> Result<Value> {
        self.run(&["sync"])
    }

    /// The open pickup orders (after a [`Shop::sync`] to see new ones).
    pub fn orders(&self) -> Result<Vec<Value>> {
        let v = self.run(&["orders"])?;
        v.as_array()
            .cloned()
            .ok_or_else(|| anyhow!("orders is not a list: {v}"))
    }

    /// How many products the shop was made with.
    pub fn product_count(&self) -> usize {
        self.products
    }

    /// The till's store file.
    pub fn db(&self) -> &Path {
        self.cli.db()
    }

    /// A file in the shop's own folder (for exports and the like).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}
