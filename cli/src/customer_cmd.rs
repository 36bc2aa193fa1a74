//! `shopsync customer …`: each command opens the customer's file (creating
//! it on first use: lists work before any account), calls the core, renders.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;
use shopsync_core::sync::customer_account;
use shopsync_core::sync::customer_client::{
    self, CustomerClient, WatchEnd, WatchOptions, search_shops, sync_once,
};
use shopsync_core::types::ItemWhat;
use shopsync_core::{CoreError, CustomerStore, Result};

use crate::customer_args::{CustomerArgs, CustomerCmd, FavouriteCmd, ListCmd, OrderCmd};
use crate::customer_output as out;
use crate::output::Output;

/// The customer's file in the platform data folder when `--db` is not given.
pub fn default_file() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("shopsync")
        .join("customer.db")
}

pub fn run(db: &Path, a: CustomerArgs, json_mode: bool) -> Result<Output> {
    let mut s = CustomerStore::open_or_create(db)?;
    match a.cmd {
        CustomerCmd::Signup {
            server,
            name,
            email,
            allow_insecure_http,
        } => {
            let client = CustomerClient::new(&server, None, allow_insecure_http)?;
            let account = customer_account::signup(
                &mut s,
                &client,
                &name,
                email.as_deref(),
                allow_insecure_http,
            )?;
            let synced = first_sync(&mut s);
            Output::new(
                format!(
                    "signed up as {} (customer {}) on {}{synced}",
                    name.trim(),
                    account.customer_id,
                    client.base()
                ),
                &account,
            )
        }
        CustomerCmd::Link {
            server,
            code,
            allow_insecure_http,
        } => {
            let client = CustomerClient::new(&server, None, allow_insecure_http)?;
            let account = customer_account::link(&mut s, &client, &code, allow_insecure_http)?;
            let synced = first_sync(&mut s);
            Output::new(
                format!(
                    "linked to customer {} on {}{synced}",
                    account.customer_id,
                    client.base()
                ),
                &account,
            )
        }
        CustomerCmd::LinkCode => {
            let code = CustomerClient::for_store(&s)?.link_code()?;
            Output::new(
                format!(
                    "link code {} (valid until {}): on the other device run\n  shopsync customer link --server {} --code {}",
                    code.code,
                    out::when(Some(code.expires_at)),
                    s.account()?.server.unwrap_or_default(),
                    code.code
                ),
                &json!({ "code": code.code, "expires_at": code.expires_at }),
            )
        }
        CustomerCmd::Me => {
            let account = s.account()?;
            let profile = s.profile()?;
            let online = match s.sync_config()? {
                Some(_) => Some(CustomerClient::for_store(&s)?.me()?),
                None => None,
            };
            Output::new(
                out::me(&account, &profile, online.as_ref()),
                &json!({ "account": account, "profile": profile, "server": online }),
            )
        }
        CustomerCmd::Shops { search } => {
            let client = CustomerClient::for_store(&s)?;
            let shops = search_shops(&mut s, &client, search.as_deref())?;
            Output::new(out::shops(&shops), &shops)
        }
        CustomerCmd::Favourite(cmd) => favourite(&mut s, cmd),
        CustomerCmd::Catalog { shop, search } => {
            let view = s.catalog(&shop, search.as_deref())?;
            Output::new(out::catalog(&view, &shop), &view)
        }
        CustomerCmd::List(cmd) => list(&mut s, cmd),
        CustomerCmd::Order(OrderCmd::Send { list, shop, note }) => {
            let sent = s.send_order(&list, &shop, note.as_deref())?;
            let shops = s.known_shops()?;
            let mut human = format!(
                "order {} sent to {}: {} line(s); it reaches the shop with the next sync",
                sent.order.id,
                out::shop_name(&shops, &sent.order.store_id),
                sent.order.lines.len()
            );
            if sent.left_out > 0 {
                human.push_str(&format!(
                    "\n{} item(s) left out: products of another shop",
                    sent.left_out
                ));
            }
            Output::new(human, &sent)
        }
        CustomerCmd::Order(OrderCmd::Cancel { id, reason }) => {
            let o = s.cancel_order(&id, reason.as_deref())?;
            Output::new(format!("order {} cancelled", o.id), &o)
        }
        CustomerCmd::Orders => {
            let orders = s.orders()?;
            let shops = s.known_shops()?;
            Output::new(out::orders(&orders, &shops), &orders)
        }
        CustomerCmd::Sync { watch: false } => {
            let client = CustomerClient::for_store(&s)?;
            let r = sync_once(&mut s, &client)?;
            Output::new(out::sync_report(&r), &r)
        }
        CustomerCmd::Sync { watch: true } => watch(&mut s, json_mode),
    }
}

/// The sync right after a sign-up or link: its outcome as a line (a
/// failure does not undo the account).
fn first_sync(s: &mut CustomerStore) -> String {
    let result = CustomerClient::for_store(s).and_then(|client| sync_once(s, &client));
    match result {
        Ok(r) => format!("\n{}", out::sync_report(&r)),
        Err(e) => format!("\nnot synced yet ({e}): run `shopsync customer sync` later"),
    }
}

fn favourite(s: &mut CustomerStore, cmd: FavouriteCmd) -> Result<Output> {
    match cmd {
        FavouriteCmd::Add { shop } => {
            let id = s.add_favourite(&shop)?;
            let shops = s.known_shops()?;
            Output::new(
                format!(
                    "{} is a favourite: its catalog and your orders there sync from now on",
                    out::shop_name(&shops, &id)
                ),
                &json!({ "store_id": id, "favourite": true }),
            )
        }
        FavouriteCmd::Remove { shop } => {
            let id = s.remove_favourite(&shop)?;
            let shops = s.known_shops()?;
            Output::new(
                format!("{} is no longer a favourite", out::shop_name(&shops, &id)),
                &json!({ "store_id": id, "favourite": false }),
            )
        }
        FavouriteCmd::List => {
            let favs = s.favourites()?;
            Output::new(out::favourites(&favs), &favs)
        }
    }
}

fn list(s: &mut CustomerStore, cmd: ListCmd) -> Result<Output> {
    let show = |s: &mut CustomerStore, l: &shopsync_core::types::ShoppingList| -> Result<String> {
        out::list(s, l)
    };
    match cmd {
        ListCmd::New { name } => {
            let l = s.new_list(&name)?;
            Output::new(format!("list '{}' created ({})", l.name, l.id), &l)
        }
        ListCmd::Rename { list, name } => {
            let l = s.rename_list(&list, &name)?;
            Output::new(format!("list renamed to '{}'", l.name), &l)
        }
        ListCmd::Delete { list } => {
            let l = s.delete_list(&list)?;
            Output::new(format!("list '{}' deleted", l.name), &l)
        }
        ListCmd::Show { list } => {
            let l = s.list(&list)?;
            let human = show(s, &l)?;
            Output::new(human, &l)
        }
        ListCmd::Ls => {
            let lists = s.lists()?;
            Output::new(out::lists(&lists), &lists)
        }
        ListCmd::Add {
            list,
            text,
            product,
            qty,
        } => {
            let what = match (text, product) {
                (_, Some(p)) => {
                    let (shop, sku) = p.rsplit_once(':').ok_or_else(|| {
                        CoreError::invalid("product", format!("'{p}' is not SHOP:SKU"))
                    })?;
                    ItemWhat::Product {
                        store_id: s.resolve_shop(shop)?,
                        sku: sku.to_string(),
                    }
                }
                (Some(text), None) => ItemWhat::Text { text },
                (None, None) => {
                    return Err(CoreError::invalid(
                        "text",
                        "give the item's text, or --product SHOP:SKU",
                    ));
                }
            };
            let (l, _) = s.add_item(&list, &what, qty)?;
            let human = show(s, &l)?;
            Output::new(human, &l)
        }
        ListCmd::Qty { list, item, qty } => {
            let l = s.set_qty(&list, &item, qty)?;
            let human = show(s, &l)?;
            Output::new(human, &l)
        }
        ListCmd::Tick { list, item } => {
            let l = s.set_checked(&list, &item, true)?;
            let human = show(s, &l)?;
            Output::new(human, &l)
        }
        ListCmd::Untick { list, item } => {
            let l = s.set_checked(&list, &item, false)?;
            let human = show(s, &l)?;
            Output::new(human, &l)
        }
        ListCmd::Remove { list, item } => {
            let l = s.remove_item(&list, &item)?;
            let human = show(s, &l)?;
            Output::new(human, &l)
        }
        ListCmd::Move { list, item, to } => {
            if to == 0 {
                return Err(CoreError::invalid("to", "positions start at 1"));
            }
            let l = s.move_item(&list, &item, to - 1)?;
            let human = show(s, &l)?;
            Output::new(human, &l)
        }
    }
}

/// Syncs on every notice and at least every 30 s, a line per attempt,
/// until the device is revoked (then exits with an error).
fn watch(s: &mut CustomerStore, json_mode: bool) -> Result<Output> {
    let client = CustomerClient::for_store(s)?;
    let end = customer_client::watch(s, &client, &WatchOptions::default(), |r| {
        let line = match (r, json_mode) {
            (Ok(r), true) => json!({ "ok": true, "report": r }).to_string(),
            (Err(e), true) => json!({ "ok": false, "error": e.to_string() }).to_string(),
            (Ok(r), false) => format!("{} {}", out::when(Some(now())), out::sync_report(r)),
            (Err(e), false) => format!("{} {e}", out::when(Some(now()))),
        };
        let mut o = std::io::stdout().lock();
        let _ = writeln!(o, "{line}");
        let _ = o.flush();
    })?;
    match end {
        WatchEnd::Revoked => Err(CoreError::Unauthorized(
            "sync stopped: the server revoked this device".into(),
        )),
        WatchEnd::Stopped => Output::new("sync stopped", &json!({ "stopped": true })),
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
