//! HTTP surface (the door): one `router()` per area, merged here. What each
//! layer's errors mean in HTTP is decided in this folder only.
mod body;
mod client_addr;
mod console;
mod error;
mod graphql;
mod graphql_ws;
mod health;
mod ingest_metrics;
mod origin;
mod request_id;
mod webhooks;

use std::sync::Arc;

use axum::{BoxError, Router, error_handling::HandleErrorLayer, middleware};
use tower::ServiceBuilder;

pub use body::BodyBudget;
pub use graphql::MAX_CONCURRENT_REQUESTS as MAX_GRAPHQL_REQUESTS;

use crate::{ingest::Source, state::AppState};

/// Every request gets a request id and a tracing span ([`request_id`]);
/// every ingest answer is counted ([`ingest_metrics`]). `max_in_flight`
/// bounds the requests (webhooks, GraphQL, WebSocket upgrades) served at
/// once; beyond it a request is answered 503 with `Retry-After` at once,
/// before any of its work is done. Health checks and `/metrics` are not
/// counted.
pub fn router(state: AppState, sources: Vec<Arc<dyn Source>>, max_in_flight: usize) -> Router {
    let shed = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(|_: BoxError| async {
            error::overloaded()
        }))
        .load_shed()
        .concurrency_limit(max_in_flight);
    let other_sites = middleware::from_fn_with_state(state.clone(), origin::refuse_other_sites);
    let ingest_paths = ingest_metrics::IngestPaths::of(&sources);
    let work = Router::new()
        .merge(console::router())
        .merge(
            graphql::router()
                .layer(origin::cors(&state))
                .layer(other_sites.clone()),
        )
        .merge(graphql_ws::router().layer(other_sites))
        .merge(webhooks::router(sources))
        .layer(shed);
    let router = Router::new()
        .merge(health::router())
        .merge(work)
        .with_state(state)
        .layer(middleware::from_fn_with_state(
            ingest_paths,
            ingest_metrics::measure,
        ));
    request_id::traced(router)
}
