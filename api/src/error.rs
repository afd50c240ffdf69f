//! One error type per layer, and the one place each maps to its HTTP answer.
use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

/// Why a store operation failed. Every variant means nothing was committed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store unavailable: {0}")]
    Unavailable(#[from] sea_orm::DbErr),
    #[error("the store writer has stopped")]
    WriterStopped,
}

/// Why a delivery was not acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("no secret or token is configured for this source; deliveries are refused")]
    SourceNotConfigured,
    #[error("{0}")]
    InvalidSignature(String),
    #[error("{0}")]
    InvalidBody(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IngestError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE",
            Self::SourceNotConfigured => "SOURCE_NOT_CONFIGURED",
            Self::InvalidSignature(_) => "INVALID_SIGNATURE",
            Self::InvalidBody(_) => "INVALID_BODY",
            Self::Store(_) => "STORE_UNAVAILABLE",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::SourceNotConfigured | Self::InvalidSignature(_) => StatusCode::UNAUTHORIZED,
            Self::InvalidBody(_) => StatusCode::BAD_REQUEST,
            Self::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// Refusals of the delivery itself (not of our store) are recorded.
    pub fn is_rejection(&self) -> bool {
        !matches!(self, Self::Store(_))
    }
}

impl IntoResponse for IngestError {
    fn into_response(self) -> Response {
        let message = match &self {
            // The store's own error may name hosts; it goes to the log only.
            Self::Store(_) => "the store is unavailable; nothing was acknowledged".to_owned(),
            other => other.to_string(),
        };
        let body = json!({"error": {"code": self.code(), "message": message}});
        (self.status(), Json(body)).into_response()
    }
}
