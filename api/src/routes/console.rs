//! `GET /console`: the operator console, a page and its scripts built into
//! the binary (nothing is fetched from anywhere but the gateway itself), and
//! `GET /graphql`'s query page, which is the same page opened on its query
//! view. Everything it shows comes from the public GraphQL API.
use axum::{
    Router,
    extract::Path,
    http::{
        HeaderMap, HeaderValue, StatusCode,
        header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HOST},
    },
    response::{IntoResponse, Response},
    routing::get,
};

use crate::state::AppState;

/// One embedded file of `api/console/`.
struct Asset {
    path: &'static str,
    body: &'static str,
}

macro_rules! assets {
    ($($path:literal),+ $(,)?) => {
        &[$(Asset {
            path: $path,
            body: include_str!(concat!("../../console/", $path)),
        }),+]
    };
}

/// Every file of `api/console/`, the page first (a unit test keeps the
/// list and the folder in step).
const ASSETS: &[Asset] = assets![
    "index.html",
    "console.css",
    "icon.svg",
    "js/app.js",
    "js/api.js",
    "js/dom.js",
    "js/paged.js",
    "js/rules.js",
    "js/status.js",
    "js/ws.js",
    "js/views/accounts.js",
    "js/views/audit.js",
    "js/views/events.js",
    "js/views/live.js",
    "js/views/query.js",
    "js/views/refused.js",
];

impl Asset {
    fn content_type(&self) -> &'static str {
        match self.path.rsplit_once('.').map(|(_, extension)| extension) {
            Some("html") => "text/html; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            Some("js") => "text/javascript; charset=utf-8",
            Some("svg") => "image/svg+xml",
            _ => "application/octet-stream",
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(index))
        .route("/console/", get(index))
        .route("/console/{*path}", get(asset))
}

async fn index(headers: HeaderMap) -> Response {
    serve(&ASSETS[0], &headers)
}

/// The page `GET /graphql` answers: the console on its query view (a query
/// editor that POSTs to `/graphql`), working offline.
pub async fn query_page(headers: HeaderMap) -> Response {
    index(headers).await
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    match ASSETS.iter().find(|asset| asset.path == path) {
        Some(asset) => serve(asset, &headers),
        None => (StatusCode::NOT_FOUND, "no such console file").into_response(),
    }
}

fn serve(asset: &Asset, headers: &HeaderMap) -> Response {
    let mut response = asset.body.into_response();
    let out = response.headers_mut();
    out.insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type()));
    // Revalidated on every load, so an upgraded gateway never runs with a
    // stale script of the previous one.
    out.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    out.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&content_security_policy(headers)).expect("a header-safe policy"),
    );
    out.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    out.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}

/// Only the gateway itself: scripts, styles and images from its own origin,
/// fetches to it and WebSockets to its own host; no inline code, no frames.
fn content_security_policy(headers: &HeaderMap) -> String {
    let host = headers
        .get(HOST)
        .and_then(|host| host.to_str().ok())
        .filter(|host| is_host(host));
    let sockets = host.map_or_else(String::new, |host| format!(" ws://{host} wss://{host}"));
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
         connect-src 'self'{sockets}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
}

/// A `Host` value that can go into the policy as it is (name or address,
/// optional port); anything else is left out and `'self'` alone applies.
fn is_host(host: &str) -> bool {
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_console_file_is_served() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("console");
        let mut files = Vec::new();
        let mut folders = vec![root.clone()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    folders.push(path);
                } else {
                    let relative = path.strip_prefix(&root).unwrap();
                    files.push(relative.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        files.sort();
        let mut served: Vec<String> = ASSETS.iter().map(|a| a.path.to_owned()).collect();
        served.sort();
        assert_eq!(files, served);
        assert_eq!(ASSETS[0].path, "index.html");
    }

    #[test]
    fn every_file_has_its_content_type() {
        for asset in ASSETS {
            assert_ne!(
                asset.content_type(),
                "application/octet-stream",
                "{}",
                asset.path
            );
        }
    }

    #[test]
    fn the_policy_names_only_a_plain_host() {
        let policy = |host: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(HOST, HeaderValue::from_str(host).unwrap());
            content_security_policy(&headers)
        };
        assert!(
            policy("127.0.0.1:8080")
                .contains("connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080;")
        );
        assert!(policy("[::1]:80").contains("ws://[::1]:80"));
        assert!(policy("evil; script-src *").contains("connect-src 'self';"));
        assert!(!policy("evil; script-src *").contains("evil"));
    }
}
