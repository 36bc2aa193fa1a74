//! The command line of reordering and purchase orders (issue 10).

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Subcommand, Debug)]
pub enum ReorderCmd {
    /// Products at or below their reorder point by available stock, by
    /// supplier, with a suggested quantity (less what is already on order).
    List {
        /// Only this supplier's products (supplier id).
        #[arg(long)]
        supplier: Option<String>,
    },
    /// Low-stock alerts: how many active products are at or below their
    /// reorder point by available stock now, and which.
    Alerts,
}

#[derive(Subcommand, Debug)]
pub enum PoCmd {
    /// Order goods from a supplier (a supervisor's or manager's PIN once the store has staff).
    Create(PoCreateArgs),
    /// Purchase orders, newest first.
    List {
        /// open, partially_received, received or closed.
        #[arg(long)]
        status: Option<String>,
    },
    /// One order: its lines (ordered, received, outstanding, cost) and receipts.
    Show { id: String },
    /// Receive a delivery against an order (partial deliveries add up, on any till).
    Receive(PoReceiveArgs),
    /// Close an order: nothing more is expected (cancels what is outstanding).
    Close {
        id: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Write the order as CSV for the supplier (sku, supplier, name, qty, unit_cost, line_total).
    Export { id: String, file: PathBuf },
}

#[derive(Args, Debug)]
pub struct PoCreateArgs {
    /// The supplier's id.
    #[arg(long)]
    pub supplier: String,
    /// `SKU=QTY[@COST]`, once per product; without a cost, the product's cost.
    #[arg(long = "line", value_name = "SKU=QTY[@COST]")]
    pub lines: Vec<String>,
    /// Add every product of this supplier's reorder list with its suggested quantity.
    #[arg(long)]
    pub from_reorder: bool,
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Args, Debug)]
pub struct PoReceiveArgs {
    pub id: String,
    /// `SKU=QTY[@COST]`, once per product; without a cost, the order's cost.
    #[arg(long = "line", value_name = "SKU=QTY[@COST]", required = true)]
    pub lines: Vec<String>,
    /// Accept products that are not on the order.
    #[arg(long)]
    pub allow_extra: bool,
}
