//! The command line, as clap sees it. Kept stable: scripts depend on it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "shopsync",
    version,
    about = "ShopSync: an offline-first till and stock system, on the command line"
)]
pub struct Cli {
    /// The store file (default: the platform data directory, e.g. ~/.local/share/shopsync/shopsync.db, the same file the app opens).
    #[arg(long, global = true, env = "SHOPSYNC_DB")]
    pub db: Option<PathBuf>,
    /// Print one JSON value on stdout (errors as JSON on stderr).
    #[arg(long, global = true)]
    pub json: bool,
    /// PIN of the staff member acting, once the store has staff (else the
    /// environment's SHOPSYNC_PIN, which stays out of shell history). In
    /// `staff add` and `staff set-pin`: the member's new PIN.
    #[arg(long, global = true, value_name = "PIN")]
    pub pin: Option<String>,
    /// PIN of a supervisor or manager approving what the acting staff
    /// member's role may not do alone (else SHOPSYNC_APPROVE_PIN). In
    /// `staff` commands: the manager's PIN.
    #[arg(long, global = true, value_name = "PIN")]
    pub approve_pin: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a store with this device as its first till, or join a store from a bundle.
    Init(InitArgs),
    /// Show this store and till.
    Info,
    /// Products: add, edit, archive, list, import, export.
    #[command(subcommand)]
    Product(ProductCmd),
    /// Suppliers (the vendor list).
    #[command(subcommand)]
    Supplier(SupplierCmd),
    /// Tax classes.
    #[command(subcommand, name = "tax-class")]
    TaxClass(TaxClassCmd),
    /// Product categories: add, rename, archive, restore, list.
    #[command(subcommand)]
    Category(CategoryCmd),
    /// Store settings (store_name, receipt_header, receipt_footer, publish true|false, publish_detail band|count, receipt_paper 58mm|80mm|a4, time_zone, cashier_refund_limit MINOR_UNITS, cashier_discount_limit_bp BASIS_POINTS, cash_sessions off|required).
    #[command(subcommand)]
    Setting(SettingCmd),
    /// Record a sale: `sell SKU[xQTY][@PRICE] … --pay cash:AMOUNT …`.
    Sell(SellArgs),
    /// Price a cart without recording it.
    Quote(QuoteArgs),
    /// Refund all or some lines of an earlier sale.
    Refund(RefundArgs),
    /// Receive a delivery: `receive [--supplier ID] SKUxQTY[@COST] …`.
    Receive(ReceiveArgs),
    /// Add or remove stock with a reason: `adjust SKU DELTA --reason damaged|lost|found|correction`.
    Adjust(AdjustArgs),
    /// Stock counts: start, record, show, post.
    #[command(subcommand)]
    Count(CountCmd),
    /// Stock levels: all, one SKU, or `--low` (at/below reorder point, and negative).
    Stock(StockArgs),
    /// Sales history (`--staff` for one staff member's).
    Sales(SalesArgs),
    /// Refunds history (`--staff` for one staff member's).
    Refunds(SalesArgs),
    /// Staff members, their roles and PINs (a manager's catalog edit).
    #[command(subcommand)]
    Staff(StaffCmd),
    /// One sale in full.
    Sale { sale_id: String },
    /// Pickup orders customers sent: the open ones (sent, accepted, ready), or `--all`.
    Orders(OrdersArgs),
    /// One pickup order: show, accept, ready, reject, collect.
    #[command(subcommand)]
    Order(OrderCmd),
    /// Reports.
    #[command(subcommand)]
    Report(ReportCmd),
    /// Bundles: the store's documents in one file (offline sync, new tills).
    #[command(subcommand)]
    Bundle(BundleCmd),
    /// Rebuild the projections from the documents.
    Rebuild(RebuildArgs),
    /// Fill the store with realistic demo data (creates a store if there is none).
    Demo(DemoArgs),
    /// Enrol this till with a sync server: a till with a store uploads it, a new till downloads it.
    Enrol(EnrolArgs),
    /// Sync with the server once; `--watch` keeps syncing in the background; `status` shows the state.
    Sync(SyncArgs),
    /// This till's receipt printer (ESC/POS, local to this till): set, show, test.
    #[command(subcommand)]
    Printer(PrinterCmd),
    /// Receipts on the thermal printer: `receipt print SALE` reprints one.
    #[command(subcommand)]
    Receipt(ReceiptCmd),
    /// The cash drawer: `drawer open` kicks it open (no sale); drawer
    /// sessions: open-session, cash-in, cash-out, close-session, status,
    /// x-report, z-report, sessions.
    #[command(subcommand)]
    Drawer(DrawerCmd),
    // purchasing (issue 10)
    /// Reorder list (`reorder list [--supplier ID]`) and low-stock alerts (`reorder alerts`).
    #[command(subcommand)]
    Reorder(crate::purchase_args::ReorderCmd),
    /// Purchase orders: create, list, show, receive, close, export.
    #[command(subcommand)]
    Po(crate::purchase_args::PoCmd),
    /// A customer's device: shopping lists, favourite shops, catalogs, pickup orders (its own file: --db, default customer.db).
    Customer(crate::customer_args::CustomerArgs),
    // favourites grid (issue 10)
    /// The Sell screen's favourites grid: list, add SKU [--pos N], move SKU N, remove SKU.
    #[command(subcommand)]
    Favourites(crate::favourites_cmd::FavouritesCmd),
}

#[derive(Args, Debug)]
pub struct EnrolArgs {
    /// The server, e.g. https://sync.example.com (or http://127.0.0.1:8787 on this machine).
    #[arg(long)]
    pub server: String,
    /// The one-time code from `shopsync-server store create` or `enrol-code create`.
    #[arg(long)]
    pub code: String,
    /// Name of this till (needed when it has no store yet).
    #[arg(long)]
    pub till: Option<String>,
    /// Allow http:// to a server that is not on this machine (the token then
    /// crosses the network in clear; remembered for this till's syncs).
    #[arg(long, env = "SHOPSYNC_ALLOW_HTTP", value_parser = clap::builder::BoolishValueParser::new())]
    pub allow_insecure_http: bool,
}

#[derive(Args, Debug)]
pub struct SyncArgs {
    #[command(subcommand)]
    pub cmd: Option<SyncCmd>,
    /// Keep syncing: on local changes, on the server's notices, with backoff when offline.
    #[arg(long)]
    pub watch: bool,
}

#[derive(Subcommand, Debug)]
pub enum SyncCmd {
    /// Online/offline, last success, changes waiting, last error.
    Status,
    /// How many minutes ahead of this till's clock another till's records
    /// may be dated before that till is flagged (shows it; sets it if given).
    ClockLimit { minutes: Option<i64> },
    /// Forget the sync server (for a server restored from a backup that no
    /// longer knows this till): keeps all data; `enrol` again afterwards.
    Forget,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    #[arg(long, required_unless_present = "from_bundle")]
    pub store_name: Option<String>,
    #[arg(long)]
    pub till: String,
    #[arg(long, default_value = "EUR")]
    pub currency: String,
    /// Join the store in this bundle as a new till.
    #[arg(long, value_name = "FILE")]
    pub from_bundle: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum ProductCmd {
    Add(ProductAddArgs),
    /// Change fields of a product; `none` clears an optional field.
    Edit(ProductEditArgs),
    /// Stop selling a product (it stays in history).
    Archive {
        sku: String,
    },
    List {
        #[arg(long)]
        search: Option<String>,
        #[arg(long, default_value_t = 1000)]
        limit: u32,
        /// Include archived products.
        #[arg(long)]
        all: bool,
        /// Only the products of this category (id or name).
        #[arg(long)]
        category: Option<String>,
    },
    /// A product by SKU, id, or SKU#n (the n-th product sharing a SKU).
    Show {
        sku: String,
    },
    /// Merge two products (one SKU made on two tills offline): OTHER is
    /// archived, its barcodes and stock on hand move to KEEP.
    Merge {
        /// Id (or SKU#n) of the product to keep.
        keep: String,
        /// Id (or SKU#n) of the product to archive.
        other: String,
    },
    /// Import products from CSV (header: sku,name,price,barcode,tax_class,cost,reorder_point,supplier,category,reorder_target).
    Import {
        file: PathBuf,
    },
    Export {
        file: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct ProductAddArgs {
    #[arg(long)]
    pub sku: String,
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub price: String,
    /// May be given several times.
    #[arg(long)]
    pub barcode: Vec<String>,
    #[arg(long)]
    pub tax_class: Option<String>,
    #[arg(long)]
    pub cost: Option<String>,
    #[arg(long)]
    pub reorder_point: Option<i64>,
    #[arg(long)]
    pub supplier: Option<String>,
    #[arg(long)]
    pub category: Option<String>,
    /// The stock level a reorder brings the product up to (at least the reorder point).
    #[arg(long)]
    pub reorder_target: Option<i64>,
}

#[derive(Args, Debug)]
pub struct ProductEditArgs {
    /// The product: id, SKU, or SKU#n (the n-th product sharing a SKU).
    pub sku: String,
    #[arg(long = "sku")]
    pub new_sku: Option<String>,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub price: Option<String>,
    /// Replaces the barcodes; give several times for several, `none` for none.
    #[arg(long)]
    pub barcode: Vec<String>,
    #[arg(long)]
    pub tax_class: Option<String>,
    #[arg(long)]
    pub cost: Option<String>,
    #[arg(long, allow_hyphen_values = true)]
    pub reorder_point: Option<String>,
    #[arg(long)]
    pub supplier: Option<String>,
    #[arg(long)]
    pub category: Option<String>,
    #[arg(long)]
    pub active: Option<bool>,
    /// The stock level a reorder brings the product up to; `none` clears it.
    #[arg(long, allow_hyphen_values = true)]
    pub reorder_target: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum CategoryCmd {
    /// A new category.
    Add { name: String },
    /// Rename a category (by id or name).
    Rename { category: String, name: String },
    /// Archive a category: its products keep it, it is offered nowhere new.
    Archive { category: String },
    /// Bring an archived category back.
    Restore { category: String },
    /// Categories with their number of active products.
    List {
        /// Include archived categories.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum SupplierCmd {
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        notes: Option<String>,
    },
    Edit {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        notes: Option<String>,
    },
    List,
}

#[derive(Subcommand, Debug)]
pub enum TaxClassCmd {
    /// Create a tax class, or change only the given fields of an existing
    /// one: `tax-class set std --rate 20 --exclusive`.
    Set {
        id: String,
        /// Percent, e.g. 20 or 5.5 (required for a new class).
        #[arg(long)]
        rate: Option<String>,
        /// Defaults to the id for a new class.
        #[arg(long)]
        name: Option<String>,
        /// Prices include this tax (the default for a new class: shelf prices are what customers pay).
        #[arg(long, conflicts_with = "exclusive")]
        inclusive: bool,
        /// Tax is added on top of prices.
        #[arg(long)]
        exclusive: bool,
    },
    List,
}

#[derive(Subcommand, Debug)]
pub enum SettingCmd {
    /// Set one setting: store_name, receipt_header, receipt_footer,
    /// publish (true|false: publish the catalog to customers),
    /// publish_detail (band|count: show customers an availability band or the exact count),
    /// receipt_paper (58mm|80mm|a4: the paper the till prints receipts on; 80mm when unset),
    /// time_zone (an IANA name such as Europe/Berlin: report days follow it; empty: each machine's zone),
    /// cashier_refund_limit (minor units a cashier refunds without approval; 0 when unset),
    /// cashier_discount_limit_bp (basis points of line discount a cashier gives without approval; 0 when unset),
    /// cash_sessions (off|required: whether cash sales and refunds need an open drawer session; off when unset).
    Set {
        key: String,
        value: String,
    },
    List,
}

#[derive(Args, Debug)]
pub struct QuoteArgs {
    /// `SKU[xQTY][@PRICE]`; a barcode works in place of a SKU.
    #[arg(required = true)]
    pub items: Vec<String>,
    /// `SKU:PERCENT` line discount, e.g. MILK:10.
    #[arg(long)]
    pub discount: Vec<String>,
    /// Why a price was overridden (for `@PRICE` items).
    #[arg(long)]
    pub reason: Option<String>,
}

#[derive(Args, Debug)]
pub struct SellArgs {
    #[command(flatten)]
    pub cart: QuoteArgs,
    /// `cash:AMOUNT`, `card:AMOUNT` or `other:AMOUNT`; several for a split tender.
    #[arg(long, required = true)]
    pub pay: Vec<String>,
    /// Print the receipt on this till's printer after the sale is saved
    /// (and open the drawer for cash). A printer failure keeps the sale:
    /// exit 0 with a warning on stderr; `receipt print` reprints.
    #[arg(long)]
    pub print: bool,
}

#[derive(Subcommand, Debug)]
pub enum PrinterCmd {
    /// Change the given settings; the others stay.
    Set(PrinterSetArgs),
    /// This till's printer settings.
    Show,
    /// Print a test page.
    Test,
}

#[derive(Args, Debug)]
pub struct PrinterSetArgs {
    /// `tcp://HOST[:PORT]` (port 9100 if left out), a device file such as
    /// `/dev/usb/lp0`, or `none`.
    #[arg(long)]
    pub target: Option<String>,
    /// 58mm or 80mm (default: the store's receipt_paper when it is a roll, else 80mm).
    #[arg(long)]
    pub paper: Option<String>,
    /// How the sale number is printed: barcode (CODE128), qr or none.
    #[arg(long)]
    pub code: Option<String>,
    /// Open the cash drawer after a cash sale (true or false; default true).
    #[arg(long)]
    pub kick_on_cash: Option<bool>,
}

#[derive(Subcommand, Debug)]
pub enum ReceiptCmd {
    /// Print a saved sale's receipt again (marked as a copy; the drawer stays shut).
    Print {
        /// The sale's id or its receipt number (e.g. A-000042).
        sale: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum DrawerCmd {
    /// Open the cash drawer without a sale.
    Open,
    // drawer sessions (issue 10)
    /// Start a drawer session on this till with the counted float.
    #[command(name = "open-session")]
    OpenSession {
        /// The float counted into the drawer, e.g. 150.00.
        #[arg(long)]
        float: String,
    },
    /// Put cash into the drawer (not a sale), with the reason.
    #[command(name = "cash-in")]
    CashIn(CashMoveArgs),
    /// Take cash out of the drawer (not a refund), e.g. a bank drop.
    #[command(name = "cash-out")]
    CashOut(CashMoveArgs),
    /// Close this till's session with the count: `--count 50.00=2 --count 0.20=13 …`,
    /// or `--counted-total X` (currencies without a table of notes and coins).
    #[command(name = "close-session")]
    CloseSession {
        /// NOTE_OR_COIN=HOW_MANY, e.g. 20.00=3; once per note or coin.
        #[arg(long = "count", value_name = "VALUE=N")]
        count: Vec<String>,
        #[arg(long, conflicts_with = "count")]
        counted_total: Option<String>,
    },
    /// This till's open session and the cash expected so far.
    Status,
    /// X report: this till's open session.
    #[command(name = "x-report")]
    XReport,
    /// Z report: one session, or the sessions closed on a store day (this
    /// till's, another till's, or every till's).
    #[command(name = "z-report")]
    ZReport {
        #[arg(long, conflicts_with_all = ["date", "till", "store"])]
        session: Option<String>,
        /// YYYY-MM-DD, the store's day (default: today).
        #[arg(long)]
        date: Option<String>,
        /// Another till's id (default: this till).
        #[arg(long, conflicts_with = "store")]
        till: Option<String>,
        /// Every till's sessions, once synced.
        #[arg(long)]
        store: bool,
    },
    /// Sessions of every till opened or closed on a store day (default: all).
    Sessions {
        #[arg(long)]
        date: Option<String>,
        #[arg(long)]
        till: Option<String>,
    },
}

#[derive(Args, Debug)]
pub struct CashMoveArgs {
    /// The amount, e.g. 50.00.
    #[arg(long)]
    pub amount: String,
    /// Why, e.g. "bank drop" or "paid to supplier".
    #[arg(long)]
    pub reason: String,
}

#[derive(Args, Debug)]
pub struct RefundArgs {
    pub sale_id: String,
    /// `SKUxQTY` to refund; none refunds everything not yet refunded.
    pub items: Vec<String>,
    /// How the money goes back (default: cash if the sale took cash, else its tender).
    #[arg(long = "to")]
    pub tender: Option<String>,
    /// The goods do not go back on the shelf.
    #[arg(long)]
    pub no_restock: bool,
}

#[derive(Args, Debug)]
pub struct ReceiveArgs {
    #[arg(long)]
    pub supplier: Option<String>,
    #[arg(required = true)]
    pub items: Vec<String>,
}

#[derive(Args, Debug)]
pub struct AdjustArgs {
    pub sku: String,
    /// +N or -N units.
    #[arg(allow_hyphen_values = true)]
    pub delta: String,
    #[arg(long)]
    pub reason: String,
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum CountCmd {
    /// Start a count of the whole store, or of the SKUs named.
    Start { skus: Vec<String> },
    /// Record the counted quantity of one product. On a line already
    /// recorded this corrects the quantity and keeps the time it was counted.
    Record {
        count_id: String,
        sku: String,
        #[arg(allow_hyphen_values = true)]
        qty: String,
        /// The product was counted again: the line takes the time of now.
        #[arg(long)]
        recount: bool,
    },
    /// Expected, counted and difference of each product.
    Show { count_id: String },
    /// Post the count: counted products take the counted quantity.
    Post { count_id: String },
    /// Counts not yet posted.
    List,
}

#[derive(Args, Debug)]
pub struct StockArgs {
    pub sku: Option<String>,
    #[arg(long, conflicts_with = "sku")]
    pub low: bool,
}

#[derive(Args, Debug)]
pub struct OrdersArgs {
    /// Every order, also collected, rejected and cancelled ones.
    #[arg(long)]
    pub all: bool,
}

#[derive(Subcommand, Debug)]
pub enum OrderCmd {
    /// One order with its lines (unavailable lines and shortfalls marked).
    Show {
        /// The order id, or at least its first 4 characters.
        id: String,
    },
    /// Accept a sent order; its available lines reserve stock.
    Accept {
        /// The order id, or at least its first 4 characters.
        id: String,
        /// Lines the shop cannot supply, by SKU or line number (several allowed).
        #[arg(long, num_args = 1..)]
        unavailable: Vec<String>,
    },
    /// Mark an accepted order ready for pickup.
    Ready {
        /// The order id, or at least its first 4 characters.
        id: String,
    },
    /// Reject an order that is not collected yet; the customer sees the reason.
    Reject {
        /// The order id, or at least its first 4 characters.
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Collect an accepted or ready order: its available product lines become a sale.
    Collect {
        /// The order id, or at least its first 4 characters.
        id: String,
        /// `cash:AMOUNT`, `card:AMOUNT` or `other:AMOUNT`; several for a split tender.
        #[arg(long, required = true)]
        pay: Vec<String>,
    },
}

#[derive(Args, Debug)]
pub struct SalesArgs {
    /// First day (YYYY-MM-DD, the store's day: its time_zone setting, else this machine's).
    #[arg(long)]
    pub from: Option<String>,
    /// Last day, included.
    #[arg(long)]
    pub to: Option<String>,
    #[arg(long)]
    pub till: Option<String>,
    #[arg(long)]
    pub sku: Option<String>,
    /// Only this staff member's (id or name).
    #[arg(long)]
    pub staff: Option<String>,
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
}

/// Staff commands: the manager approves with `--approve-pin` (or
/// SHOPSYNC_APPROVE_PIN) once the store has staff; the first staff member,
/// a manager, needs none.
#[derive(Subcommand, Debug)]
pub enum StaffCmd {
    /// Add a staff member with `--pin` (4 to 8 digits, not another member's).
    Add {
        #[arg(long)]
        name: String,
        /// cashier, supervisor or manager.
        #[arg(long)]
        role: String,
    },
    /// Every staff member (never their PINs).
    List,
    /// Give a staff member (id or name) another role.
    SetRole {
        staff: String,
        #[arg(long)]
        role: String,
    },
    /// Give a staff member (id or name) the new PIN given with `--pin`.
    SetPin { staff: String },
    /// Deactivate a staff member (id or name): their PIN signs in nobody.
    Deactivate { staff: String },
}

#[derive(Subcommand, Debug)]
pub enum ReportCmd {
    /// The day's totals by tender and tax (default: the store's today, in its time zone).
    Z {
        #[arg(long)]
        date: Option<String>,
        /// Only this staff member's sales and refunds (id or name).
        #[arg(long)]
        staff: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum BundleCmd {
    Export { file: PathBuf },
    Import { file: PathBuf },
}

#[derive(Args, Debug)]
pub struct RebuildArgs {
    /// Rebuild in a scratch copy and report differences; the store is not changed.
    #[arg(long)]
    pub verify: bool,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    #[arg(long, default_value_t = 2000)]
    pub products: u32,
    #[arg(long, default_value_t = 28)]
    pub days: u32,
    #[arg(long, default_value_t = 3)]
    pub tills: u32,
    /// Sales per till per day.
    #[arg(long, default_value_t = 120)]
    pub sales_per_day: u32,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}
