//! Canopy Servicing webhooks: `{event, data, hmac_signature}`, signed with
//! HMAC-SHA256 over `data`.
mod normalize;
pub(crate) mod payload;
pub mod verify;

use serde_json::{Value, json};

use crate::{
    env::Env,
    event::{FollowUp, NewEvent, SourceKind},
    ingest::{Delivery, Head, IngestError, Source},
    secret::Secret,
};

pub use normalize::account_state;
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

/// `CANOPY_WEBHOOK_SECRETS`, `CANOPY_DOUBLE_CHECK`.
#[derive(Clone, Debug, Default)]
pub struct CanopyConfig {
    /// Any one verifies (rotation); none configured refuses every delivery.
    pub webhook_secrets: Vec<Secret>,
    /// Event names confirmed with `GET /accounts/{id}` after they are
    /// stored (seed 000's advice); needs Canopy's API configured.
    pub double_check: Vec<String>,
}

impl CanopyConfig {
    pub fn from_env(env: &Env<'_>) -> Self {
        Self {
            webhook_secrets: env
                .list("CANOPY_WEBHOOK_SECRETS")
                .into_iter()
                .map(Secret::new)
                .collect(),
            double_check: env.list("CANOPY_DOUBLE_CHECK"),
        }
    }
}

pub struct Canopy {
    secrets: Vec<Secret>,
    double_check: Vec<String>,
}

impl Canopy {
    pub fn new(config: CanopyConfig) -> Self {
        Self {
            secrets: config.webhook_secrets,
            double_check: config.double_check,
        }
    }
}

impl Source for Canopy {
    fn kind(&self) -> SourceKind {
        SourceKind::Canopy
    }

    fn path(&self) -> &'static str {
        "/webhooks/canopy"
    }

    fn admit(&self, _head: &Head<'_>) -> Result<(), IngestError> {
        // The signature is in the body; all the head can tell is whether
        // there is a secret to check it with.
        if self.secrets.is_empty() {
            return Err(IngestError::SourceNotConfigured);
        }
        Ok(())
    }

    fn receive(&self, delivery: &Delivery<'_>) -> Result<NewEvent, IngestError> {
        let envelope = payload::Envelope::parse(delivery.body)?;
        let data = envelope.data_value()?;
        let signature = verify::verify(&self.secrets, &envelope, &data)?;
        let mut event = normalize::normalize(&envelope, data, signature);
        if self.double_check.contains(&event.event_type) {
            event.follow_up = event
                .account_id
                .clone()
                .map(|account_id| FollowUp::CanopyAccount { account_id });
        }
        Ok(event)
    }
}
