/// Why a call to an outside API failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The provider answered 4xx: the request itself is wrong, so it was
    /// not retried.
    #[error("{upstream} refused {call} (HTTP {status}): {message}")]
    Rejected {
        upstream: &'static str,
        /// `METHOD /path`.
        call: String,
        status: u16,
        message: String,
    },
    /// No usable answer within the retries and the deadline (timeouts,
    /// 429, 5xx, connection failures).
    #[error("{upstream} is unavailable: {reason}")]
    Unavailable {
        upstream: &'static str,
        reason: String,
    },
    /// A 2xx answer the gateway cannot read.
    #[error("{upstream} answered something unreadable: {reason}")]
    BadResponse {
        upstream: &'static str,
        reason: String,
    },
}
