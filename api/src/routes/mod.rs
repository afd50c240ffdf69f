//! HTTP surface (the door): one `router()` per area, merged here. What each
//! layer's errors mean in HTTP is decided in this folder only.
mod client_addr;
mod error;
mod graphql;
mod graphql_ws;
mod health;
mod origin;
mod webhooks;

use std::sync::Arc;

use axum::{Router, middleware};

use crate::{ingest::Source, state::AppState};

pub fn router(state: AppState, sources: Vec<Arc<dyn Source>>) -> Router {
    let other_sites = middleware::from_fn_with_state(state.clone(), origin::refuse_other_sites);
    Router::new()
        .merge(health::router())
        .merge(
            graphql::router()
                .layer(origin::cors(&state))
                .layer(other_sites.clone()),
        )
        .merge(graphql_ws::router().layer(other_sites))
        .merge(webhooks::router(sources, state.max_body_bytes))
        .with_state(state)
}
