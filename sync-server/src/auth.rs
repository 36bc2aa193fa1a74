//! Authentication as an extractor: a handler that takes a `Device` cannot
//! run for a request without a valid, unrevoked device token.
//!
//! Tokens are `{device_id}.{secret}`, the secret 32 random bytes (base64url).
//! The server keeps SHA-256(secret) and compares in constant time.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use shopsync_core::access::{Principal, Role};
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::error::ApiError;
use crate::storage::{Storage, StoreRow};

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Device {
    pub device_id: String,
    pub role: Role,
    pub till_id: String,
    pub store: StoreRow,
    /// A customer's device: its customer id (role `Customer`, store the
    /// reserved `~customers` row, till id empty). None for a till or a
    /// manager.
    pub customer: Option<String>,
}

impl Device {
    pub fn principal(&self) -> Principal<'_> {
        Principal {
            role: self.role,
            store: &self.store.store_id,
            till: &self.till_id,
            customer: self.customer.as_deref(),
        }
    }
}

pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// A new token for `device_id`, and the hash to store.
pub fn new_token(device_id: &str) -> (String, [u8; 32]) {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let text = URL_SAFE_NO_PAD.encode(secret);
    let hash = sha256(text.as_bytes());
    (format!("{device_id}.{text}"), hash)
}

impl<S: Storage> FromRequestParts<Arc<AppState<S>>> for Device {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState<S>>,
    ) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            ApiError::Unauthorized("a device token is required (Authorization: Bearer …)".into())
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::Unauthorized("the Authorization header must be `Bearer TOKEN`".into())
            })?;
        let invalid = || ApiError::Unauthorized("invalid device token".into());
        let (device_id, secret) = token.trim().split_once('.').ok_or_else(invalid)?;
        if device_id.is_empty() || device_id.len() > 64 || secret.len() > 128 {
            return Err(invalid());
        }
        let presented = sha256(secret.as_bytes());
        let found = state.storage.device(device_id.to_string()).await?;
        let Some(dev) = found else {
            return Err(invalid());
        };
        if !bool::from(dev.token_hash.ct_eq(&presented)) {
            return Err(invalid());
        }
        if dev.revoked {
            return Err(ApiError::Unauthorized(
                "this device has been revoked".into(),
            ));
        }
        // Its answer reached it: an enrolment retry may no longer hand this
        // device a new token (a code seen by someone else must not let them
        // take the device over).
        if dev.enrol_retry_open {
            state
                .storage
                .close_enrol_retry(dev.device_id.clone())
                .await?;
        }
        Ok(Device {
            device_id: dev.device_id,
            role: dev.role,
            till_id: dev.till_id,
            store: dev.store,
            customer: dev.customer,
        })
    }
}
