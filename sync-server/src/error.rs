//! One error type for every handler: 4xx carry a clear message, 5xx are
//! logged and answered with a generic one. Always the same JSON shape:
//! `{"error": {"code": "...", "message": "..."}}`.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use shopsync_core::sync::wire::WireError;

use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the request body is over the limit of {0} bytes")]
    TooLarge(usize),
    /// One change (or a quota of one device) is too big: 413 with a message.
    #[error("{0}")]
    ChangeTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many attempts: wait a minute and try again")]
    TooManyRequests,
    /// A quota or a cap is reached (429 with a message naming it).
    #[error("{0}")]
    Quota(String),
    /// The request did not complete in time (408).
    #[error("the request did not complete within {0} s")]
    Timeout(u64),
    #[error("{0}")]
    Unprocessable(String),
    /// `/readyz`: this instance cannot serve now (503).
    #[error("not ready: {0}")]
    NotReady(String),
    /// Logged in full; the client sees a generic message.
    #[error("internal error: {0}")]
    Internal(String),
    /// The database cannot be reached now (503); logged in full, the client
    /// sees a generic message and tries again later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A change holds a record that breaks a validation rule (issue 7,
    /// part 3): 422 naming the document, the record and the rule.
    #[error("{0}")]
    InvalidRecord(shopsync_core::validate::RecordError),
}

impl ApiError {
    fn status_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::TooLarge(_) | ApiError::ChangeTooLarge(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
            }
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::TooManyRequests | ApiError::Quota(_) => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_requests")
            }
            ApiError::Timeout(_) => (StatusCode::REQUEST_TIMEOUT, "timeout"),
            ApiError::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable"),
            ApiError::NotReady(_) => (StatusCode::SERVICE_UNAVAILABLE, "not_ready"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::InvalidRecord(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_record"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_code();
        let message = match &self {
            ApiError::Internal(detail) => {
                tracing::error!("internal error: {detail}");
                "the server failed; the request was not applied, try again later".to_string()
            }
            ApiError::Unavailable(detail) => {
                tracing::warn!("database unavailable: {detail}");
                "the server's database is unavailable; the request was not applied, try again later"
                    .to_string()
            }
            other => {
                tracing::debug!("refused ({status}): {other}");
                other.to_string()
            }
        };
        let body = match &self {
            ApiError::InvalidRecord(e) => json!({ "error": {
                "code": code, "message": message,
                "document": e.document, "record": e.record, "rule": e.rule.as_str(),
            } }),
            _ => json!({ "error": { "code": code, "message": message } }),
        };
        (status, Json(body)).into_response()
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound(m) => ApiError::NotFound(m),
            StorageError::Conflict(m) => ApiError::Conflict(m),
            StorageError::Invalid(m) => ApiError::Unprocessable(m),
            StorageError::BadCode(m) => ApiError::Forbidden(m),
            StorageError::Backend(m) => ApiError::Internal(m),
            StorageError::Unavailable(m) => ApiError::Unavailable(m),
        }
    }
}

impl From<WireError> for ApiError {
    fn from(e: WireError) -> Self {
        match e {
            WireError::TooLarge(n) => ApiError::TooLarge(n),
            other => ApiError::BadRequest(format!("malformed sync request: {other}")),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        ApiError::BadRequest(format!("malformed JSON: {}", e.body_text()))
    }
}
