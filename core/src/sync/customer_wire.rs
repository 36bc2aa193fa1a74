//! The customer's sync protocol (`POST /v1/customer/sync`, see
//! docs/PROTOCOL.md): JSON, so a browser can speak it too, with each
//! Automerge change as base64 (standard alphabet, padded).
//!
//! Unlike a till, which follows one store's whole change feed with one
//! cursor, a customer follows a handful of documents spread over stores
//! (its own document, its order documents with each shop, the public
//! catalogs of its favourite shops), each with its own cursor: the server's
//! sequence number of the last change of that document the device has.
//!
//! A request uploads the device's unacknowledged changes and asks for each
//! listed document's changes after its cursor; `200` means every uploaded
//! change is stored, but those of a document the answer marks `refused`
//! (an order the shop does not take, a record that breaks the rules).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::wire::PROTOCOL_VERSION;

/// Documents one request may name.
pub const MAX_DOCS: usize = 1_000;
/// Largest request body (JSON, uncompressed).
pub const MAX_REQUEST_BYTES: usize = 8 * 1024 * 1024;
/// Change bytes per answer (before base64) before the server stops and sets
/// `more` on the documents it cut short.
pub const ANSWER_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerSyncRequest {
    pub protocol: u16,
    pub docs: Vec<DocRequest>,
    /// This device takes a document's refusal in its answer (`refused`)
    /// and takes those changes back; without it, a refusal fails the whole
    /// request as before (an older device would drop the changes as stored).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refusals: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DocRequest {
    pub doc_id: String,
    /// The last server sequence number of this document the device has.
    #[serde(default)]
    pub since: u64,
    /// Changes the server has not acknowledged yet (base64).
    #[serde(default)]
    pub changes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerSyncResponse {
    pub protocol: u16,
    /// One entry per requested document, in the request's order.
    pub docs: Vec<DocAnswer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DocAnswer {
    pub doc_id: String,
    /// The device's new `since` for this document.
    pub cursor: u64,
    /// Changes after `since` (base64), oldest first, without the ones the
    /// request uploaded.
    pub changes: Vec<String>,
    /// More changes wait: ask again with `since = cursor`.
    #[serde(default)]
    pub more: bool,
    /// The changes the request uploaded for this document were not stored,
    /// and never will be as they are (an order to a shop that takes none,
    /// or a record that breaks the rules): why. The device takes them back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

impl CustomerSyncRequest {
    pub fn new(docs: Vec<DocRequest>) -> Self {
        CustomerSyncRequest {
            protocol: PROTOCOL_VERSION,
            docs,
            refusals: true,
        }
    }
}

pub fn encode_change(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

pub fn decode_change(text: &str) -> Result<Vec<u8>, String> {
    STANDARD
        .decode(text)
        .map_err(|e| format!("a change is not base64: {e}"))
}

/// A shop customers can find: `GET /v1/shops?search=Q`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopListing {
    pub store_id: String,
    pub name: String,
}

/// `GET /v1/shops` answer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ShopsResponse {
    pub shops: Vec<ShopListing>,
}
