//! HTTP surface: one `router()` per area, merged here.
mod graphql;
mod health;
mod subscriptions;
mod webhooks;

use axum::Router;

use crate::app::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(graphql::router())
        .merge(subscriptions::router())
        .merge(webhooks::router(state.config.max_body_bytes))
        .with_state(state)
}
