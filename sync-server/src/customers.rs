//! Customer accounts (docs/PROTOCOL.md, "Customer accounts"): sign-up, link
//! codes, linking another device, `me`, revoking a device. Thin handlers over
//! `Storage`; bodies are `shopsync_core::sync::customer_api`.
//!
//! A customer device authenticates like a till (`auth::Device`, token
//! `{device_id}.{secret}`); the [`Customer`] extractor lets only customer
//! devices in (a till or a manager gets 403).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use shopsync_core::access::Role;
use shopsync_core::sync::customer_api::{
    CustomerAccount, CustomerDevice, CustomerDeviceToken, LinkCode, LinkRequest, Revoked,
    SignupRequest,
};
use shopsync_core::sync::wire;

use crate::AppState;
use crate::admin::new_code;
use crate::api::normalise_code;
use crate::auth::{Device, new_token, sha256};
use crate::error::ApiError;
use crate::guard;
use crate::storage::{LinkInput, NewCustomer, Storage};

/// Longest customer name and device name, in characters.
pub const NAME_CHARS: usize = 100;
/// Longest e-mail address, in bytes.
pub const EMAIL_BYTES: usize = 254;
/// A device's name when the request gives none.
pub const DEFAULT_DEVICE_NAME: &str = "device";

/// An authenticated customer device (a till's or a manager's token: 403).
#[derive(Debug, Clone)]
pub struct Customer {
    pub device: Device,
    pub customer_id: String,
}

impl<S: Storage> FromRequestParts<Arc<AppState<S>>> for Customer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState<S>>,
    ) -> Result<Self, Self::Rejection> {
        let device = Device::from_request_parts(parts, state).await?;
        match (device.role, device.customer.clone()) {
            (Role::Customer, Some(customer_id)) => Ok(Customer {
                device,
                customer_id,
            }),
            _ => Err(ApiError::Forbidden(
                "this endpoint is for customer devices: a till or a manager is not a customer"
                    .into(),
            )),
        }
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn body<T: DeserializeOwned>(payload: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    let Json(req) = payload.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(guard::ENROL_BODY_BYTES)
        } else {
            ApiError::from(e)
        }
    })?;
    Ok(req)
}

fn check_protocol(protocol: u16) -> Result<(), ApiError> {
    if protocol != wire::PROTOCOL_VERSION {
        return Err(ApiError::BadRequest(format!(
            "protocol version {protocol} is not supported (this server speaks {})",
            wire::PROTOCOL_VERSION
        )));
    }
    Ok(())
}

/// A name, trimmed: 1-100 characters, no control characters.
fn check_name(field: &str, value: &str) -> Result<String, ApiError> {
    let v = value.trim();
    let n = v.chars().count();
    if n == 0 || n > NAME_CHARS || v.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(format!(
            "{field} must be 1-{NAME_CHARS} characters, without control characters"
        )));
    }
    Ok(v.to_string())
}

fn check_device_name(value: Option<&str>) -> Result<String, ApiError> {
    match value {
        None => Ok(DEFAULT_DEVICE_NAME.to_string()),
        Some(v) => check_name("device_name", v),
    }
}

/// An e-mail address, trimmed: at most 254 bytes, with an `@`, no spaces
/// or control characters. (Not verified: nothing is sent to it.)
fn check_email(value: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(v) = value else {
        return Ok(None);
    };
    let v = v.trim();
    if v.len() > EMAIL_BYTES
        || !v.contains('@')
        || v.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ApiError::BadRequest(format!(
            "email must be an address with an '@', at most {EMAIL_BYTES} bytes, without spaces (or null)"
        )));
    }
    Ok(Some(v.to_string()))
}

/// `POST /v1/customers`: a new customer and its first device. Every
/// attempt counts against the client address's sign-ups a minute.
pub async fn signup<S: Storage>(
    State(st): State<Arc<AppState<S>>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    payload: Result<Json<SignupRequest>, JsonRejection>,
) -> Result<Json<CustomerDeviceToken>, ApiError> {
    let ip = addr.ip();
    if !st.signups.allow(ip) {
        return Err(ApiError::TooManyRequests);
    }
    st.signups.record(ip);
    let req = body(payload)?;
    check_protocol(req.protocol)?;
    let name = check_name("name", &req.name)?;
    let email = check_email(req.email.as_deref())?;
    let device_name = check_device_name(req.device_name.as_deref())?;
    let customer_id = shopsync_core::ids::new_id();
    let device_id = uuid::Uuid::new_v4().to_string();
    let (token, token_hash) = new_token(&device_id);
    st.storage
        .create_customer(NewCustomer {
            customer_id: customer_id.clone(),
            name,
            email,
            device_id: device_id.clone(),
            device_name,
            token_hash,
            now_ms: now_ms(),
        })
        .await?;
    tracing::info!(customer = %customer_id, device = %device_id, "customer signed up");
    Ok(Json(CustomerDeviceToken {
        customer_id,
        device_id,
        token,
    }))
}

/// `POST /v1/customers/link-code`: a one-time code for another device.
pub async fn link_code<S: Storage>(
    State(st): State<Arc<AppState<S>>>,
    me: Customer,
) -> Result<Json<LinkCode>, ApiError> {
    // Each device has its own notice streams: an account may not grow
    // devices without bound.
    let devices = st
        .storage
        .customer(me.customer_id.clone())
        .await?
        .map(|c| c.devices.iter().filter(|d| !d.revoked).count())
        .unwrap_or(0);
    if devices >= MAX_DEVICES {
        return Err(ApiError::Quota(format!(
            "this account has {devices} devices, the most it may have: revoke one first"
        )));
    }
    let code = new_code();
    let now = now_ms();
    let expires_at = now.saturating_add(st.options.link_code_ttl.as_millis() as i64);
    st.storage
        .create_link_code(
            me.customer_id,
            sha256(normalise_code(&code).as_bytes()),
            now,
            expires_at,
        )
        .await?;
    Ok(Json(LinkCode { code, expires_at }))
}

/// Devices (not revoked) one customer may have.
pub const MAX_DEVICES: usize = 20;

/// `POST /v1/customers/link`: a new device of the customer whose code it
/// is. Failures count in the enrolment limiter, like `/v1/enrol`.
pub async fn link<S: Storage>(
    State(st): State<Arc<AppState<S>>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    payload: Result<Json<LinkRequest>, JsonRejection>,
) -> Result<Json<CustomerDeviceToken>, ApiError> {
    let ip = addr.ip();
    if !st.limiter.allow(ip) {
        return Err(ApiError::TooManyRequests);
    }
    let result = link_inner(&st, payload).await;
    if result.is_err() {
        st.limiter.failed(ip);
    }
    result
}

async fn link_inner<S: Storage>(
    st: &AppState<S>,
    payload: Result<Json<LinkRequest>, JsonRejection>,
) -> Result<Json<CustomerDeviceToken>, ApiError> {
    let req = body(payload)?;
    check_protocol(req.protocol)?;
    let device_name = check_device_name(req.device_name.as_deref())?;
    let code = normalise_code(&req.code);
    if code.is_empty() || code.len() > 64 {
        return Err(ApiError::BadRequest("a link code is required".into()));
    }
    let device_id = uuid::Uuid::new_v4().to_string();
    let (token, token_hash) = new_token(&device_id);
    let customer_id = st
        .storage
        .link_device(LinkInput {
            code_hash: sha256(code.as_bytes()),
            device_id: device_id.clone(),
            device_name,
            token_hash,
            now_ms: now_ms(),
        })
        .await?;
    tracing::info!(customer = %customer_id, device = %device_id, "customer device linked");
    Ok(Json(CustomerDeviceToken {
        customer_id,
        device_id,
        token,
    }))
}

/// `GET /v1/customers/me`: the customer and all its devices.
pub async fn me<S: Storage>(
    State(st): State<Arc<AppState<S>>>,
    me: Customer,
) -> Result<Json<CustomerAccount>, ApiError> {
    let c = st
        .storage
        .customer(me.customer_id.clone())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no customer '{}'", me.customer_id)))?;
    Ok(Json(CustomerAccount {
        customer_id: c.customer_id,
        name: c.name,
        email: c.email,
        devices: c
            .devices
            .into_iter()
            .map(|d| CustomerDevice {
                device_id: d.device_id,
                device_name: d.device_name,
                created_at: d.created_at,
                revoked: d.revoked,
            })
            .collect(),
    }))
}

/// `POST /v1/customers/devices/{device_id}/revoke`: revokes a device of the
/// same customer (this one included). Another customer's device, or an
/// unknown one: 404.
pub async fn revoke<S: Storage>(
    State(st): State<Arc<AppState<S>>>,
    me: Customer,
    device_id: Result<Path<String>, PathRejection>,
) -> Result<Json<Revoked>, ApiError> {
    let not_found = |id: &str| ApiError::NotFound(format!("this customer has no device '{id}'"));
    let Ok(Path(device_id)) = device_id else {
        return Err(not_found("?"));
    };
    if device_id.is_empty() || device_id.len() > 64 {
        return Err(not_found(&guard::printable(&device_id)));
    }
    let revoked = st
        .storage
        .revoke_customer_device(me.customer_id.clone(), device_id.clone(), now_ms())
        .await?;
    if !revoked {
        return Err(not_found(&guard::printable(&device_id)));
    }
    tracing::info!(
        customer = %me.customer_id,
        device = %device_id,
        by = %me.device.device_id,
        "customer device revoked"
    );
    Ok(Json(Revoked {
        device_id,
        revoked: true,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_emails_are_checked() {
        assert_eq!(check_name("name", "  Ana ").ok().as_deref(), Some("Ana"));
        assert!(check_name("name", "   ").is_err());
        assert!(check_name("name", &"é".repeat(100)).is_ok());
        assert!(check_name("name", &"é".repeat(101)).is_err());
        assert!(check_name("name", "A\nB").is_err());
        assert_eq!(check_device_name(None).ok().as_deref(), Some("device"));
        assert!(check_device_name(Some("")).is_err());
        assert_eq!(check_email(None).ok(), Some(None));
        assert_eq!(
            check_email(Some(" a@b.c ")).ok(),
            Some(Some("a@b.c".to_string()))
        );
        assert!(check_email(Some("ab.c")).is_err());
        assert!(check_email(Some("")).is_err());
        assert!(check_email(Some("a b@c")).is_err());
        let long = format!("{}@b.c", "a".repeat(EMAIL_BYTES - 4));
        assert_eq!(long.len(), EMAIL_BYTES);
        assert!(check_email(Some(&long)).is_ok());
        assert!(check_email(Some(&format!("a{long}"))).is_err());
    }
}
