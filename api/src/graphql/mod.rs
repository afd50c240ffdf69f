//! The GraphQL API (contract section 3): one schema, split by area into
//! query objects merged in [`query`], with types built from the store's
//! entities in [`types`].
mod compact;
pub(crate) mod connection;
pub mod error;
mod guard;
pub mod limits;
mod loaders;
pub mod masking;
mod mutation;
mod query;
pub mod response;
mod scalars;
mod schema;
mod subscription;
mod types;

pub use limits::{MAX_DEPTH, MAX_FIELDS};
pub use schema::{GatewaySchema, build, sdl};
pub use subscription::ends_subscription;
pub(crate) use types::Event;
