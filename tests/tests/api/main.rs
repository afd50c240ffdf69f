//! Black-box tests: the real router on a real port, against real SQLite
//! files and real PostgreSQL databases (one per test).
mod helpers;

mod canopy_ingest;
mod graphql_auth;
mod graphql_limits;
mod graphql_queries;
mod graphql_support;
mod process;
mod projection;
mod stalled_subscribers;
mod store_outage;
mod subscription_ends;
mod subscriptions;
mod ws;
mod ws_rules;
