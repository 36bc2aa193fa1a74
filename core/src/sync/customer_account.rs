//! A customer's account from a device: sign up, make a link code, link a
//! second device, show the account (docs/PROTOCOL.md, "Customer
//! accounts"; bodies in `customer_api`). Signing up or linking records the
//! server, device and token on the device and moves the lists it kept
//! offline to the account (`CustomerStore::adopt_account`).

use automerge::AutoCommit;

use super::client::{SyncError, network};
use super::customer_api::{
    CustomerAccount, CustomerDeviceToken, LinkCode, LinkRequest, SignupRequest,
};
use super::customer_client::CustomerClient;
use super::wire::PROTOCOL_VERSION;
use crate::customer;
use crate::customer_store::{Account, CustomerStore, CustomerSyncConfig};

/// This device's name as the server lists it: the host's name if the
/// environment gives one.
pub fn default_device_name() -> Option<String> {
    ["HOSTNAME", "COMPUTERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok())
        .map(|n| n.trim().chars().take(100).collect::<String>())
        .filter(|n| !n.is_empty())
}

impl CustomerClient {
    /// `POST /v1/customers`.
    pub fn signup(&self, req: &SignupRequest) -> Result<CustomerDeviceToken, SyncError> {
        self.post("/v1/customers", req)
    }

    /// `POST /v1/customers/link-code` (this device's token, no body).
    pub fn link_code(&self) -> Result<LinkCode, SyncError> {
        let inner = &self.inner;
        let resp = inner
            .auth(
                inner
                    .http
                    .post(format!("{}/v1/customers/link-code", inner.base)),
            )
            .send()
            .map_err(network)?;
        CustomerClient::read(resp)
    }

    /// `POST /v1/customers/link`.
    pub fn link(&self, req: &LinkRequest) -> Result<CustomerDeviceToken, SyncError> {
        self.post("/v1/customers/link", req)
    }

    /// `GET /v1/customers/me`.
    pub fn me(&self) -> Result<CustomerAccount, SyncError> {
        self.get("/v1/customers/me")
    }
}

fn adopt(
    store: &mut CustomerStore,
    client: &CustomerClient,
    t: CustomerDeviceToken,
    name: Option<&str>,
    allow_insecure_http: bool,
) -> Result<Account, SyncError> {
    store.adopt_account(
        &CustomerSyncConfig {
            server: client.base().to_string(),
            customer_id: t.customer_id,
            device_id: t.device_id,
            token: t.token,
            allow_insecure_http,
        },
        name,
    )?;
    Ok(store.account()?)
}

/// Signs this device up for a new account named `name`, then writes the
/// name and e-mail into the customer's profile. The input is checked
/// before anything is sent.
pub fn signup(
    store: &mut CustomerStore,
    client: &CustomerClient,
    name: &str,
    email: Option<&str>,
    allow_insecure_http: bool,
) -> Result<Account, SyncError> {
    store.ensure_no_account()?;
    let mut scratch = AutoCommit::new();
    customer::set_name(&mut scratch, name)?;
    customer::set_email(&mut scratch, email)?;
    let token = client.signup(&SignupRequest {
        protocol: PROTOCOL_VERSION,
        name: name.trim().to_string(),
        email: email.map(|e| e.trim().to_string()),
        device_name: default_device_name(),
    })?;
    let account = adopt(store, client, token, Some(name.trim()), allow_insecure_http)?;
    store.set_name(name)?;
    if email.is_some() {
        store.set_email(email)?;
    }
    Ok(account)
}

/// Links this device to the account whose device made `code`.
pub fn link(
    store: &mut CustomerStore,
    client: &CustomerClient,
    code: &str,
    allow_insecure_http: bool,
) -> Result<Account, SyncError> {
    store.ensure_no_account()?;
    let token = client.link(&LinkRequest {
        protocol: PROTOCOL_VERSION,
        code: code.trim().to_string(),
        device_name: default_device_name(),
    })?;
    adopt(store, client, token, None, allow_insecure_http)
}
