//! The error shape that crosses the IPC boundary and the CLI's `--json` output:
//! a stable machine-readable code plus a message for people.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Input that can never be valid (a negative quantity, a malformed amount).
    InvalidInput,
    /// Something named does not exist (an unknown SKU, sale or count).
    NotFound,
    /// The request clashes with current state (a duplicate SKU, a posted count).
    Conflict,
    /// Tenders do not cover the total, or refund more than was sold.
    Payment,
    /// A file or bundle that does not decode.
    CorruptData,
    /// There is no store in this file yet.
    NotInitialized,
    /// The disk or database failed.
    Storage,
    /// Talking to a sync server failed.
    Network,
    /// The server refused the device's credentials.
    Unauthorized,
    /// Staff are set up and nobody is signed in on this till (or the till
    /// locked itself after the shop's idle time, or the person signed in
    /// was deactivated): sign in with a PIN, then try again.
    SignInRequired,
    /// The staff member signed in may not do this alone: someone of
    /// `field`'s role (supervisor or manager) must approve it with their
    /// PIN; the same command again with their PIN does it.
    ApprovalNeeded,
    /// The receipt printer could not be reached or did not take the
    /// receipt (whatever was being printed is kept: print it again later).
    Printer,
    /// Anything else: a bug.
    Internal,
}

/// An error as the UI and scripts see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ErrorInfo {
    pub code: ErrorCode,
    pub message: String,
    /// For row-by-row input (CSV): the 1-based line number of the offending row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
    /// The field or argument at fault, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}
