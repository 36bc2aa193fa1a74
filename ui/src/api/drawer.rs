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
