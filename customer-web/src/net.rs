//! Talking to the sync server that served this page (same origin, so no
//! server address to type and nothing to allow in the CSP): the customer
//! endpoints of docs/PROTOCOL.md, with the core's own request and answer
//! types, and the server's notices read from a streamed response (an
//! `EventSource` cannot send the device's token).

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use shopsync_core::sync::customer_api::{
    CustomerDeviceToken, LinkCode, LinkRequest, SignupRequest,
};
use shopsync_core::sync::customer_wire::{
    CustomerSyncRequest, CustomerSyncResponse, ShopListing, ShopsResponse,
};
use shopsync_core::sync::wire::{EPOCH_HEADER, PROTOCOL_VERSION};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The longest notice line (or notice) read from the stream.
const MAX_NOTICE: usize = 64 * 1024;

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetError {
    /// No answer (offline, the server down): try again later.
    Offline(String),
    /// The server refused this device (revoked, or a bad token).
    Unauthorized(String),
    /// The server answered with an error.
    Refused(String),
}

impl std::fmt::Display for NetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NetError::Offline(_) => write!(f, "offline: the server cannot be reached"),
            NetError::Unauthorized(m) | NetError::Refused(m) => f.write_str(m),
        }
    }
}

fn offline(e: impl std::fmt::Display) -> NetError {
    NetError::Offline(e.to_string())
}

fn with_token(rb: RequestBuilder, token: Option<&str>) -> RequestBuilder {
    match token {
        Some(t) => rb.header("Authorization", &format!("Bearer {t}")),
        None => rb,
    }
}

async fn read<T: DeserializeOwned>(resp: Response) -> Result<T, NetError> {
    if !resp.ok() {
        let status = resp.status();
        let message = resp
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| format!("the server answered {status}"));
        // 401 alone means this device's token is no longer good (revoked);
        // a 403 refuses one request, not the device.
        return Err(if status == 401 {
            NetError::Unauthorized(message)
        } else if status == 502 || status == 503 || status == 504 {
            NetError::Offline(message)
        } else {
            NetError::Refused(message)
        });
    }
    resp.json::<T>()
        .await
        .map_err(|e| NetError::Refused(format!("the server's answer does not decode: {e}")))
}

async fn post<B: Serialize, T: DeserializeOwned>(
    path: &str,
    token: Option<&str>,
    body: &B,
) -> Result<T, NetError> {
    let req = with_token(Request::post(path), token)
        .json(body)
        .map_err(|e| NetError::Refused(e.to_string()))?;
    read(req.send().await.map_err(offline)?).await
}

async fn get<T: DeserializeOwned>(path: &str, token: Option<&str>) -> Result<T, NetError> {
    let req = with_token(Request::get(path), token)
        .build()
        .map_err(|e| NetError::Refused(e.to_string()))?;
    read(req.send().await.map_err(offline)?).await
}

fn device_name() -> Option<String> {
    let ua = web_sys::window()?.navigator().user_agent().ok()?;
    let name = if ua.contains("Android") {
        "Android phone"
    } else if ua.contains("iPhone") {
        "iPhone"
    } else {
        "web browser"
    };
    Some(name.to_string())
}

pub async fn signup(name: &str, email: Option<&str>) -> Result<CustomerDeviceToken, NetError> {
    let body = SignupRequest {
        protocol: PROTOCOL_VERSION,
        name: name.trim().to_string(),
        email: email.map(|e| e.trim().to_string()),
        device_name: device_name(),
    };
    post("/v1/customers", None, &body).await
}

pub async fn link(code: &str) -> Result<CustomerDeviceToken, NetError> {
    let body = LinkRequest {
        protocol: PROTOCOL_VERSION,
        code: code.trim().to_string(),
        device_name: device_name(),
    };
    post("/v1/customers/link", None, &body).await
}

pub async fn link_code(token: &str) -> Result<LinkCode, NetError> {
    post(
        "/v1/customers/link-code",
        Some(token),
        &serde_json::json!({}),
    )
    .await
}

pub async fn shops(token: &str, search: &str) -> Result<Vec<ShopListing>, NetError> {
    let q = search.trim();
    let path = if q.is_empty() {
        "/v1/shops".to_string()
    } else {
        format!("/v1/shops?search={}", js_sys::encode_uri_component(q))
    };
    Ok(get::<ShopsResponse>(&path, Some(token)).await?.shops)
}

/// `POST /v1/customer/sync`: the answer and the server's epoch.
pub async fn sync(
    token: &str,
    request: &CustomerSyncRequest,
    known_epoch: Option<&str>,
) -> Result<(CustomerSyncResponse, Option<String>), NetError> {
    let mut rb = with_token(Request::post("/v1/customer/sync"), Some(token));
    if let Some(e) = known_epoch {
        rb = rb.header(EPOCH_HEADER, e);
    }
    let req = rb
        .json(request)
        .map_err(|e| NetError::Refused(e.to_string()))?;
    let resp = req.send().await.map_err(offline)?;
    let epoch = resp.headers().get(EPOCH_HEADER);
    Ok((read(resp).await?, epoch))
}

/// Opens `GET /v1/customer/events` and calls `on_event(name, data)` for each
/// notice until it returns false (`Ok`), or the stream ends or breaks (an
/// error, for the caller to retry later).
pub async fn events(
    token: &str,
    watch: &[String],
    mut on_event: impl FnMut(&str, &str) -> bool,
) -> Result<(), NetError> {
    let list: Vec<String> = watch
        .iter()
        .map(|s| String::from(js_sys::encode_uri_component(s)))
        .collect();
    let path = format!("/v1/customer/events?watch={}", list.join(","));
    let req = with_token(Request::get(&path), Some(token))
        .header("Accept", "text/event-stream")
        .build()
        .map_err(|e| NetError::Refused(e.to_string()))?;
    let resp = req.send().await.map_err(offline)?;
    if !resp.ok() {
        return read::<serde_json::Value>(resp).await.map(|_| ());
    }
    let body = resp
        .body()
        .ok_or_else(|| NetError::Refused("the notice stream has no body".into()))?;
    let reader: web_sys::ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|_| NetError::Refused("the notice stream cannot be read".into()))?;
    let mut buf: Vec<u8> = Vec::new();
    let (mut event, mut data) = (String::new(), String::new());
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| offline(format!("{e:?}")))?;
        let done = js_sys::Reflect::get(&chunk, &JsValue::from_str("done"))
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        if done {
            return Err(NetError::Offline("the notice stream ended".into()));
        }
        let value = js_sys::Reflect::get(&chunk, &JsValue::from_str("value"))
            .map_err(|e| offline(format!("{e:?}")))?;
        buf.extend(js_sys::Uint8Array::new(&value).to_vec());
        while let Some(end) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if (!event.is_empty() || !data.is_empty()) && !on_event(&event, &data) {
                    let _ = reader.cancel();
                    return Ok(());
                }
                event.clear();
                data.clear();
            } else if let Some(v) = line.strip_prefix("event:") {
                event = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.trim());
            }
        }
        // Notices are small: a line or a notice longer than this is not
        // the server's.
        if buf.len() > MAX_NOTICE || data.len() > MAX_NOTICE {
            return Err(NetError::Refused("a notice is too long".into()));
        }
    }
}
