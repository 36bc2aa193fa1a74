//! chromedriver's own commands, which fantoccini has no method for, sent
//! through its `Client::issue_cmd`:
//! - `POST /session/{id}/chromium/network_conditions` (network off or on),
//! - `POST /session/{id}/se/log` with `{"type": "browser"}` (the console
//!   messages since the last call; needs `goog:loggingPrefs`).

use fantoccini::wd::WebDriverCompatibleCommand;
use serde_json::{Value, json};

/// A POST to `session/{id}/{path}` with a JSON body.
#[derive(Debug)]
pub(crate) struct VendorPost {
    path: &'static str,
    body: Value,
}

impl VendorPost {
    /// Network emulation: `offline` true makes every request of the page
    /// fail as with no connection (`navigator.onLine` false); false gives
    /// the network back, unthrottled.
    pub(crate) fn network(offline: bool) -> VendorPost {
        VendorPost {
            path: "chromium/network_conditions",
            body: json!({
                "network_conditions": {
                    "offline": offline,
                    "latency": 0,
                    "download_throughput": -1,
                    "upload_throughput": -1,
                }
            }),
        }
    }

    /// The browser's console log since the last call.
    pub(crate) fn browser_log() -> VendorPost {
        VendorPost {
            path: "se/log",
            body: json!({ "type": "browser" }),
        }
    }
}

impl WebDriverCompatibleCommand for VendorPost {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        // No session: an URL chromedriver answers with an error, not a panic.
        let session = session_id.unwrap_or("none");
        base_url.join(&format!("session/{session}/{}", self.path))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}
