//! The Drawer screen's commands (cash drawer sessions, issue 10). Writes go
//! through the approval dialog like every other write.

use chrono::NaiveDate;
use shopsync_types::drawer::{
    DrawerCloseInput, DrawerDayInput, DrawerDayView, DrawerMoveInput, DrawerOpenInput,
    DrawerSessionView, DrawerStatusView,
};

use super::{ApiResult, call, call_approved, call0};

pub async fn status() -> ApiResult<DrawerStatusView> {
    call0("drawer_status").await
}
pub async fn open_session(float: String) -> ApiResult<DrawerSessionView> {
    call_approved("drawer_open_session", &DrawerOpenInput { float }).await
}
pub async fn cash_in(req: &DrawerMoveInput) -> ApiResult<DrawerSessionView> {
    call_approved("drawer_cash_in", req).await
}
pub async fn cash_out(req: &DrawerMoveInput) -> ApiResult<DrawerSessionView> {
    call_approved("drawer_cash_out", req).await
}
pub async fn close_session(req: &DrawerCloseInput) -> ApiResult<DrawerSessionView> {
    call_approved("drawer_close_session", req).await
}
pub async fn x_report() -> ApiResult<DrawerSessionView> {
    call0("drawer_x_report").await
}
pub async fn day_report(date: NaiveDate, whole_store: bool) -> ApiResult<DrawerDayView> {
    call("drawer_day_report", &DrawerDayInput { date, whole_store }).await
}

// --- past sessions and printing reports on the thermal printer (issue 10) ---

/// The sessions opened or closed on a store day, this till's or every till's.
pub async fn sessions(date: NaiveDate, whole_store: bool) -> ApiResult<Vec<DrawerSessionView>> {
    call("drawer_sessions", &DrawerDayInput { date, whole_store }).await
}
/// One session's report (X while open, Z once closed).
pub async fn session_report(session_id: &str) -> ApiResult<DrawerSessionView> {
    call(
        "drawer_session_report",
        &shopsync_types::ipc::IdInput {
            id: session_id.to_string(),
        },
    )
    .await
}
/// A drawer report on this till's thermal printer.
pub async fn print_report(
    req: &shopsync_types::drawer::DrawerPrintInput,
) -> ApiResult<shopsync_types::PrintOutcome> {
    call("print_drawer_report", req).await
}
