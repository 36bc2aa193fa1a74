//! Customer accounts on the sync server (docs/PROTOCOL.md, "Customer
//! accounts"): the JSON bodies of `/v1/customers*`, shared by the server and
//! a customer's client. Tokens are `{device_id}.{secret}` like a till's, and
//! are redacted in `Debug`.

use serde::{Deserialize, Serialize};

/// `POST /v1/customers` body: a new customer account and its first device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupRequest {
    pub protocol: u16,
    /// 1-100 characters once trimmed.
    pub name: String,
    /// Optional; at most 254 bytes and containing `@`.
    #[serde(default)]
    pub email: Option<String>,
    /// This device's name (1-100 characters; `"device"` when absent).
    #[serde(default)]
    pub device_name: Option<String>,
}

/// `POST /v1/customers/link` body: a second device joins the account of the
/// device that made the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRequest {
    pub protocol: u16,
    /// `XXXX-XXXX-XXXX` (dashes, spaces and case do not matter).
    pub code: String,
    #[serde(default)]
    pub device_name: Option<String>,
}

/// The answer to a sign-up or a link. The token is shown once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerDeviceToken {
    pub customer_id: String,
    pub device_id: String,
    pub token: String,
}

impl std::fmt::Debug for CustomerDeviceToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomerDeviceToken")
            .field("customer_id", &self.customer_id)
            .field("device_id", &self.device_id)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// `POST /v1/customers/link-code` answer: a one-time code for another
/// device of the same customer.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkCode {
    pub code: String,
    /// Milliseconds since the epoch (UTC).
    pub expires_at: i64,
}

impl std::fmt::Debug for LinkCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkCode")
            .field("code", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// One device of a customer, in [`CustomerAccount`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerDevice {
    pub device_id: String,
    pub device_name: String,
    /// Milliseconds since the epoch (UTC).
    pub created_at: i64,
    pub revoked: bool,
}

/// `GET /v1/customers/me` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerAccount {
    pub customer_id: String,
    pub name: String,
    pub email: Option<String>,
    /// Oldest first, revoked ones included.
    pub devices: Vec<CustomerDevice>,
}

/// `POST /v1/customers/devices/{device_id}/revoke` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revoked {
    pub device_id: String,
    pub revoked: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_fields_may_be_left_out_and_tokens_are_not_printed() -> serde_json::Result<()> {
        let req: SignupRequest = serde_json::from_str(r#"{"protocol":1,"name":"Ana"}"#)?;
        assert_eq!(req.email, None);
        assert_eq!(req.device_name, None);
        let t = CustomerDeviceToken {
            customer_id: "c".into(),
            device_id: "d".into(),
            token: "d.secret".into(),
        };
        assert!(!format!("{t:?}").contains("secret"));
        Ok(())
    }
}
