//! Everything a delivery goes through before the store: each source (one
//! folder here, with its own configuration section) verifies its own
//! deliveries and normalizes them into one [`NewEvent`]. The router mounts
//! whatever [`registry`] holds.
pub mod canopy;
pub mod ecmascript;
pub mod error;
pub mod timestamp;

use std::{net::IpAddr, sync::Arc};

use http::HeaderMap;

pub use self::error::IngestError;
use crate::{
    env::Env,
    event::{NewEvent, SourceKind},
};

/// One received delivery, as the door saw it.
pub struct Delivery<'a> {
    pub headers: &'a HeaderMap,
    /// The request's query string, without `?`.
    pub query: Option<&'a str>,
    /// The caller: the TCP peer, or the client a trusted proxy forwarded.
    pub remote: IpAddr,
    pub body: &'a [u8],
}

/// A provider whose deliveries the gateway takes. Checks run in the
/// contract's order: the sender first (configured, allowed, token), then the
/// body's shape, then its signature.
pub trait Source: Send + Sync + 'static {
    fn kind(&self) -> SourceKind;

    /// The path its deliveries are posted to.
    fn path(&self) -> &'static str;

    fn receive(&self, delivery: &Delivery<'_>) -> Result<NewEvent, IngestError>;
}

/// Every source's configuration section.
#[derive(Clone, Debug, Default)]
pub struct SourcesConfig {
    pub canopy: canopy::CanopyConfig,
}

impl SourcesConfig {
    pub fn from_env(env: &Env<'_>) -> anyhow::Result<Self> {
        Ok(Self {
            canopy: canopy::CanopyConfig::from_env(env),
        })
    }
}

/// The sources the gateway serves, each mounted at its own path.
pub fn registry(config: &SourcesConfig) -> Vec<Arc<dyn Source>> {
    vec![Arc::new(canopy::Canopy::new(config.canopy.clone()))]
}
