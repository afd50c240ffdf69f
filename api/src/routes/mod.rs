//! HTTP surface (the door): one `router()` per area, merged here. What each
//! layer's errors mean in HTTP is decided in this folder only.
mod body;
mod client_addr;
mod console;
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

/// `max_in_flight` bounds the requests (webhooks, GraphQL, WebSocket
/// upgrades) served at once; beyond it a request is answered 503 with
/// `Retry-After` at once, before any of its work is done. Health checks are
/// not counted.
pub fn router(state: AppState, sources: Vec<Arc<dyn Source>>, max_in_flight: usize) -> Router {
    let shed = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(|_: BoxError| async {
            error::overloaded()
        }))
        .load_shed()
        .concurrency_limit(max_in_flight);
    let work = Router::new()
        .merge(console::router())
        .merge(graphql::router())
        .merge(graphql_ws::router())
        .merge(webhooks::router(sources))
        .layer(shed);
    Router::new()
        .merge(health::router())
        .merge(work)
        .with_state(state)
}
