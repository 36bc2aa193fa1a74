//! The customer's web app, end to end: headless Chromium driven through
//! chromedriver, against the real `shopsync-server` process, with shops
//! made by the real `shopsync` CLI. Nothing is faked; every process runs on
//! free 127.0.0.1 ports in temporary folders, and everything is stopped and
//! removed when its value drops.
//!
//! - [`Server`]: the sync server (which serves the web app at `/`); it can
//!   be stopped and started again on the same port and database.
//! - [`Shop`]: a till store with products and stock, enrolled with the
//!   server and publishing its catalog; [`product`] says what product `i`
//!   is. [`Customer`]: a customer on the CLI. [`Cli`]: any CLI command.
//! - [`Browser`]: one Chromium session ([`Viewport::PHONE`] or
//!   [`Viewport::DESKTOP`]) on a [`Profile`] that a later `Browser` can
//!   reopen (same IndexedDB); network off and on; the console log. It
//!   derefs to [`crate::Page`] for the element helpers; `screens.rs` adds
//!   the app's own steps (sign up, make a list, favourite a shop…).
//!
//! Needs `shopsync-server` and `shopsync` built in the same target
//! directory and profile as the test (or `SHOPSYNC_SERVER_BIN`,
//! `SHOPSYNC_CLI_BIN`), and Debian's `chromium` and `chromium-driver`
//! (or `CHROMIUM`, `CHROMEDRIVER`). `scripts/e2e-web.sh` arranges it.

mod browser;
mod cli;
mod screens;
mod server;
mod shop;
mod vendor;

pub use crate::page::Violation;
pub use browser::{Browser, ConsoleEntry, Profile, Viewport};
pub use cli::{Cli, Customer};
pub use screens::Item;
pub use server::Server;
pub use shop::{Product, Shop, product};
