//! Which browser pages may call the GraphQL API (contract section 1).
//!
//! Without keys (open mode, every caller `admin`) the API answers pages on
//! loopback origins only: a page of another site in the operator's browser
//! is refused with 403, whatever `GATEWAY_CORS_ORIGINS` lists. With keys no
//! origin is refused (a page must hold a key), and CORS grants the listed
//! origins only.
use std::{net::IpAddr, time::Duration};

use axum::{
    extract::{Request, State},
    http::{
        HeaderValue, Method, StatusCode, Uri,
        header::{AUTHORIZATION, CONTENT_TYPE, ORIGIN},
    },
    middleware::Next,
    response::Response,
};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::graphql::{Media, refused};
use crate::{graphql::error::GqlError, state::AppState};

/// How long a browser may reuse a preflight's answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// Refuses, in open mode, a request whose `Origin` is not a loopback one.
/// Browsers send `Origin` with every cross-origin request, every POST and
/// every WebSocket handshake.
pub async fn refuse_other_sites(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let origin = request.headers().get(ORIGIN);
    if let Some(origin) = origin.filter(|o| state.auth.is_open() && !is_loopback(o)) {
        let origin = String::from_utf8_lossy(origin.as_bytes()).into_owned();
        let error = GqlError::ForeignOrigin(origin);
        return refused(StatusCode::FORBIDDEN, Media::Json, error);
    }
    next.run(request).await
}

/// CORS for `/graphql`: preflights for `POST` with `Authorization` and
/// `Content-Type` are granted to the listed origins, and in open mode to
/// loopback ones (a local front end on another port).
pub fn cors(state: &AppState) -> CorsLayer {
    let open = state.auth.is_open();
    let listed = state.cors_origins.clone();
    if open {
        for origin in listed.iter().filter(|o| !is_loopback_text(o)) {
            tracing::warn!(
                %origin,
                "GATEWAY_CORS_ORIGINS lists a non-loopback origin but GATEWAY_API_KEYS is not set: \
                 its pages are refused until keys are configured"
            );
        }
    }
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            listed.iter().any(|o| o.as_bytes() == origin.as_bytes()) || open && is_loopback(origin)
        }))
        .allow_methods([Method::POST])
        .allow_headers([AUTHORIZATION, CONTENT_TYPE])
        .max_age(PREFLIGHT_MAX_AGE)
}

/// Whether an `Origin` is `http(s)://` on `localhost`, 127.0.0.0/8 or `[::1]`.
/// `null` (sandboxed frames, files) and anything unreadable are not.
fn is_loopback(origin: &HeaderValue) -> bool {
    origin.to_str().is_ok_and(is_loopback_text)
}

fn is_loopback_text(origin: &str) -> bool {
    let Ok(uri) = origin.parse::<Uri>() else {
        return false;
    };
    let web = matches!(uri.scheme_str(), Some("http" | "https"));
    let host = uri.host().unwrap_or_default();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    web && (host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_origins_are_localhost_127_and_ipv6_one() {
        for origin in [
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://localhost:5173",
            "https://LOCALHOST",
            "http://[::1]",
            "http://[::1]:8080",
        ] {
            assert!(is_loopback_text(origin), "{origin}");
        }
        for origin in [
            "https://evil.example",
            "http://localhost.evil.example",
            "http://127.0.0.1.evil.example",
            "http://10.0.0.1",
            "http://[::ffff:7f00:1]",
            "null",
            "file://",
            "chrome-extension://abc",
            "",
        ] {
            assert!(!is_loopback_text(origin), "{origin}");
        }
    }
}
