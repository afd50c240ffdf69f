//! Why a delivery was refused. The codes are the contract's; what they mean
//! in HTTP is decided at the door (`routes/`).

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("no secret or token is configured for this source; deliveries are refused")]
    SourceNotConfigured,
    #[error("{0}")]
    InvalidSignature(String),
    #[error("{0}")]
    InvalidToken(String),
    #[error("{0} is not an allowed caller address")]
    IpNotAllowed(std::net::IpAddr),
    #[error("{0}")]
    InvalidBody(String),
    #[error("the body was not fully received within {} s", .0.as_secs())]
    RequestTimeout(std::time::Duration),
}

impl IngestError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE",
            Self::SourceNotConfigured => "SOURCE_NOT_CONFIGURED",
            Self::InvalidSignature(_) => "INVALID_SIGNATURE",
            Self::InvalidToken(_) => "INVALID_TOKEN",
            Self::IpNotAllowed(_) => "IP_NOT_ALLOWED",
            Self::InvalidBody(_) => "INVALID_BODY",
            Self::RequestTimeout(_) => "REQUEST_TIMEOUT",
        }
    }
}
