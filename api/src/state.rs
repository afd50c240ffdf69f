//! What every request handler can reach.
use std::sync::Arc;

use ipnet::IpNet;
use sea_orm::DatabaseConnection;

use crate::{auth::Auth, graphql::GatewaySchema, live::PubSub, store::writer::Writer};

#[derive(Clone)]
pub struct AppState {
    /// Reads (GraphQL, readiness, refusal records).
    pub db: DatabaseConnection,
    pub writer: Writer,
    pub auth: Arc<Auth>,
    pub schema: GatewaySchema,
    pub pubsub: PubSub,
    /// Browser origins CORS lets call `/graphql` (`GATEWAY_CORS_ORIGINS`).
    pub cors_origins: Arc<[String]>,
    /// Larger webhook bodies get 413.
    pub max_body_bytes: usize,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<[IpNet]>,
}
