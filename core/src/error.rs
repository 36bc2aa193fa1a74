//! The core's error type. Every operation either commits completely or
//! returns one of these and changes nothing.

use shopsync_types::{ErrorCode, ErrorInfo, MoneyError};

pub type Result<T, E = CoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("{message}")]
    Invalid {
        field: Option<String>,
        message: String,
    },
    #[error("{what} '{key}' not found")]
    NotFound { what: &'static str, key: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Payment(String),
    #[error("row {row}: {field}: {message}")]
    CsvRow {
        row: u64,
        field: String,
        message: String,
    },
    #[error("{0}")]
    Corrupt(String),
    #[error("no store in {0}: run `shopsync init` first")]
    NotInitialized(String),
    #[error("there is already a store in {0}")]
    AlreadyInitialized(String),
    #[cfg(feature = "store")]
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[cfg(feature = "store")]
    #[error("database migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("document error: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    /// A record failed to project while a page was projected without
    /// savepoints (`quarantine::Projecting::Optimistic`): the page is
    /// applied again record by record. Never reaches a caller of the store.
    #[error("a record of this page could not be projected: apply the page record by record")]
    ProjectCarefully,
    /// Talking to a sync server failed (it may work later).
    #[error("{0}")]
    Network(String),
    /// The sync server refused this device's credentials or rights.
    #[error("{0}")]
    Unauthorized(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    // money: refunds and till-role catalog edits ------------------------------
    /// Every line of the sale is already refunded (or over-refunded after two
    /// tills refunded it offline).
    #[error("sale {0} has nothing left to refund")]
    NothingToRefund(String),
    /// This device is enrolled as a till: the server takes catalog changes
    /// from managers only, so a catalog edit here would never reach another till.
    #[error(
        "this device is enrolled as a till: catalog edits (products, suppliers, tax classes, settings) are made on a manager's device"
    )]
    CatalogReadOnly,
    // staff (issue 10) --------------------------------------------------------
    /// Staff are set up on this store: operations need a staff member
    /// signed in with their PIN.
    #[error("this store has staff: sign in with a staff PIN first")]
    SignInRequired,
    /// No active staff member has this PIN; how many tries are left before
    /// PIN checks pause (0: paused now).
    #[error("wrong PIN ({0} tries left before PIN checks pause for 30 s)")]
    WrongPin(u32),
    /// Too many wrong PINs in a row on this till: seconds until PIN checks
    /// are taken again.
    #[error("too many wrong PINs: try again in {0} s")]
    PinLocked(u64),
    /// The role of whoever is acting (or of their approver) does not allow it.
    #[error("{0}")]
    NotPermitted(String),
    // drawer sessions (issue 10) ---------------------------------------------
    /// `cash_sessions` is `required` and a cash payment was asked of a till
    /// with no open drawer session.
    #[error("open a drawer session first: shopsync drawer open-session --float …")]
    DrawerSessionRequired,
    /// Cash in/out or closing, with no drawer session open on this till.
    #[error("no drawer session is open on this till: shopsync drawer open-session --float …")]
    NoDrawerSession,
    /// A second session, while this one is open on this till.
    #[error(
        "drawer session {0} is already open on this till: close it first (shopsync drawer close-session)"
    )]
    DrawerSessionOpen(String),
    /// The role of whoever is acting does not allow it alone and nobody
    /// approved it: `role` (cashier, supervisor, manager) is the lowest that
    /// may approve, so a till can ask for that PIN on the spot.
    #[error("{message}")]
    ApprovalNeeded { role: String, message: String },
    /// The receipt printer failed; whatever was being printed is saved.
    #[cfg(feature = "store")]
    #[error(transparent)]
    Printer(#[from] crate::receipt::PrintError),
}

impl CoreError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        CoreError::Invalid {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    pub fn not_found(what: &'static str, key: impl Into<String>) -> Self {
        CoreError::NotFound {
            what,
            key: key.into(),
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        CoreError::Io {
            context: context.into(),
            source,
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            CoreError::Invalid { .. } | CoreError::CsvRow { .. } => ErrorCode::InvalidInput,
            CoreError::NotFound { .. } => ErrorCode::NotFound,
            CoreError::Conflict(_) | CoreError::AlreadyInitialized(_) => ErrorCode::Conflict,
            CoreError::Payment(_) => ErrorCode::Payment,
            CoreError::Corrupt(_) => ErrorCode::CorruptData,
            CoreError::NotInitialized(_) => ErrorCode::NotInitialized,
            #[cfg(feature = "store")]
            CoreError::Sqlite(_) | CoreError::Migration(_) => ErrorCode::Storage,
            CoreError::Io { .. } => ErrorCode::Storage,
            CoreError::Automerge(_) | CoreError::ProjectCarefully => ErrorCode::Internal,
            CoreError::Network(_) => ErrorCode::Network,
            CoreError::Unauthorized(_) => ErrorCode::Unauthorized,
            CoreError::NothingToRefund(_) => ErrorCode::Payment,
            CoreError::CatalogReadOnly => ErrorCode::Unauthorized,
            CoreError::SignInRequired
            | CoreError::WrongPin(_)
            | CoreError::PinLocked(_)
            | CoreError::NotPermitted(_)
            | CoreError::ApprovalNeeded { .. } => ErrorCode::Unauthorized,
            CoreError::DrawerSessionRequired
            | CoreError::NoDrawerSession
            | CoreError::DrawerSessionOpen(_) => ErrorCode::Conflict,
            #[cfg(feature = "store")]
            CoreError::Printer(_) => ErrorCode::Printer,
        }
    }

    /// The error as the UI and `--json` callers see it.
    pub fn info(&self) -> ErrorInfo {
        let (row, field) = match self {
            CoreError::Invalid { field, .. } => (None, field.clone()),
            CoreError::CsvRow { row, field, .. } => (Some(*row), Some(field.clone())),
            _ => (None, None),
        };
        ErrorInfo {
            code: self.code(),
            message: self.to_string(),
            row,
            field,
        }
    }
}

impl From<CoreError> for ErrorInfo {
    fn from(e: CoreError) -> Self {
        e.info()
    }
}

/// Money parsing errors name the field they came from.
pub fn money_err(field: &str) -> impl Fn(MoneyError) -> CoreError + '_ {
    move |e| CoreError::invalid(field, format!("{field}: {e}"))
}
