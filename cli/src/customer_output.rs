//! Human output of `shopsync customer …`: short lines, prices with their
//! currency, availability as "in stock / low / out". Text from other
//! devices and shops is printed with control characters replaced.

use std::fmt::Write;

use shopsync_core::customer_store::{Account, CatalogView, KnownShop};
use shopsync_core::sync::customer_api::CustomerAccount;
use shopsync_core::sync::customer_client::CustomerSyncReport;
use shopsync_core::sync::customer_wire::ShopListing;
use shopsync_core::types::orders::price_text;
use shopsync_core::types::{CustomerProfile, ItemWhat, OrderView, PublicProduct, ShoppingList};
use shopsync_core::{CustomerStore, Result};

/// Text from elsewhere, with control characters (terminal escapes) as `?`.
pub fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

pub fn when(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::<chrono::Utc>::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "never".into())
}

/// A shop's name as this device knows it, or its id.
pub fn shop_name(shops: &[KnownShop], id: &str) -> String {
    shops
        .iter()
        .find(|s| s.store_id == id && !s.name.is_empty())
        .map(|s| clean(&s.name))
        .unwrap_or_else(|| format!("shop {id}"))
}

pub fn me(a: &Account, p: &CustomerProfile, online: Option<&CustomerAccount>) -> String {
    let mut s = String::new();
    let name = p.name.clone().or(a.name.clone()).unwrap_or_default();
    if a.signed_up {
        let _ = writeln!(
            s,
            "{} (customer {}) on {}",
            clean(&name),
            a.customer_id,
            a.server.clone().unwrap_or_default()
        );
        let _ = writeln!(
            s,
            "this device: {}",
            a.device_id.clone().unwrap_or_default()
        );
    } else {
        let _ = writeln!(
            s,
            "no account yet (lists stay on this device): `shopsync customer signup` or `link`"
        );
    }
    if let Some(e) = &p.email {
        let _ = writeln!(s, "e-mail: {}", clean(e));
    }
    if let Some(acc) = online {
        for d in &acc.devices {
            let _ = writeln!(
                s,
                "  device {} {}{}",
                d.device_id,
                clean(&d.device_name),
                if d.revoked { "  (revoked)" } else { "" }
            );
        }
    }
    s
}

pub fn shops(list: &[ShopListing]) -> String {
    if list.is_empty() {
        return "no shops found".into();
    }
    list.iter()
        .map(|x| format!("{:<30} {}\n", clean(&x.name), x.store_id))
        .collect()
}

pub fn favourites(list: &[KnownShop]) -> String {
    if list.is_empty() {
        return "no favourite shops: `shopsync customer favourite add SHOP`".into();
    }
    list.iter()
        .map(|x| {
            let name = if x.name.is_empty() {
                "(name not synced yet)".to_string()
            } else {
                clean(&x.name)
            };
            format!("{name:<30} {}\n", x.store_id)
        })
        .collect()
}

fn product_line(p: &PublicProduct, currency: &str) -> String {
    let mut avail = p.availability.as_str().to_string();
    if let Some(n) = p.count {
        avail = format!("{avail} ({n})");
    }
    format!(
        "{:<14} {:<32} {:>12}  {avail}",
        clean(&p.sku),
        clean(&p.name),
        format!("{} {currency}", price_text(p.price, currency))
    )
}

pub fn catalog(v: &CatalogView, asked: &str) -> String {
    if !v.synced {
        return format!(
            "the catalog of {} was never synced on this device: run `shopsync customer sync` to fetch it",
            if v.catalog.name.is_empty() {
                clean(asked)
            } else {
                clean(&v.catalog.name)
            }
        );
    }
    let c = &v.catalog;
    let mut s = format!(
        "{} ({}), synced {}\n",
        clean(&c.name),
        c.currency,
        when(v.synced_at)
    );
    if !c.published {
        s.push_str("this shop does not publish its catalog\n");
    } else if c.products.is_empty() {
        s.push_str("no products\n");
    }
    for p in &c.products {
        let _ = writeln!(s, "  {}", product_line(p, &c.currency));
    }
    s
}

pub fn lists(lists: &[ShoppingList]) -> String {
    if lists.is_empty() {
        return "no lists: `shopsync customer list new NAME`".into();
    }
    lists
        .iter()
        .map(|l| {
            let ticked = l.items.iter().filter(|i| i.checked).count();
            format!(
                "{:<30} {:>3} item(s), {ticked} ticked  {}\n",
                clean(&l.name),
                l.items.len(),
                l.id
            )
        })
        .collect()
}

/// One list, its products named and priced from the shops' synced catalogs.
pub fn list(store: &mut CustomerStore, l: &ShoppingList) -> Result<String> {
    let shops = store.known_shops()?;
    let mut s = format!("{}  ({})\n", clean(&l.name), l.id);
    if l.items.is_empty() {
        s.push_str("  (empty)\n");
    }
    for (n, i) in l.items.iter().enumerate() {
        let what = match &i.what {
            ItemWhat::Text { text } => clean(text),
            ItemWhat::Product { store_id, sku } => {
                let c = store.stored_catalog(store_id)?;
                let shop = shop_name(&shops, store_id);
                match c.products.iter().find(|p| p.sku.eq_ignore_ascii_case(sku)) {
                    Some(p) => format!(
                        "{} [{} at {shop}, {} {}, {}]",
                        clean(&p.name),
                        clean(sku),
                        price_text(p.price, &c.currency),
                        c.currency,
                        p.availability.as_str()
                    ),
                    None => format!("{} [at {shop}]", clean(sku)),
                }
            }
        };
        let _ = writeln!(
            s,
            "  {:>2}. [{}] {} × {what}",
            n + 1,
            if i.checked { "x" } else { " " },
            i.qty
        );
    }
    Ok(s)
}

pub fn orders(orders: &[OrderView], shops: &[KnownShop]) -> String {
    if orders.is_empty() {
        return "no orders".into();
    }
    let mut s = String::new();
    for o in orders {
        let _ = write!(
            s,
            "{}  {:<9}  {}  '{}' to {}, {} line(s)",
            o.id,
            o.status.as_str(),
            when(Some(o.sent_at)),
            clean(&o.list_name),
            shop_name(shops, &o.store_id),
            o.lines.len()
        );
        let unavailable = o.lines.iter().filter(|l| l.unavailable).count();
        if unavailable > 0 {
            let _ = write!(s, ", {unavailable} unavailable");
        }
        if let Some(r) = &o.reason {
            let _ = write!(s, " ({})", clean(r));
        }
        s.push('\n');
    }
    s
}

pub fn sync_report(r: &CustomerSyncReport) -> String {
    let mut s = format!(
        "synced: {} sent, {} received, {} document(s) followed",
        r.acked, r.received_new, r.followed
    );
    for f in &r.refused {
        let _ = write!(
            s,
            "\nwarning: the server refused what was sent for {}: {}",
            clean(&f.doc_id),
            clean(&f.error)
        );
    }
    for f in &r.failed {
        let _ = write!(
            s,
            "\nwarning: changes to {} were not applied (asked again next sync): {}",
            clean(&f.doc_id),
            clean(&f.error)
        );
    }
    s
}
