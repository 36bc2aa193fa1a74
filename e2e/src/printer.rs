//! The receipt printer on 127.0.0.1 the till's tests print to (shared with
//! the core's and the CLI's tests).

pub use shopsync_testkit::printer::{LoopbackPrinter, contains_bytes, offline_printer};
