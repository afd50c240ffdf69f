//! Black-box tests: the real router on a real port, against real SQLite
//! files and real PostgreSQL databases (one per test).
mod helpers;
mod killed_gateway;

mod canopy_client;
mod canopy_ingest;
mod canopy_mock;
mod canopy_signatures;
mod console;
mod double_check;
mod embedded_funding_ingest;
mod embedded_funding_mock;
mod follow_up_restart;
mod follow_ups;
mod graceful_shutdown;
mod graphql_auth;
mod graphql_http;
mod graphql_limits;
mod graphql_queries;
mod graphql_support;
mod ledger;
mod loanpro_ingest;
mod mutations;
mod postgres_restart;
mod private_stores;
mod process;
mod projection;
mod redis_outage;
mod resilience;
mod retention;
mod source_subscriptions;
mod stalled_subscribers;
mod store_outage;
mod subscription_ends;
mod subscriptions;
mod ws;
mod ws_rules;
