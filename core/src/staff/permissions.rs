//! Which staff role may do what: one table. A role may do everything the
//! roles below it may (cashier < supervisor < manager). What a role may not
//! do alone needs the PIN of someone whose role may (an approval, recorded
//! in the ledger record).

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

/// A staff member's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    Cashier,
    Supervisor,
    Manager,
}

impl StaffRole {
    pub const ALL: [StaffRole; 3] = [
        StaffRole::Cashier,
        StaffRole::Supervisor,
        StaffRole::Manager,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Cashier => "cashier",
            StaffRole::Supervisor => "supervisor",
            StaffRole::Manager => "manager",
        }
    }
}

impl std::fmt::Display for StaffRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for StaffRole {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cashier" => Ok(StaffRole::Cashier),
            "supervisor" => Ok(StaffRole::Supervisor),
            "manager" => Ok(StaffRole::Manager),
            other => Err(CoreError::invalid(
                "role",
                format!("unknown role '{other}': use cashier, supervisor or manager"),
            )),
        }
    }
}

/// Something a staff member asks the till to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Sell,
    Park,
    /// A refund of this many minor units.
    Refund {
        amount: i64,
    },
    /// A line sold at another price than the catalog's.
    PriceOverride,
    /// A line discount of this many basis points.
    Discount {
        bp: u32,
    },
    OpenDrawerSession,
    // drawer sessions (issue 10): closing, and cash in/out that is not a
    // sale or refund (a cash out is its own action so a shop's table can
    // ask more of it than of a cash in).
    CloseDrawerSession,
    DrawerCashIn,
    /// Cash out of this many minor units: a cashier alone up to the
    /// shop's cashier refund limit (what a cashier may hand out alone).
    DrawerCashOut {
        amount: i64,
    },
    NoSaleDrawerOpen,
    Void,
    ReceiveStock,
    AdjustStock,
    PostCount,
    /// Products, suppliers, tax classes, categories, settings.
    EditCatalog,
    /// Adding staff, changing their roles and PINs, deactivating them.
    ManageStaff,
    // purchasing (issue 10); receiving against an order is `ReceiveStock`
    /// Ordering goods from a supplier (money leaves the shop later).
    CreatePurchaseOrder,
    /// Cancelling what is still outstanding on an order.
    ClosePurchaseOrder,
}

impl Action {
    pub fn describe(self) -> String {
        match self {
            Action::Sell => "selling".into(),
            Action::Park => "parking a sale".into(),
            Action::Refund { .. } => "a refund above the cashier limit".into(),
            Action::PriceOverride => "a price override".into(),
            Action::Discount { bp } => format!("a discount of {bp} basis points"),
            Action::OpenDrawerSession => "opening a drawer session".into(),
            Action::CloseDrawerSession => "closing a drawer session".into(),
            Action::DrawerCashIn => "putting cash into the drawer".into(),
            Action::DrawerCashOut { .. } => {
                "taking cash out of the drawer above the cashier limit".into()
            }
            Action::NoSaleDrawerOpen => "opening the drawer without a sale".into(),
            Action::Void => "a void".into(),
            Action::ReceiveStock => "receiving stock".into(),
            Action::AdjustStock => "a stock adjustment".into(),
            Action::PostCount => "posting a count".into(),
            Action::EditCatalog => "a catalog edit".into(),
            Action::ManageStaff => "managing staff".into(),
            Action::CreatePurchaseOrder => "creating a purchase order".into(),
            Action::ClosePurchaseOrder => "closing a purchase order".into(),
        }
    }
}

/// The shop's limits for cashiers: store settings `cashier_refund_limit`
/// (minor units) and `cashier_discount_limit_bp` (basis points). Unset or
/// unreadable, a limit is 0: every refund and discount needs a supervisor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub cashier_refund: i64,
    pub cashier_discount_bp: u32,
}

/// Setting names of the limits.
pub const REFUND_LIMIT_SETTING: &str = "cashier_refund_limit";
pub const DISCOUNT_LIMIT_SETTING: &str = "cashier_discount_limit_bp";
/// Setting: minutes without input after which a till locks and asks for a
/// PIN again (0: never; unset: [`DEFAULT_LOCK_AFTER_MINUTES`]).
pub const LOCK_AFTER_SETTING: &str = "lock_after_minutes";
pub const DEFAULT_LOCK_AFTER_MINUTES: u32 = 5;
/// The longest idle time a shop may set (a day).
pub const MAX_LOCK_AFTER_MINUTES: i64 = 24 * 60;

/// The lowest role that may do `action` alone.
pub fn required_role(action: Action, limits: &Limits) -> StaffRole {
    use Action::*;
    use StaffRole::*;
    match action {
        Sell | Park | OpenDrawerSession | ReceiveStock | PostCount => Cashier,
        CloseDrawerSession | DrawerCashIn => Cashier,
        DrawerCashOut { amount } if amount <= limits.cashier_refund => Cashier,
        DrawerCashOut { .. } => Supervisor,
        Refund { amount } if amount <= limits.cashier_refund => Cashier,
        Discount { bp } if bp <= limits.cashier_discount_bp => Cashier,
        Refund { .. } | Discount { .. } => Supervisor,
        PriceOverride | NoSaleDrawerOpen | Void | AdjustStock => Supervisor,
        EditCatalog | ManageStaff => Manager,
        CreatePurchaseOrder | ClosePurchaseOrder => Supervisor,
    }
}

/// Whether `role` may do `action` alone.
pub fn allows(role: StaffRole, action: Action, limits: &Limits) -> bool {
    role >= required_role(action, limits)
}
