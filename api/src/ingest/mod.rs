//! Everything a delivery goes through before the store: each source verifies
//! its own deliveries and normalizes them into one [`NewEvent`] shape.
pub mod canopy;
pub mod ecmascript;
pub mod timestamp;

use std::{fmt, net::IpAddr};

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};

use crate::{error::IngestError, projection::AccountChange};

/// Where an event came from; stored as its lowercase name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceKind {
    Canopy,
    Loanpro,
    EmbeddedFunding,
}

impl SourceKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Canopy => "canopy",
            Self::Loanpro => "loanpro",
            Self::EmbeddedFunding => "embedded_funding",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One received delivery, as the route saw it.
pub struct Delivery<'a> {
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub remote: IpAddr,
}

/// A verified delivery in the one shape every source normalizes into.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub source: SourceKind,
    pub event_type: String,
    pub account_id: Option<String>,
    /// Unique per source; `None` means the delivery can't be recognized again.
    pub dedup_key: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    /// JSON text, kept byte for byte as received where the source sends JSON.
    pub payload: String,
    pub content_type: Option<String>,
    pub account_change: Option<AccountChange>,
}

/// A provider whose deliveries the gateway takes. Checks run in the
/// contract's order: the sender first (configured, allowed, token), then the
/// body's shape, then its signature.
pub trait Source: Send + Sync + 'static {
    const KIND: SourceKind;

    fn receive(&self, delivery: &Delivery<'_>) -> Result<NewEvent, IngestError>;
}
