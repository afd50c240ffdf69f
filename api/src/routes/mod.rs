//! HTTP surface (the door): one `router()` per area, merged here. What each
//! layer's errors mean in HTTP is decided in this folder only.
mod client_addr;
mod error;
mod graphql;
mod graphql_ws;
mod health;
mod webhooks;

use std::sync::Arc;

use axum::Router;

use crate::{ingest::Source, state::AppState};

pub fn router(state: AppState, sources: Vec<Arc<dyn Source>>) -> Router {
    Router::new()
        .merge(health::router())
        .merge(graphql::router())
        .merge(graphql_ws::router())
        .merge(webhooks::router(sources, state.max_body_bytes))
        .with_state(state)
}
