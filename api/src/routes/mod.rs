//! HTTP surface (the door): one `router()` per area, merged here. What each
//! layer's errors mean in HTTP is decided in this folder only.
mod body;
mod client_addr;
mod error;
mod graphql;
mod graphql_ws;
mod health;
mod webhooks;

use std::sync::Arc;

use axum::{BoxError, Router, error_handling::HandleErrorLayer};
use tower::ServiceBuilder;

pub use body::BodyBudget;

use crate::{ingest::Source, state::AppState};

/// Requests (webhooks, GraphQL, WebSocket upgrades) a node works on at
/// once; beyond it a request is answered 503 with `Retry-After` at once,
/// before any of its work is done. Health checks are not counted.
pub const MAX_IN_FLIGHT: usize = 1024;

pub fn router(state: AppState, sources: Vec<Arc<dyn Source>>) -> Router {
    let shed = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(|_: BoxError| async {
            error::overloaded()
        }))
        .load_shed()
        .concurrency_limit(MAX_IN_FLIGHT);
    let work = Router::new()
        .merge(graphql::router())
        .merge(graphql_ws::router())
        .merge(webhooks::router(sources))
        .layer(shed);
    Router::new()
        .merge(health::router())
        .merge(work)
        .with_state(state)
}
