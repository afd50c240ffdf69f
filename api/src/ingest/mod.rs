//! Everything a delivery goes through before the store: each source (one
//! folder here, with its own configuration section) verifies its own
//! deliveries and normalizes them into one [`NewEvent`]. The router mounts
//! whatever [`registry`] holds.
pub mod canopy;
pub mod embedded_funding;
pub mod error;
pub mod loanpro;
pub mod timestamp;
mod token;

use std::{net::IpAddr, sync::Arc};

use http::HeaderMap;
use serde_json::Value;

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

#[cfg(test)]
impl<'a> Delivery<'a> {
    /// `body` with `headers`, from a loopback caller.
    pub fn local(headers: &'a HeaderMap, body: &'a [u8]) -> Self {
        Self {
            head: Head {
                headers,
                query: None,
                remote: IpAddr::from([127, 0, 0, 1]),
            },
            body,
        }
    }
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

/// Longest event name (and account id) kept: store indexes hold it well.
const MAX_NAME_BYTES: usize = 256;

/// `source`'s event for an admitted delivery, refused when the store could
/// never hold its name: what PostgreSQL would refuse on every retry is a 400
/// the provider does not retry, not a 503 forever. An account id the store
/// cannot hold (a NUL, or past [`MAX_NAME_BYTES`]) names no account: the
/// event is kept, without one, rather than refusing what the provider signed.
pub fn receive(source: &dyn Source, delivery: &Delivery<'_>) -> Result<NewEvent, IngestError> {
    let mut event = source.receive(delivery)?;
    if let Some(problem) = unstorable(&event.event_type) {
        return Err(IngestError::InvalidBody(format!(
            "the event name {problem}"
        )));
    }
    if let Some(problem) = event.account_id.as_deref().and_then(unstorable) {
        tracing::warn!(source = %event.source, problem, "account id not kept");
        event.account_id = None;
        event.account_change = None;
        event.follow_up = None;
    }
    Ok(event)
}

/// Why the store could not hold `text` as a name, if it could not.
fn unstorable(text: &str) -> Option<&'static str> {
    if text.is_empty() {
        Some("is empty")
    } else if text.contains('\0') {
        Some("contains a NUL character")
    } else if text.len() > MAX_NAME_BYTES {
        Some("is longer than 256 bytes")
    } else {
        None
    }
}

/// A dedup key part the provider chose (LoanPro's `trace`, an
/// `Idempotency-Key`), refused when the store could never hold it.
fn key_part(what: &str, key: String) -> Result<String, IngestError> {
    match unstorable(&key) {
        Some(problem) => Err(IngestError::InvalidBody(format!("{what} {problem}"))),
        None => Ok(key),
    }
}

/// The optional `Idempotency-Key` header: a sender's own name for a
/// delivery, the same on each of its retries.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, IngestError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .map_err(|_| IngestError::InvalidBody("Idempotency-Key is not visible ASCII".into()))?
        .trim();
    if key.is_empty() {
        return Ok(None);
    }
    key_part("Idempotency-Key", key.to_owned()).map(Some)
}

/// An identifier as text: providers send them as strings or numbers.
fn identifier(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Every source's configuration section.
#[derive(Clone, Debug, Default)]
pub struct SourcesConfig {
    pub canopy: canopy::CanopyConfig,
    pub loanpro: loanpro::LoanproConfig,
    pub embedded_funding: embedded_funding::EmbeddedFundingConfig,
}

impl SourcesConfig {
    pub fn from_env(env: &Env<'_>) -> anyhow::Result<Self> {
        Ok(Self {
            canopy: canopy::CanopyConfig::from_env(env),
            loanpro: loanpro::LoanproConfig::from_env(env),
            embedded_funding: embedded_funding::EmbeddedFundingConfig::from_env(env)?,
        })
    }
}

/// The sources the gateway serves, each mounted at its own path.
pub fn registry(config: &SourcesConfig) -> Vec<Arc<dyn Source>> {
    vec![
        Arc::new(canopy::Canopy::new(config.canopy.clone())),
        Arc::new(loanpro::Loanpro::new(config.loanpro.clone())),
        Arc::new(embedded_funding::EmbeddedFunding::new(
            config.embedded_funding.clone(),
        )),
    ]
}
