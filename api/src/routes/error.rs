//! What refusals and store failures mean in HTTP, in this one place.
use axum::{
    Json,
    http::{HeaderValue, StatusCode, header::RETRY_AFTER},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::ingest::IngestError;

/// Why a delivery was not acknowledged.
#[derive(Debug)]
pub enum DeliveryError {
    /// The delivery itself was refused (recorded as a rejection).
    Refused(IngestError),
    /// Our store failed (logged where it happened): nothing was
    /// acknowledged, so the provider retries.
    StoreUnavailable,
    /// The node is at capacity: nothing was read or stored; retry soon.
    Overloaded,
}

/// How long an overloaded node asks callers to wait (`Retry-After`).
const RETRY_AFTER_SECS: &str = "1";

/// The status a refusal is answered (and recorded) with.
pub fn refusal_status(error: &IngestError) -> StatusCode {
    match error {
        IngestError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        IngestError::SourceNotConfigured
        | IngestError::InvalidSignature(_)
        | IngestError::InvalidToken(_)
        | IngestError::IpNotAllowed(_) => StatusCode::UNAUTHORIZED,
        IngestError::InvalidBody(_) => StatusCode::BAD_REQUEST,
        IngestError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
    }
}

/// The contract's error body: `{"error": {"code", "message"}}`.
pub fn error_body(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"error": {"code": code, "message": message}});
    (status, Json(body)).into_response()
}

impl IntoResponse for DeliveryError {
    fn into_response(self) -> Response {
        match self {
            Self::Refused(error) => {
                error_body(refusal_status(&error), error.code(), &error.to_string())
            }
            // The store's own error may name hosts; it goes to the log only.
            Self::StoreUnavailable => error_body(
                StatusCode::SERVICE_UNAVAILABLE,
                "STORE_UNAVAILABLE",
                "the store is unavailable; nothing was acknowledged",
            ),
            Self::Overloaded => overloaded(),
        }
    }
}

/// 503 with `Retry-After`: shed load before doing any work for it.
pub fn overloaded() -> Response {
    let mut response = error_body(
        StatusCode::SERVICE_UNAVAILABLE,
        "OVERLOADED",
        "the gateway is at capacity; nothing was read or stored, retry shortly",
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
    response
}
