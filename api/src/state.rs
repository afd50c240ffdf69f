//! What every request handler can reach.
use std::sync::Arc;

use ipnet::IpNet;
use tokio::sync::Semaphore;

use crate::{
    auth::Auth,
    graphql::GatewaySchema,
    jobs::Jobs,
    live::{Feed, PubSub, Shutdown},
    routes::BodyBudget,
    series::Exporter,
    store::{Pools, rejections::Recorder, writer::Writer},
};

/// Cheap to clone: axum clones the state for each extractor of each
/// request, and cloning each of its parts was 2.5 % of ingest's CPU
/// (`bench/RESULTS.md`, third session).
#[derive(Clone)]
pub struct AppState(Arc<Parts>);

impl AppState {
    pub fn new(parts: Parts) -> Self {
        Self(Arc::new(parts))
    }
}

impl std::ops::Deref for AppState {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

pub struct Parts {
    pub pools: Pools,
    pub writer: Writer,
    /// Refusal records, written off the delivery path.
    pub recorder: Recorder,
    /// The node's follow-up worker (for readiness).
    pub jobs: Jobs,
    pub feed: Feed,
    pub auth: Arc<Auth>,
    pub schema: GatewaySchema,
    /// GraphQL requests executing at once, at most.
    pub graphql_slots: Arc<Semaphore>,
    pub pubsub: PubSub,
    /// Browser origins CORS lets call `/graphql` (`GATEWAY_CORS_ORIGINS`).
    pub cors_origins: Arc<[String]>,
    /// Ends live subscriptions and closes their sockets.
    pub shutdown: Shutdown,
    /// Larger webhook bodies get 413.
    pub max_body_bytes: usize,
    /// Webhook body bytes the node buffers at most, all requests together.
    pub body_budget: BodyBudget,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<[IpNet]>,
    /// The process's metrics, for `GET /metrics`.
    pub metrics: Exporter,
}
