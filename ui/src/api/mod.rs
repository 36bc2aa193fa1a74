//! The only place that talks to the Tauri shell: one typed function per
//! command, over `window.__TAURI__.core.invoke` (declared with `catch`, so a
//! rejected command is an `Err(ErrorInfo)`, never a panic), and the event
//! listener.

use serde::Serialize;
use serde::de::DeserializeOwned;
use shopsync_types::ipc::*;
use shopsync_types::{
    CountLineView, CountView, ErrorCode, ErrorInfo, ImportSummary, OrderView, Product,
    RefundReceipt, SaleDetail, SaleQuote, SaleReceipt, SaleSummary, StockLevel, StoreInfo,
    Supplier, TaxClass, ZReport,
};
use wasm_bindgen::prelude::*;

pub mod drawer;
// categories and favourites (issue 10)
pub mod categories;

pub type ApiResult<T> = Result<T, ErrorInfo>;

fn internal(message: impl Into<String>) -> ErrorInfo {
    ErrorInfo {
        code: ErrorCode::Internal,
        message: message.into(),
        row: None,
        field: None,
    }
}

#[cfg(target_arch = "wasm32")]
mod ffi {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(catch, js_namespace = ["window", "__TAURI__", "core"], js_name = invoke)]
        pub async fn invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;

        /// The same command, its promise left alone.
        #[wasm_bindgen(catch, js_namespace = ["window", "__TAURI__", "core"], js_name = invoke)]
        pub fn invoke_nowait(cmd: &str, args: JsValue) -> Result<js_sys::Promise, JsValue>;

        #[wasm_bindgen(catch, js_namespace = ["window", "__TAURI__", "event"], js_name = listen)]
        pub async fn listen(event: &str, handler: &js_sys::Function) -> Result<JsValue, JsValue>;
    }
}

/// Native builds (clippy, `cargo check` of the workspace) have no webview.
#[cfg(not(target_arch = "wasm32"))]
mod ffi {
    use wasm_bindgen::JsValue;

    pub async fn invoke(_cmd: &str, _args: JsValue) -> Result<JsValue, JsValue> {
        Err(JsValue::NULL)
    }

    pub async fn listen(_event: &str, _handler: &js_sys::Function) -> Result<JsValue, JsValue> {
        Err(JsValue::NULL)
    }

    pub fn invoke_nowait(_cmd: &str, _args: JsValue) -> Result<js_sys::Promise, JsValue> {
        Err(JsValue::NULL)
    }
}

#[derive(Serialize)]
struct Req<'a, T: Serialize + ?Sized> {
    req: &'a T,
}

async fn call_raw<R: DeserializeOwned>(cmd: &str, args: JsValue) -> ApiResult<R> {
    let out = call_raw_once(cmd, args).await;
    if let Err(e) = &out
        && e.code == ErrorCode::SignInRequired
    {
        // The shell locked (idle, deactivated, or never signed in): the
        // PIN pad comes back; whatever was on screen (the cart) stays.
        crate::staff::signed_out();
    }
    out
}

async fn call_raw_once<R: DeserializeOwned>(cmd: &str, args: JsValue) -> ApiResult<R> {
    match ffi::invoke(cmd, args).await {
        Ok(v) => serde_wasm_bindgen::from_value(v).map_err(|e| {
            internal(tr!(
                "api-unexpected-answer",
                command = cmd.to_string(),
                error = e.to_string()
            ))
        }),
        Err(e) => Err(
            serde_wasm_bindgen::from_value::<ErrorInfo>(e.clone()).unwrap_or_else(|_| {
                internal(e.as_string().unwrap_or_else(|| {
                    tr!(
                        "api-failed",
                        command = cmd.to_string(),
                        error = format!("{e:?}")
                    )
                }))
            }),
        ),
    }
}

async fn call<A: Serialize + ?Sized, R: DeserializeOwned>(cmd: &str, req: &A) -> ApiResult<R> {
    let ser = serde_wasm_bindgen::Serializer::json_compatible();
    let args = Req { req }.serialize(&ser).map_err(|e| {
        internal(tr!(
            "api-cannot-send",
            command = cmd.to_string(),
            error = e.to_string()
        ))
    })?;
    call_raw(cmd, args).await
}

/// A write the signed-in staff member's role may need an approval for: on
/// `ApprovalNeeded` the approval dialog asks for a supervisor's or
/// manager's PIN and the same command runs again with it (for this one
/// call only); cancelled, nothing was done.
async fn call_approved<A: Serialize + ?Sized, R: DeserializeOwned>(
    cmd: &str,
    req: &A,
) -> ApiResult<R> {
    let ser = serde_wasm_bindgen::Serializer::json_compatible();
    let mut approve_pin: Option<String> = None;
    let mut asked: Option<ErrorInfo> = None;
    loop {
        let args = ApprovedReq {
            req,
            approve_pin: approve_pin.as_deref(),
        }
        .serialize(&ser)
        .map_err(|e| {
            internal(tr!(
                "api-cannot-send",
                command = cmd.to_string(),
                error = e.to_string()
            ))
        })?;
        let out = call_raw(cmd, args).await;
        match out {
            Err(e) if e.code == ErrorCode::ApprovalNeeded => {
                approve_pin = Some(crate::staff::approval::ask(&e, None).await?);
                asked = Some(e);
            }
            // The approver's PIN was wrong (or PIN checks paused), or
            // their role may not approve this: ask again, saying why.
            Err(e)
                if asked.is_some()
                    && (e.field.as_deref() == Some("approve_pin")
                        || (e.code == ErrorCode::Unauthorized
                            && e.message.contains("may not approve"))) =>
            {
                let need = asked.clone().unwrap_or_else(|| e.clone());
                approve_pin = Some(crate::staff::approval::ask(&need, Some(&e)).await?);
            }
            other => return other,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApprovedReq<'a, T: Serialize + ?Sized> {
    req: &'a T,
    #[serde(skip_serializing_if = "Option::is_none")]
    approve_pin: Option<&'a str>,
}

async fn call0<R: DeserializeOwned>(cmd: &str) -> ApiResult<R> {
    call_raw(cmd, js_sys::Object::new().into()).await
}

/// Listens to a shell event for the app's lifetime.
pub async fn listen<T: DeserializeOwned + 'static>(event: &str, mut f: impl FnMut(T) + 'static) {
    let closure = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
        let payload =
            js_sys::Reflect::get(&ev, &JsValue::from_str("payload")).unwrap_or(JsValue::NULL);
        if let Ok(v) = serde_wasm_bindgen::from_value::<T>(payload) {
            f(v);
        }
    });
    let _ = ffi::listen(event, closure.as_ref().unchecked_ref()).await;
    closure.forget();
}

fn id(id: &str) -> IdInput {
    IdInput { id: id.to_string() }
}

pub async fn app_status() -> ApiResult<AppStatus> {
    call0("app_status").await
}
pub async fn create_store(req: &NewStoreInput) -> ApiResult<StoreInfo> {
    call("create_store", req).await
}
/// Asks for a bundle file with the system's picker, then joins that store;
/// `None` when the picker was cancelled.
pub async fn join_store(req: &JoinInput) -> ApiResult<Option<Picked<StoreInfo>>> {
    call("join_store", req).await
}
pub async fn create_demo_store() -> ApiResult<serde_json_free::Ignored> {
    call0("create_demo_store").await
}
pub async fn rebuild() -> ApiResult<()> {
    call0("rebuild").await
}
/// Sends a UI failure to the shell's log without waiting (it may be called
/// from the panic hook, where the async runtime cannot be trusted).
pub fn report_ui_error(message: &str) {
    let req = UiErrorInput {
        message: message.to_string(),
    };
    let ser = serde_wasm_bindgen::Serializer::json_compatible();
    if let Ok(args) = (Req { req: &req }).serialize(&ser) {
        drop(ffi::invoke_nowait("report_ui_error", args));
    }
}
pub async fn search_products(
    query: &str,
    limit: u32,
    include_archived: bool,
) -> ApiResult<Vec<Product>> {
    call(
        "search_products",
        &SearchInput {
            query: query.to_string(),
            limit,
            include_archived,
        },
    )
    .await
}
pub async fn product_by_code(code: &str) -> ApiResult<Product> {
    call("product_by_code", &id(code)).await
}
pub async fn quote(lines: &[CartLineInput]) -> ApiResult<SaleQuote> {
    call("quote", lines).await
}
pub async fn sell(req: &SellInput) -> ApiResult<SaleReceipt> {
    call_approved("sell", req).await
}
pub async fn park_cart(req: &ParkInput) -> ApiResult<ParkedCart> {
    call_approved("park_cart", req).await
}
pub async fn parked_carts() -> ApiResult<Vec<ParkedCart>> {
    call0("parked_carts").await
}
pub async fn resume_parked_cart(cart_id: &str) -> ApiResult<ParkedCart> {
    call("resume_parked_cart", &id(cart_id)).await
}
pub async fn add_product(req: &ProductInput) -> ApiResult<Product> {
    call_approved("add_product", req).await
}
pub async fn edit_product(req: &EditProductInput) -> ApiResult<Product> {
    call_approved("edit_product", req).await
}
pub async fn archive_product(sku: &str) -> ApiResult<Product> {
    call_approved("archive_product", &id(sku)).await
}
pub async fn merge_products(req: &MergeProductsInput) -> ApiResult<Product> {
    call_approved("merge_products", req).await
}
// The file commands open the system's file picker in the shell and answer
// `None` when it was cancelled; the page never sees or sends a path.
// `picker` is the picker's words in the cashier's language.
pub async fn import_products_csv(picker: &PickerText) -> ApiResult<Option<Picked<ImportSummary>>> {
    call("import_products_csv", picker).await
}
pub async fn export_products_csv(picker: &PickerText) -> ApiResult<Option<Picked<u64>>> {
    call("export_products_csv", picker).await
}
pub async fn export_bundle(picker: &PickerText) -> ApiResult<Option<Picked<u64>>> {
    call("export_bundle", picker).await
}
pub async fn stock_levels(req: &StockQuery) -> ApiResult<Vec<StockLevel>> {
    call("stock_levels", req).await
}
pub async fn receive(req: &ReceiveInput) -> ApiResult<String> {
    call_approved("receive", req).await
}
pub async fn adjust(req: &AdjustInput) -> ApiResult<String> {
    call_approved("adjust", req).await
}
pub async fn count_start(req: &CountStartInput) -> ApiResult<CountView> {
    call("count_start", req).await
}
pub async fn count_record(req: &CountRecordInput) -> ApiResult<CountLineView> {
    call("count_record", req).await
}
pub async fn count_view(count_id: &str) -> ApiResult<CountView> {
    call("count_view", &id(count_id)).await
}
pub async fn count_post(count_id: &str) -> ApiResult<CountView> {
    call_approved("count_post", &id(count_id)).await
}
pub async fn open_counts() -> ApiResult<Vec<String>> {
    call0("open_counts").await
}
pub async fn sales(req: &SalesQuery) -> ApiResult<Vec<SaleSummary>> {
    call("sales", req).await
}
/// Refunds by the same filter as [`sales`], newest first.
pub async fn refunds(req: &SalesQuery) -> ApiResult<Vec<shopsync_types::RefundListItem>> {
    call("refunds", req).await
}
pub async fn sale(sale_id: &str) -> ApiResult<SaleDetail> {
    call("sale", &id(sale_id)).await
}
pub async fn refund(req: &RefundInput) -> ApiResult<RefundReceipt> {
    call_approved("refund", req).await
}
/// The day's Z report; of one staff member's sales and refunds with `staff_id`.
pub async fn z_report(date: chrono::NaiveDate, staff_id: Option<String>) -> ApiResult<ZReport> {
    call("z_report", &ZReportInput { date, staff_id }).await
}
pub async fn sales_chart(
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    day: Option<chrono::NaiveDate>,
) -> ApiResult<SalesChart> {
    call("sales_chart", &DateRangeInput { from, to, day }).await
}
pub async fn orders(all: bool) -> ApiResult<Vec<OrderView>> {
    call("orders", &OrdersQuery { all }).await
}
pub async fn new_order_count() -> ApiResult<u64> {
    call0("new_order_count").await
}
pub async fn order(order_id: &str) -> ApiResult<OrderView> {
    call("order", &id(order_id)).await
}
pub async fn order_accept(req: &OrderAcceptInput) -> ApiResult<OrderView> {
    call_approved("order_accept", req).await
}
pub async fn order_ready(order_id: &str) -> ApiResult<OrderView> {
    call_approved("order_ready", &id(order_id)).await
}
pub async fn order_reject(req: &OrderRejectInput) -> ApiResult<OrderView> {
    call_approved("order_reject", req).await
}
pub async fn order_quote(order_id: &str) -> ApiResult<SaleQuote> {
    call("order_quote", &id(order_id)).await
}
pub async fn order_collect(req: &OrderCollectInput) -> ApiResult<OrderCollected> {
    call_approved("order_collect", req).await
}
pub async fn suppliers() -> ApiResult<Vec<Supplier>> {
    call0("suppliers").await
}
pub async fn add_supplier(req: &SupplierInput) -> ApiResult<Supplier> {
    call_approved("add_supplier", req).await
}
pub async fn edit_supplier(req: &EditSupplierInput) -> ApiResult<Supplier> {
    call_approved("edit_supplier", req).await
}
pub async fn tax_classes() -> ApiResult<Vec<TaxClass>> {
    call0("tax_classes").await
}
pub async fn set_tax_class(req: &TaxClassInput) -> ApiResult<TaxClass> {
    call_approved("set_tax_class", req).await
}
pub async fn settings() -> ApiResult<SettingsView> {
    call0("settings").await
}
pub async fn save_settings(req: &SettingsInput) -> ApiResult<()> {
    call_approved("save_settings", req).await
}
pub async fn printer_settings() -> ApiResult<shopsync_types::PrinterSettings> {
    call0("printer_settings").await
}
pub async fn set_printer_settings(
    req: &shopsync_types::PrinterSettingsEdit,
) -> ApiResult<shopsync_types::PrinterSettings> {
    call_approved("set_printer_settings", req).await
}
pub async fn print_test_page() -> ApiResult<shopsync_types::PrintOutcome> {
    call0("print_test_page").await
}
/// A saved sale's receipt on the thermal printer (`copy`: a reprint).
pub async fn print_receipt(sale: &str, copy: bool) -> ApiResult<shopsync_types::PrintOutcome> {
    call(
        "print_receipt",
        &PrintReceiptInput {
            sale: sale.to_string(),
            copy,
        },
    )
    .await
}
pub async fn open_drawer() -> ApiResult<shopsync_types::PrintOutcome> {
    call_approved("open_drawer", &()).await
}
pub async fn ui_language() -> ApiResult<String> {
    call0("ui_language").await
}
pub async fn set_ui_language(tag: &str) -> ApiResult<()> {
    call("set_ui_language", tag).await
}
pub async fn sync_status() -> ApiResult<SyncStatusView> {
    call0("sync_status").await
}
pub async fn sync_now() -> ApiResult<bool> {
    call0("sync_now").await
}
pub async fn enrol(req: &EnrolInput) -> ApiResult<StoreInfo> {
    call("enrol", req).await
}

// --- staff: sign-in, the idle lock, the staff list ------------------------------

pub async fn staff_session() -> ApiResult<StaffSession> {
    call0("staff_session").await
}
pub async fn sign_in(pin: &str) -> ApiResult<StaffSession> {
    call(
        "sign_in",
        &PinInput {
            pin: pin.to_string(),
        },
    )
    .await
}
pub async fn sign_out() -> ApiResult<StaffSession> {
    call0("sign_out").await
}
pub async fn staff_touch() -> ApiResult<bool> {
    call0("staff_touch").await
}
pub async fn staff_list() -> ApiResult<Vec<StaffView>> {
    call0("staff_list").await
}
pub async fn add_staff(req: &NewStaffInput) -> ApiResult<StaffView> {
    call_approved("add_staff", req).await
}
pub async fn set_staff_role(req: &StaffRoleInput) -> ApiResult<StaffView> {
    call_approved("set_staff_role", req).await
}
pub async fn set_staff_pin(req: &StaffPinInput) -> ApiResult<StaffView> {
    call_approved("set_staff_pin", req).await
}
pub async fn deactivate_staff(staff_id: &str) -> ApiResult<StaffView> {
    call_approved("deactivate_staff", &id(staff_id)).await
}

// --- Settings → About ----------------------------------------------------------

pub async fn about() -> ApiResult<AboutView> {
    call0("about").await
}
pub async fn copy_diagnostics() -> ApiResult<DiagnosticsView> {
    call0("copy_diagnostics").await
}
pub async fn open_log_folder() -> ApiResult<()> {
    call0("open_log_folder").await
}

// --- reordering and purchase orders -------------------------------------------

pub async fn reorder_list() -> ApiResult<Vec<shopsync_types::ReorderGroup>> {
    call0("reorder_list").await
}
pub async fn low_stock_alerts() -> ApiResult<shopsync_types::LowStockAlerts> {
    call0("low_stock_alerts").await
}
pub async fn po_create(
    req: &shopsync_types::purchasing::PoCreateInput,
) -> ApiResult<shopsync_types::PurchaseOrderView> {
    call_approved("po_create", req).await
}
pub async fn po_list(
    req: &shopsync_types::purchasing::PoListQuery,
) -> ApiResult<Vec<shopsync_types::PurchaseOrderSummary>> {
    call("po_list", req).await
}
pub async fn po_show(order_id: &str) -> ApiResult<shopsync_types::PurchaseOrderView> {
    call("po_show", &id(order_id)).await
}
pub async fn po_receive(
    req: &shopsync_types::purchasing::PoReceiveInput,
) -> ApiResult<shopsync_types::PurchaseOrderView> {
    call_approved("po_receive", req).await
}
pub async fn po_close(
    req: &shopsync_types::purchasing::PoCloseInput,
) -> ApiResult<shopsync_types::PurchaseOrderView> {
    call_approved("po_close", req).await
}
pub async fn po_export_csv(
    req: &shopsync_types::purchasing::PoExportInput,
) -> ApiResult<Option<Picked<usize>>> {
    call("po_export_csv", req).await
}

/// Results the UI does not read.
pub mod serde_json_free {
    /// Accepts any answer.
    #[derive(Debug, Clone, Copy, Default)]
    pub struct Ignored;

    impl<'de> serde::Deserialize<'de> for Ignored {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            serde::de::IgnoredAny::deserialize(d).map(|_| Ignored)
        }
    }
}
