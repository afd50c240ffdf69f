//! Everything a delivery goes through before the store: each source (one
//! folder here, with its own configuration section) verifies its own
//! deliveries and normalizes them into one [`NewEvent`]. The router mounts
//! whatever [`registry`] holds.
pub mod canopy;
pub mod error;
pub mod timestamp;

use std::{net::IpAddr, sync::Arc};

use http::HeaderMap;

pub use self::error::IngestError;
use crate::{
    env::Env,
    event::{NewEvent, SourceKind},
};

/// What the door knows of a delivery before reading its body.
pub struct Head<'a> {
    pub headers: &'a HeaderMap,
    /// The request's query string, without `?`.
    pub query: Option<&'a str>,
    /// The caller: the TCP peer, or the client a trusted proxy forwarded.
    pub remote: IpAddr,
}

/// One received delivery, body included.
pub struct Delivery<'a> {
    pub head: Head<'a>,
    pub body: &'a [u8],
}

/// A provider whose deliveries the gateway takes. Checks run in the
/// contract's order: the sender first ([`admit`](Self::admit), before the
/// body is read), then the body's shape, then its signature.
pub trait Source: Send + Sync + 'static {
    fn kind(&self) -> SourceKind;

    /// The path its deliveries are posted to.
    fn path(&self) -> &'static str;

    /// The sender, from what is known before the body: the source is
    /// configured, the caller allowed, its token right.
    fn admit(&self, head: &Head<'_>) -> Result<(), IngestError>;

    /// An admitted delivery's body: its shape, then its signature.
    fn receive(&self, delivery: &Delivery<'_>) -> Result<NewEvent, IngestError>;
}

/// Longest event name (and account id) a store index holds comfortably.
pub const MAX_NAME_BYTES: usize = 256;

/// `source`'s event for an admitted delivery, refused when the store could
/// never hold it: what PostgreSQL would refuse on every retry is a 400 the
/// provider does not retry, not a 503 forever.
pub fn receive(source: &dyn Source, delivery: &Delivery<'_>) -> Result<NewEvent, IngestError> {
    let event = source.receive(delivery)?;
    if event.event_type.is_empty() {
        return Err(IngestError::InvalidBody("the event name is empty".into()));
    }
    storable("event name", &event.event_type)?;
    if let Some(account_id) = &event.account_id {
        storable("account id", account_id)?;
    }
    Ok(event)
}

fn storable(what: &str, text: &str) -> Result<(), IngestError> {
    if text.contains('\0') {
        return Err(IngestError::InvalidBody(format!(
            "the {what} contains a NUL character"
        )));
    }
    if text.len() > MAX_NAME_BYTES {
        return Err(IngestError::InvalidBody(format!(
            "the {what} is longer than {MAX_NAME_BYTES} bytes"
        )));
    }
    Ok(())
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
