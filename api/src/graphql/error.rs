//! GraphQL errors and their `extensions.code`, mapped in this one place.
use async_graphql::ServerError;

use crate::{
    auth::{AuthError, Role},
    clients::ClientError,
    store::StoreError,
};

pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
pub const FORBIDDEN: &str = "FORBIDDEN";
pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
pub const NOT_FOUND: &str = "NOT_FOUND";
pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
pub const OVERLOADED: &str = "OVERLOADED";
pub const UPSTREAM_REJECTED: &str = "UPSTREAM_REJECTED";
pub const UPSTREAM_UNAVAILABLE: &str = "UPSTREAM_UNAVAILABLE";
pub const STORE_UNAVAILABLE: &str = "STORE_UNAVAILABLE";
pub const INTERNAL: &str = "INTERNAL_SERVER_ERROR";
/// Subscriptions: a `subscribe` past the per-socket limit.
pub const TOO_MANY_SUBSCRIPTIONS: &str = "TOO_MANY_SUBSCRIPTIONS";
/// Subscriptions ended by the gateway, with `extensions.resumeAfter`.
pub const FEED_UNAVAILABLE: &str = "FEED_UNAVAILABLE";
pub const SHUTTING_DOWN: &str = "SHUTTING_DOWN";

#[derive(Clone, Debug, thiserror::Error)]
pub enum GqlError {
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    #[error("this needs an API key with the {0} role")]
    Forbidden(Role),
    #[error("without API keys the gateway answers pages on loopback origins only, not {0}")]
    ForeignOrigin(String),
    #[error("{0}")]
    BadUserInput(String),
    /// Bad input in one named field (`extensions.field`).
    #[error("{field}: {message}")]
    InvalidField {
        field: &'static str,
        message: String,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    QueryTooComplex(String),
    /// The node runs as many GraphQL requests as it allows.
    #[error("{0}")]
    Overloaded(String),
    /// An outside API answered 4xx; its message is included.
    #[error("{0}")]
    UpstreamRejected(String),
    /// An outside API is not configured, or did not answer usably after
    /// its retries.
    #[error("{0}")]
    UpstreamUnavailable(String),
    #[error("the store is unavailable")]
    Store(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Internal(String),
    #[error("one WebSocket holds at most {0} subscriptions at once")]
    TooManySubscriptions(usize),
}

impl GqlError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => UNAUTHENTICATED,
            Self::Forbidden(_) | Self::ForeignOrigin(_) => FORBIDDEN,
            Self::BadUserInput(_) | Self::InvalidField { .. } => BAD_USER_INPUT,
            Self::NotFound(_) => NOT_FOUND,
            Self::QueryTooComplex(_) => QUERY_TOO_COMPLEX,
            Self::Overloaded(_) => OVERLOADED,
            Self::UpstreamRejected(_) => UPSTREAM_REJECTED,
            Self::UpstreamUnavailable(_) => UPSTREAM_UNAVAILABLE,
            Self::Store(_) => STORE_UNAVAILABLE,
            Self::Internal(_) => INTERNAL,
            Self::TooManySubscriptions(_) => TOO_MANY_SUBSCRIPTIONS,
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::BadUserInput(message.into())
    }

    /// The input field at fault, when there is one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::InvalidField { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The error as a response error that no resolver produced (refused
    /// before or instead of execution).
    pub fn into_server_error(self) -> ServerError {
        let mut error = ServerError::new(self.to_string(), None);
        let extensions = error.extensions.get_or_insert_with(Default::default);
        extensions.set("code", self.code());
        if let Some(field) = self.field() {
            extensions.set("field", field);
        }
        error
    }
}

impl From<ClientError> for GqlError {
    fn from(error: ClientError) -> Self {
        match error {
            ClientError::Rejected { .. } => Self::UpstreamRejected(error.to_string()),
            ClientError::Unavailable { .. } | ClientError::BadResponse { .. } => {
                Self::UpstreamUnavailable(error.to_string())
            }
        }
    }
}

impl From<StoreError> for GqlError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(error) => Self::Store(error),
            // Nothing was committed either way: the store is unavailable to us.
            StoreError::WriterStopped | StoreError::TimedOut(_) => {
                Self::Store(sea_orm::DbErr::Custom(error.to_string()))
            }
        }
    }
}

/// Gives every error its `extensions.code`. Resolvers return [`GqlError`],
/// which async-graphql keeps as the error's source; errors without one come
/// from async-graphql itself (a query that does not parse or validate, an
/// argument of the wrong type), all of them the caller's input.
pub fn assign_codes(errors: &mut [ServerError]) {
    for error in errors {
        let (code, field) = match error.source::<GqlError>() {
            Some(gql) => {
                if let GqlError::Store(source) = gql {
                    // The driver's message may name hosts or tables; the log only.
                    tracing::error!(error = %source, "store query failed");
                }
                (gql.code(), gql.field())
            }
            None => (BAD_USER_INPUT, None),
        };
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", code);
        }
        if let Some(field) = field {
            extensions.set("field", field);
        }
    }
}

pub type GqlResult<T> = Result<T, GqlError>;
