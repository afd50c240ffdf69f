//! Request ids: every request carries `x-request-id` (the caller's when it
//! sends one usable id, else a new UUID), its answer repeats it, and the
//! request's tracing span records it, so every log line of the request
//! names it.
use axum::{
    Router,
    extract::Request,
    http::{HeaderName, HeaderValue},
};
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Longest caller's id kept; a longer one is replaced.
const MAX_ID_BYTES: usize = 128;

/// `router` with request ids and a tracing span per request.
pub fn traced(router: Router) -> Router {
    router
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(span))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::map_request(drop_unusable_id))
}

/// A span is kept only when the filter enables its level: at ERROR, the
/// id is on every line of the request whatever `RUST_LOG` lets through.
fn span(request: &Request) -> tracing::Span {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|id| id.to_str().ok())
        .unwrap_or_default();
    // The path only: a query string can carry a credential (`?token=`).
    tracing::error_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    )
}

/// A caller's id is kept only when it is one short printable token, so a
/// log line never holds more than that of what the caller chose.
async fn drop_unusable_id(mut request: Request) -> Request {
    let mut ids = request.headers().get_all(&REQUEST_ID).iter();
    let usable = match (ids.next(), ids.next()) {
        (Some(id), None) => usable(id),
        (None, _) => true,
        (Some(_), Some(_)) => false,
    };
    if !usable {
        request.headers_mut().remove(&REQUEST_ID);
    }
    request
}

fn usable(id: &HeaderValue) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_BYTES && id.as_bytes().iter().all(u8::is_ascii_graphic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_short_printable_id_is_kept() {
        assert!(usable(&HeaderValue::from_static("a1b2-c3d4")));
        assert!(usable(
            &HeaderValue::from_str(&"x".repeat(MAX_ID_BYTES)).unwrap()
        ));
        assert!(!usable(
            &HeaderValue::from_str(&"x".repeat(MAX_ID_BYTES + 1)).unwrap()
        ));
        assert!(!usable(&HeaderValue::from_static("two words")));
        assert!(!usable(&HeaderValue::from_static("")));
        assert!(!usable(&HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap()));
    }
}
