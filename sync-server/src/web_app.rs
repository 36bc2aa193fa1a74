//! The customer's web app (`customer-web/`), embedded at build time
//! (build.rs copies its `dist/`, or a placeholder page, with gzip twins)
//! and served at `/`, so one binary serves the app and its API.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use include_dir::{Dir, DirEntry, include_dir};
use sha2::{Digest, Sha256};

use crate::api::not_found;

static DIST: Dir<'static> = include_dir!("$OUT_DIR/customer-web");

/// The app is wasm (`'wasm-unsafe-eval'`) with no inline script or style,
/// talking only to this server.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
    script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; manifest-src 'self'; worker-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One representation of a file: its bytes and their strong ETag.
struct Representation {
    bytes: &'static [u8],
    etag: HeaderValue,
}

struct Asset {
    content_type: &'static str,
    plain: Representation,
    gzip: Option<Representation>,
}

/// Hashed once, on the first request.
static ASSETS: LazyLock<HashMap<&'static str, Asset>> = LazyLock::new(load);

/// `GET /` (index.html) and `GET /{path}` for the embedded files; routes of
/// the API are more specific, so they keep precedence. Anything else,
/// other methods included, gets the API's 404.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(serve).fallback(not_found))
        .route("/{*path}", get(serve).fallback(not_found))
}

/// The embedded files' names (`icons/icon-192.png`; gzip twins left out),
/// sorted, each with whether it has a gzip twin.
pub fn embedded_files() -> Vec<(&'static str, bool)> {
    let mut names: Vec<_> = ASSETS
        .iter()
        .map(|(name, a)| (*name, a.gzip.is_some()))
        .collect();
    names.sort();
    names
}

fn load() -> HashMap<&'static str, Asset> {
    let mut files = HashMap::new();
    collect(&DIST, &mut files);
    files
        .iter()
        .filter(|(name, _)| {
            !name
                .strip_suffix(".gz")
                .is_some_and(|original| files.contains_key(original))
        })
        .filter_map(|(name, bytes)| {
            let asset = Asset {
                content_type: content_type(name),
                plain: representation(bytes)?,
                gzip: files
                    .get(format!("{name}.gz").as_str())
                    .and_then(|gz| representation(gz)),
            };
            Some((*name, asset))
        })
        .collect()
}

fn collect(dir: &'static Dir<'static>, files: &mut HashMap<&'static str, &'static [u8]>) {
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(d) => collect(d, files),
            DirEntry::File(f) => {
                if let Some(name) = f.path().to_str() {
                    files.insert(name, f.contents());
                }
            }
        }
    }
}

fn representation(bytes: &'static [u8]) -> Option<Representation> {
    let hash = Sha256::digest(bytes);
    let hex: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
    Some(Representation {
        bytes,
        etag: HeaderValue::from_str(&format!("\"{hex}\"")).ok()?,
    })
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Names are matched as sent, without percent-decoding: the app's file
/// names need none.
async fn serve(uri: Uri, headers: HeaderMap) -> Response {
    let name = match uri.path() {
        "/" => "index.html",
        path => path.strip_prefix('/').unwrap_or(path),
    };
    let Some(asset) = ASSETS.get(name) else {
        return not_found().await.into_response();
    };
    let gzip = asset.gzip.as_ref().filter(|_| accepts_gzip(&headers));
    let chosen = gzip.unwrap_or(&asset.plain);
    let mut response = if none_match(&headers, &chosen.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = Body::from(chosen.bytes).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        );
        if gzip.is_some() {
            r.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        r
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // Revalidated every time (a 304 is cheap): the service worker keeps
    // the app offline, and a new server's app is seen at once.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::ETAG, chosen.etag.clone());
    if asset.gzip.is_some() {
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    response
}

/// `Accept-Encoding` allows gzip: named (or `*`) without `q=0`.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut gzip = None;
    let mut any = false;
    let codings = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','));
    for coding in codings {
        let mut parts = coding.split(';');
        let name = parts.next().unwrap_or("").trim();
        let allowed = parts
            .filter_map(|p| {
                let (k, v) = p.split_once('=')?;
                k.trim().eq_ignore_ascii_case("q").then(|| v.trim())
            })
            .all(|q| q.parse::<f32>().is_ok_and(|q| q > 0.0));
        if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
            gzip = Some(allowed);
        } else if name == "*" {
            any = allowed;
        }
    }
    gzip.unwrap_or(any)
}

/// `If-None-Match` names this representation (weak comparison, as RFC
/// 9110 asks for this header) or is `*`.
fn none_match(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Ok(etag) = etag.to_str() else {
        return false;
    };
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: header::HeaderName, value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn accept_encoding() {
        let ae = |v| accepts_gzip(&with(header::ACCEPT_ENCODING, v));
        assert!(ae("gzip"));
        assert!(ae("br, GZIP;q=0.5"));
        assert!(ae("*"));
        assert!(!ae("br"));
        assert!(!ae("gzip;q=0"));
        assert!(!ae("*, gzip;q=0.0"));
        assert!(!ae("identity"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn if_none_match() {
        let tag = HeaderValue::from_static("\"abc\"");
        let inm = |v| none_match(&with(header::IF_NONE_MATCH, v), &tag);
        assert!(inm("\"abc\""));
        assert!(inm("\"x\", W/\"abc\""));
        assert!(inm("*"));
        assert!(!inm("\"abcd\""));
        assert!(!none_match(&HeaderMap::new(), &tag));
    }

    #[test]
    fn types() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("customer_web_bg.wasm"), "application/wasm");
        assert_eq!(
            content_type("manifest.webmanifest"),
            "application/manifest+json"
        );
        assert_eq!(content_type("icons/icon-192.png"), "image/png");
        assert_eq!(content_type("README"), "application/octet-stream");
    }
}
