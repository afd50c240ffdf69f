//! Canopy Servicing webhooks: `{event, data, hmac_signature}`, signed with
//! HMAC-SHA256 over `data`.
mod normalize;
mod payload;
pub mod verify;

use crate::{
    config::Secret,
    error::IngestError,
    ingest::{Delivery, NewEvent, Source, SourceKind},
};

use serde_json::{Value, json};

pub use verify::sign;

/// A complete webhook body for `input`: either a body `{event, data, …}`
/// (re-signed) or a bare `data` object (wrapped as `default_event`).
pub fn signed_body(secret: &str, input: Value, default_event: &str) -> anyhow::Result<String> {
    let (event, data) = match input {
        Value::Object(mut body) if body.get("data").is_some_and(Value::is_object) => {
            let event = match body.remove("event") {
                Some(Value::String(event)) => event,
                _ => default_event.to_owned(),
            };
            (event, body.remove("data").unwrap_or_default())
        }
        data @ Value::Object(_) => (default_event.to_owned(), data),
        _ => anyhow::bail!("expected a JSON object: a webhook body or its `data`"),
    };
    let signature = sign(secret, &data);
    Ok(json!({"event": event, "data": data, "hmac_signature": signature}).to_string())
}

pub struct Canopy {
    secrets: Vec<Secret>,
}

impl Canopy {
    pub fn new(secrets: Vec<Secret>) -> Self {
        Self { secrets }
    }
}

impl Source for Canopy {
    const KIND: SourceKind = SourceKind::Canopy;

    fn receive(&self, delivery: &Delivery<'_>) -> Result<NewEvent, IngestError> {
        if self.secrets.is_empty() {
            return Err(IngestError::SourceNotConfigured);
        }
        let envelope = payload::Envelope::parse(delivery.body)?;
        let data = envelope.data_value()?;
        let signature = verify::verify(&self.secrets, &envelope, &data)?;
        Ok(normalize::normalize(&envelope, data, signature))
    }
}
