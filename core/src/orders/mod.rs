//! Pickup orders between one store and one customer, in two documents with
//! one kind of writer each:
//!
//! - `store/{s}/orders/{c}/requests`: the customer's devices put orders
//!   (a shopping list sent for pickup) and cancellations;
//! - `store/{s}/orders/{c}/status`: the store's devices put the shop's
//!   steps (accepted with unavailable lines, ready, rejected, collected).
//!
//! Only that customer and that store's devices read them
//! (`crate::access`). Records are immutable (`records.rs`), checked by the
//! same rules everywhere (`validate.rs`); an order's state comes from which
//! records exist (`state.rs`), the same on the till (`project.rs`,
//! `till.rs`) and the customer's device (`customer_side.rs`).

pub mod customer_side;
#[cfg(feature = "store")]
pub mod project;
pub mod records;
pub mod state;
#[cfg(feature = "store")]
pub mod till;
pub mod validate;
