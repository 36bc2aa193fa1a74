//! Receipts for ESC/POS thermal printers (58 mm and 80 mm rolls) and the
//! cash drawer on the printer's drawer port.
//!
//! - [`layout`]: a saved sale as printed lines (header, lines, taxes per
//!   rate, total, tenders, change, footer, the number as a code);
//! - [`render`]: those lines as ESC/POS bytes ([`commands`]), text in code
//!   page 858 ([`codepage`]);
//! - [`sink`]: the printer over raw TCP or a device file, with time limits;
//! - [`settings`]: this till's printer (local, not synced);
//! - [`printing`]: print after a sale, reprint, test page, open the drawer;
//! - [`drawer_layout`], [`drawer_printing`]: a drawer session's X/Z report
//!   and a store day's Z report on the same printer.
//!
//! The system print dialog (the UI's HTML receipt) stays for A4 and for
//! tills without a thermal printer.

pub mod codepage;
pub mod commands;
pub mod drawer_layout;
pub mod drawer_printing;
pub mod dump;
mod labels;
pub mod layout;
pub mod printing;
pub mod render;
pub mod settings;
pub mod sink;

pub use drawer_printing::DrawerPrint;
pub use dump::dump;
pub use layout::{Layout, Piece, Shop};
pub use printing::{KICK_WINDOW_MS, Prepared, PrintJob};
pub use render::render;
pub use sink::DEFAULT_TIMEOUT;
pub use sink::{PrintError, PrinterTarget};
