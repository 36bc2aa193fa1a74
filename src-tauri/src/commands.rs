//! The commands the UI invokes: each one adapts its IPC types and hands the
//! work to the core (through [`AppState`], on a blocking thread). Errors
//! reach the UI as `ErrorInfo` (code, message, row, field).

use shopsync_core::demo::DemoOptions;
use shopsync_core::{CountScope, InitOptions, SalesFilter, Store};
use shopsync_types::ipc::*;
use shopsync_types::{
    CountLineView, CountView, OrderView, Product, RefundListItem, RefundReceipt, SaleDetail,
    SaleQuote, SaleReceipt, SaleSummary, StockLevel, Supplier, TaxClass, ZReport,
};
use tauri::{AppHandle, State};

use crate::convert;
use crate::state::{AppState, CmdResult};

type S<'a> = State<'a, AppState>;

pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        app_status,
        create_store,
        crate::files::join_store,
        create_demo_store,
        search_products,
        product_by_code,
        quote,
        sell,
        park_cart,
        parked_carts,
        resume_parked_cart,
        add_product,
        edit_product,
        archive_product,
        merge_products,
        crate::files::import_products_csv,
        crate::files::export_products_csv,
        crate::files::export_bundle,
        stock_levels,
        receive,
        adjust,
        count_start,
        count_record,
        count_view,
        count_post,
        open_counts,
        sales,
        sale,
        refund,
        z_report,
        refunds,
        sales_chart,
        orders,
        new_order_count,
        order,
        order_accept,
        order_ready,
        order_reject,
        order_quote,
        order_collect,
        suppliers,
        add_supplier,
        edit_supplier,
        tax_classes,
        set_tax_class,
        settings,
        save_settings,
        ui_language,
        set_ui_language,
        crate::printing::printer_settings,
        crate::printing::set_printer_settings,
        crate::printing::print_test_page,
        crate::printing::print_receipt,
        crate::printing::open_drawer,
        sync_status,
        sync_now,
        enrol,
        rebuild,
        report_ui_error,
        crate::staff::staff_session,
        crate::staff::sign_in,
        crate::staff::sign_out,
        crate::staff::staff_touch,
        crate::staff::staff_list,
        crate::staff::add_staff,
        crate::staff::set_staff_role,
        crate::staff::set_staff_pin,
        crate::staff::deactivate_staff,
        crate::support::about,
        crate::support::copy_diagnostics,
        crate::support::open_log_folder,
        // cash drawer sessions (issue 10)
        crate::drawer::drawer_status,
        crate::drawer::drawer_open_session,
        crate::drawer::drawer_cash_in,
        crate::drawer::drawer_cash_out,
        crate::drawer::drawer_close_session,
        crate::drawer::drawer_x_report,
        crate::drawer::drawer_session_report,
        crate::drawer::drawer_day_report,
        crate::drawer::drawer_sessions,
        // reordering and purchase orders
        crate::purchasing::reorder_list,
        crate::purchasing::low_stock_alerts,
        crate::purchasing::po_create,
        crate::purchasing::po_list,
        crate::purchasing::po_show,
        crate::purchasing::po_receive,
        crate::purchasing::po_close,
        crate::purchasing::po_export_csv,
        // drawer reports on the thermal printer (issue 10)
        crate::printing::print_drawer_report,
        // categories and favourites (issue 10)
        crate::categories::categories,
        crate::categories::save_category,
        crate::categories::archive_category,
        crate::categories::category_products,
        crate::categories::favourites,
        crate::categories::add_favourite,
        crate::categories::move_favourite,
        crate::categories::remove_favourite,
    ]
}

// --- the store itself ---------------------------------------------------------

#[tauri::command]
async fn app_status(state: S<'_>) -> CmdResult<AppStatus> {
    Ok(AppStatus {
        db_path: state.db_path.display().to_string(),
        store: state.info().await?,
        busy: state.busy(),
    })
}

#[tauri::command]
async fn create_store(state: S<'_>, req: NewStoreInput) -> CmdResult<shopsync_types::StoreInfo> {
    state
        .create(move |path| {
            Store::init(
                path,
                InitOptions {
                    store_name: req.store_name,
                    till_name: req.till_name,
                    currency: req.currency,
                },
            )
        })
        .await
}

/// A demo store in one click: a new store filled with products, suppliers
/// and four weeks of sales.
#[tauri::command]
async fn create_demo_store(
    app: AppHandle,
    state: S<'_>,
) -> CmdResult<shopsync_core::demo::DemoSummary> {
    if state.info().await?.is_some() {
        return Err(crate::state::error(
            shopsync_types::ErrorCode::Conflict,
            "this till already has a store",
        ));
    }
    state
        .job(app, "demo store", false, |path, progress| {
            let mut s = Store::init(
                path,
                InitOptions {
                    store_name: "Demo Corner Shop".into(),
                    till_name: "Till 1".into(),
                    currency: "EUR".into(),
                },
            )?;
            s.demo(&DemoOptions::default(), progress)
        })
        .await
}

#[tauri::command]
async fn rebuild(app: AppHandle, state: S<'_>) -> CmdResult<()> {
    state
        .job(app, "rebuild", false, |path, progress| {
            Store::open(path)?.rebuild(progress)
        })
        .await
}

/// The UI hit a panic: it shows a reload screen; the log keeps what happened.
#[tauri::command]
fn report_ui_error(req: UiErrorInput) {
    let message: String = req.message.chars().take(4_000).collect();
    tracing::error!(target: "ui", "the till screen panicked: {}", message.escape_debug());
}

// --- selling ------------------------------------------------------------------

#[tauri::command]
async fn search_products(state: S<'_>, req: SearchInput) -> CmdResult<Vec<Product>> {
    state
        .with(move |s| s.search_products(&req.query, req.limit.min(500), req.include_archived))
        .await
}

#[tauri::command]
async fn product_by_code(state: S<'_>, req: IdInput) -> CmdResult<Product> {
    state.with(move |s| s.product_by_code(&req.id)).await
}

#[tauri::command]
async fn quote(state: S<'_>, req: Vec<CartLineInput>) -> CmdResult<SaleQuote> {
    state
        .with(move |s| s.quote(&convert::cart(s.currency(), &req)?))
        .await
}

#[tauri::command]
async fn sell(state: S<'_>, req: SellInput, approve_pin: Option<String>) -> CmdResult<SaleReceipt> {
    state
        .with_approval(approve_pin, move |s| {
            let c = s.currency();
            s.sell(
                &convert::cart(c, &req.lines)?,
                &convert::tenders(c, &req.tenders)?,
            )
        })
        .await
}

#[tauri::command]
async fn park_cart(
    state: S<'_>,
    req: ParkInput,
    approve_pin: Option<String>,
) -> CmdResult<ParkedCart> {
    state
        .with_approval(approve_pin, move |s| s.park_cart(&req.label, &req.lines))
        .await
}

#[tauri::command]
async fn parked_carts(state: S<'_>) -> CmdResult<Vec<ParkedCart>> {
    state.with(|s| s.parked_carts()).await
}

#[tauri::command]
async fn resume_parked_cart(state: S<'_>, req: IdInput) -> CmdResult<ParkedCart> {
    state.with(move |s| s.resume_parked_cart(&req.id)).await
}

// --- products -----------------------------------------------------------------

#[tauri::command]
async fn add_product(
    state: S<'_>,
    req: ProductInput,
    approve_pin: Option<String>,
) -> CmdResult<Product> {
    state
        .with_approval(approve_pin, move |s| {
            s.add_product(convert::new_product(s.currency(), req)?)
        })
        .await
}

#[tauri::command]
async fn edit_product(
    state: S<'_>,
    req: EditProductInput,
    approve_pin: Option<String>,
) -> CmdResult<Product> {
    state
        .with_approval(approve_pin, move |s| {
            s.edit_product_ref(&req.sku, convert::product_edit(s.currency(), req.product)?)
        })
        .await
}

#[tauri::command]
async fn archive_product(
    state: S<'_>,
    req: IdInput,
    approve_pin: Option<String>,
) -> CmdResult<Product> {
    state
        .with_approval(approve_pin, move |s| s.archive_product(&req.id))
        .await
}

#[tauri::command]
async fn merge_products(
    state: S<'_>,
    req: MergeProductsInput,
    approve_pin: Option<String>,
) -> CmdResult<Product> {
    state
        .with_approval(approve_pin, move |s| {
            s.merge_products(&req.keep, &req.other).map(|m| m.kept)
        })
        .await
}

// --- stock --------------------------------------------------------------------

#[tauri::command]
async fn stock_levels(state: S<'_>, req: StockQuery) -> CmdResult<Vec<StockLevel>> {
    state
        .with(move |s| {
            let q = req.query.trim().to_lowercase();
            Ok(s.stock_levels(None, req.low_only)?
                .into_iter()
                .filter(|l| {
                    q.is_empty()
                        || l.sku.to_lowercase().contains(&q)
                        || l.name.to_lowercase().contains(&q)
                })
                .take(req.limit as usize)
                .collect())
        })
        .await
}

#[tauri::command]
async fn receive(
    state: S<'_>,
    req: ReceiveInput,
    approve_pin: Option<String>,
) -> CmdResult<String> {
    state
        .with_approval(approve_pin, move |s| {
            let lines = convert::receive(s.currency(), &req)?;
            s.receive(req.supplier.as_deref().filter(|x| !x.is_empty()), &lines)
        })
        .await
}

#[tauri::command]
async fn adjust(state: S<'_>, req: AdjustInput, approve_pin: Option<String>) -> CmdResult<String> {
    state
        .with_approval(approve_pin, move |s| {
            s.adjust(&req.code, req.delta, req.reason.parse()?, req.note)
        })
        .await
}

#[tauri::command]
async fn count_start(state: S<'_>, req: CountStartInput) -> CmdResult<CountView> {
    state
        .with(move |s| {
            let scope = if req.whole_store {
                CountScope::WholeStore
            } else {
                CountScope::Products(req.codes)
            };
            let id = s.count_start(scope)?;
            s.count_view(&id)
        })
        .await
}

#[tauri::command]
async fn count_record(state: S<'_>, req: CountRecordInput) -> CmdResult<CountLineView> {
    state
        .with(move |s| {
            if req.recount {
                s.count_recount(&req.count_id, &req.code, req.counted)
            } else {
                s.count_record(&req.count_id, &req.code, req.counted)
            }
        })
        .await
}

#[tauri::command]
async fn count_view(state: S<'_>, req: IdInput) -> CmdResult<CountView> {
    state.with(move |s| s.count_view(&req.id)).await
}

#[tauri::command]
async fn count_post(
    state: S<'_>,
    req: IdInput,
    approve_pin: Option<String>,
) -> CmdResult<CountView> {
    state
        .with_approval(approve_pin, move |s| s.count_post(&req.id))
        .await
}

#[tauri::command]
async fn open_counts(state: S<'_>) -> CmdResult<Vec<String>> {
    state.with(|s| s.open_counts()).await
}

// --- sales --------------------------------------------------------------------

fn sales_filter(req: SalesQuery) -> SalesFilter {
    SalesFilter {
        from: req.from,
        to: req.to,
        till_id: None,
        sku: req.sku.filter(|x| !x.trim().is_empty()),
        staff_id: req.staff_id.filter(|x| !x.trim().is_empty()),
        limit: req.limit,
    }
}

#[tauri::command]
async fn sales(state: S<'_>, req: SalesQuery) -> CmdResult<Vec<SaleSummary>> {
    state.with(move |s| s.sales(&sales_filter(req))).await
}

/// Refunds by the same filter as the sales list.
#[tauri::command]
async fn refunds(state: S<'_>, req: SalesQuery) -> CmdResult<Vec<RefundListItem>> {
    state
        .with(move |s| {
            Ok(s.refunds(&sales_filter(req))?
                .into_iter()
                .map(convert::refund_item)
                .collect())
        })
        .await
}

#[tauri::command]
async fn sale(state: S<'_>, req: IdInput) -> CmdResult<SaleDetail> {
    state.with(move |s| s.sale(&req.id)).await
}

#[tauri::command]
async fn refund(
    state: S<'_>,
    req: RefundInput,
    approve_pin: Option<String>,
) -> CmdResult<RefundReceipt> {
    state
        .with_approval(approve_pin, move |s| {
            s.refund(&req.sale_id, convert::refund(&req))
        })
        .await
}

#[tauri::command]
async fn z_report(state: S<'_>, req: ZReportInput) -> CmdResult<ZReport> {
    state
        .with(move |s| {
            let staff = req
                .staff_id
                .as_deref()
                .map(str::trim)
                .filter(|x| !x.is_empty());
            s.z_report_for(req.date, staff)
        })
        .await
}

#[tauri::command]
async fn sales_chart(state: S<'_>, req: DateRangeInput) -> CmdResult<SalesChart> {
    state
        .with(move |s| s.sales_chart(req.day.unwrap_or(req.to), req.from, req.to))
        .await
}

// --- pickup orders ------------------------------------------------------------

#[tauri::command]
async fn orders(state: S<'_>, req: OrdersQuery) -> CmdResult<Vec<OrderView>> {
    state.with(move |s| s.orders(req.all)).await
}

/// The badge on the Orders button: orders the shop has not looked at yet.
#[tauri::command]
async fn new_order_count(state: S<'_>) -> CmdResult<u64> {
    state.with(|s| s.new_order_count()).await
}

#[tauri::command]
async fn order(state: S<'_>, req: IdInput) -> CmdResult<OrderView> {
    state.with(move |s| s.order(&req.id)).await
}

#[tauri::command]
async fn order_accept(
    state: S<'_>,
    req: OrderAcceptInput,
    approve_pin: Option<String>,
) -> CmdResult<OrderView> {
    state
        .with_approval(approve_pin, move |s| {
            s.order_accept(&req.id, &req.unavailable)
        })
        .await
}

#[tauri::command]
async fn order_ready(
    state: S<'_>,
    req: IdInput,
    approve_pin: Option<String>,
) -> CmdResult<OrderView> {
    state
        .with_approval(approve_pin, move |s| s.order_ready(&req.id))
        .await
}

#[tauri::command]
async fn order_reject(
    state: S<'_>,
    req: OrderRejectInput,
    approve_pin: Option<String>,
) -> CmdResult<OrderView> {
    state
        .with_approval(approve_pin, move |s| s.order_reject(&req.id, &req.reason))
        .await
}

/// What collecting the order would sell, priced (the total to take).
#[tauri::command]
async fn order_quote(state: S<'_>, req: IdInput) -> CmdResult<SaleQuote> {
    state
        .with(move |s| {
            let cart = s.order_cart(&req.id)?;
            s.quote(&cart)
        })
        .await
}

#[tauri::command]
async fn order_collect(
    state: S<'_>,
    req: OrderCollectInput,
    approve_pin: Option<String>,
) -> CmdResult<OrderCollected> {
    state
        .with_approval(approve_pin, move |s| {
            let tenders = convert::tenders(s.currency(), &req.tenders)?;
            let (order, receipt) = s.order_collect(&req.id, &tenders)?;
            Ok(OrderCollected { order, receipt })
        })
        .await
}

// --- suppliers and settings ----------------------------------------------------

#[tauri::command]
async fn suppliers(state: S<'_>) -> CmdResult<Vec<Supplier>> {
    state.with(|s| s.suppliers()).await
}

#[tauri::command]
async fn add_supplier(
    state: S<'_>,
    req: SupplierInput,
    approve_pin: Option<String>,
) -> CmdResult<Supplier> {
    state
        .with_approval(approve_pin, move |s| {
            s.add_supplier(convert::new_supplier(req))
        })
        .await
}

#[tauri::command]
async fn edit_supplier(
    state: S<'_>,
    req: EditSupplierInput,
    approve_pin: Option<String>,
) -> CmdResult<Supplier> {
    state
        .with_approval(approve_pin, move |s| {
            s.edit_supplier(&req.id, convert::supplier_edit(req.supplier))
        })
        .await
}

#[tauri::command]
async fn tax_classes(state: S<'_>) -> CmdResult<Vec<TaxClass>> {
    state.with(|s| s.tax_classes()).await
}

#[tauri::command]
async fn set_tax_class(
    state: S<'_>,
    req: TaxClassInput,
    approve_pin: Option<String>,
) -> CmdResult<TaxClass> {
    state
        .with_approval(approve_pin, move |s| {
            s.set_tax_class(convert::tax_class(req)?)
        })
        .await
}

#[tauri::command]
async fn settings(state: S<'_>) -> CmdResult<SettingsView> {
    state
        .with(|s| {
            let all = s.settings()?;
            let get = |k: &str| {
                all.iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            Ok(SettingsView {
                store_name: s.info().store_name.clone(),
                till_name: s.info().till_name.clone(),
                currency: s.info().currency.clone(),
                receipt_header: get("receipt_header"),
                receipt_footer: get("receipt_footer"),
                publish: get("publish") == "true",
                publish_detail: match get("publish_detail").as_str() {
                    "" => "band".to_string(),
                    d => d.to_string(),
                },
                receipt_paper: match get("receipt_paper").as_str() {
                    "" => "80mm".to_string(),
                    p => p.to_string(),
                },
                time_zone: get("time_zone"),
                lock_after_minutes: crate::session::lock_after_minutes(s)?,
            })
        })
        .await
}

#[tauri::command]
async fn save_settings(
    state: S<'_>,
    req: SettingsInput,
    approve_pin: Option<String>,
) -> CmdResult<()> {
    state
        .with_approval(approve_pin, move |s| {
            let current = s.settings()?;
            let get = |k: &str| {
                current
                    .iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.as_str())
            };
            let publish = if req.publish { "true" } else { "false" };
            // (setting, value, what an unset setting means); empty choices
            // are left as they are.
            let wanted = [
                ("store_name", req.store_name.trim(), ""),
                ("receipt_header", req.receipt_header.trim(), ""),
                ("receipt_footer", req.receipt_footer.trim(), ""),
                ("publish", publish, "false"),
                ("publish_detail", req.publish_detail.trim(), "band"),
                ("receipt_paper", req.receipt_paper.trim(), "80mm"),
            ];
            let mut changed: Vec<(&str, &str)> = wanted
                .iter()
                .filter(|(key, value, unset)| {
                    let choice = matches!(*key, "publish_detail" | "receipt_paper");
                    !(choice && value.is_empty()) && get(key).unwrap_or(unset) != *value
                })
                .map(|(key, value, _)| (*key, *value))
                .collect();
            // Empty is a choice here (each machine's own zone).
            if let Some(zone) = req.time_zone.as_deref().map(str::trim)
                && get("time_zone").unwrap_or("") != zone
            {
                changed.push(("time_zone", zone));
            }
            if let Some(minutes) = req.lock_after_minutes.as_deref().map(str::trim)
                && crate::session::lock_after_minutes(s)?.to_string() != minutes
            {
                changed.push(("lock_after_minutes", minutes));
            }
            let till_name = req.till_name.trim();
            if till_name.is_empty() {
                return Err(shopsync_core::CoreError::invalid(
                    "till name",
                    "till name must not be empty",
                ));
            }
            // All of them checked first and written in one change: a
            // refused value changes nothing.
            s.set_settings(&changed)?;
            if s.info().till_name != till_name {
                s.rename_till(till_name)?;
            }
            Ok(())
        })
        .await
}

/// This till's language (empty: never chosen, the UI picks the webview's).
/// Kept in the store file's till-local part rather than the webview's
/// storage: it stays with the till when the store file moves, and every
/// store file (each test's, each shop's) has its own.
#[tauri::command]
async fn ui_language(state: S<'_>) -> CmdResult<String> {
    state.with(|s| s.ui_language()).await
}

/// Chosen in Settings; any till may choose, a till-role one too.
#[tauri::command]
async fn set_ui_language(state: S<'_>, req: String) -> CmdResult<()> {
    state.with(move |s| s.set_ui_language(&req)).await
}

/// The sync indicator: enrolment, the last attempt, changes waiting.
#[tauri::command]
async fn sync_status(state: S<'_>) -> CmdResult<SyncStatusView> {
    let (syncing, stopped) = state.sync_state().unwrap_or((false, false));
    state
        .with(move |s| Ok(crate::state::sync_view(&s.sync_status()?, syncing, stopped)))
        .await
}

/// Syncs now (the background sync also runs by itself).
#[tauri::command]
async fn sync_now(state: S<'_>) -> CmdResult<bool> {
    Ok(state.nudge_sync())
}

/// Enrols this till with a sync server, then starts the background sync.
#[tauri::command]
async fn enrol(
    app: AppHandle,
    state: S<'_>,
    req: EnrolInput,
) -> CmdResult<shopsync_types::StoreInfo> {
    let info = state
        .job(app.clone(), "enrolment", false, move |path, progress| {
            let till = Some(req.till_name.trim()).filter(|t| !t.is_empty());
            let (store, _report) = shopsync_core::sync::client::enrol(
                path,
                req.server.trim(),
                req.code.trim(),
                till,
                progress,
            )?;
            Ok(store.info().clone())
        })
        .await?;
    state.start_sync(&app);
    Ok(info)
}
