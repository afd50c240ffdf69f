//! The integration gateway for lending platforms, as a library: the binary
//! `gateway` and the black-box tests both build on [`app::App`].
pub mod app;
pub mod auth;
pub mod clients;
pub mod clock;
pub mod config;
pub mod ecmascript;
pub mod env;
pub mod event;
pub mod faults;
#[doc(hidden)]
pub mod fuzzing;
pub mod graphql;
pub mod ids;
pub mod ingest;
pub mod jobs;
pub mod live;
pub mod retention;
pub mod routes;
pub mod secret;
pub mod series;
pub mod state;
pub mod store;
pub mod supervise;
pub mod telemetry;
#[cfg(test)]
mod test_metrics;
