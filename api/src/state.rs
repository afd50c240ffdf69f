//! What every request handler can reach.
use std::sync::Arc;

use ipnet::IpNet;
use sea_orm::DatabaseConnection;

use crate::{
    auth::Auth,
    graphql::GatewaySchema,
    live::{PubSub, Shutdown},
    store::writer::Writer,
};

#[derive(Clone)]
pub struct AppState {
    /// Reads (GraphQL, readiness, refusal records).
    pub db: DatabaseConnection,
    pub writer: Writer,
    pub auth: Arc<Auth>,
    pub schema: GatewaySchema,
    pub pubsub: PubSub,
    /// Ends live subscriptions and closes their sockets.
    pub shutdown: Shutdown,
    /// Larger webhook bodies get 413.
    pub max_body_bytes: usize,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<[IpNet]>,
}
