//! Outside HTTP APIs the gateway calls, one module each (reqwest with
//! rustls). They know nothing of GraphQL or HTTP answers: what their errors
//! mean to a caller is decided in `graphql/error.rs`.
pub mod canopy;
pub mod embedded_funding;
pub mod error;
pub mod retry;
mod upstream;

pub use error::ClientError;
