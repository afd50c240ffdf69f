//! LoanPro Advanced Connections: a shared token in a header, and a body of
//! any kind: the variables payload `{eventName, context, trace, auth,
//! attemptNumber}`, or a custom body (JSON of any shape, text, XML, forms).
mod normalize;
mod payload;

use http::HeaderMap;

use crate::{
    env::Env,
    event::{NewEvent, SourceKind},
    ingest::{Delivery, Head, IngestError, Source, token},
    secret::Secret,
};

/// `LOANPRO_WEBHOOK_TOKENS`.
#[derive(Clone, Debug, Default)]
pub struct LoanproConfig {
    /// Any one is accepted (rotation); none configured refuses every delivery.
    pub webhook_tokens: Vec<Secret>,
}

impl LoanproConfig {
    pub fn from_env(env: &Env<'_>) -> Self {
        Self {
            webhook_tokens: env
                .list("LOANPRO_WEBHOOK_TOKENS")
                .into_iter()
                .map(Secret::new)
                .collect(),
        }
    }
}

pub struct Loanpro {
    tokens: Vec<Secret>,
}

impl Loanpro {
    pub fn new(config: LoanproConfig) -> Self {
        Self {
            tokens: config.webhook_tokens,
        }
    }
}

/// The tokens a delivery presents: `Authorization: Bearer <token>` and
/// `X-Webhook-Token: <token>` (LoanPro sends whichever its connection's
/// headers say).
fn presented(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    let custom = headers
        .get_all("x-webhook-token")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|token| !token.is_empty());
    token::bearer_tokens(headers).chain(custom)
}

impl Source for Loanpro {
    fn kind(&self) -> SourceKind {
        SourceKind::Loanpro
    }

    fn path(&self) -> &'static str {
        "/webhooks/loanpro"
    }

    fn admit(&self, head: &Head<'_>) -> Result<(), IngestError> {
        if self.tokens.is_empty() {
            return Err(IngestError::SourceNotConfigured);
        }
        let mut tokens = presented(head.headers).peekable();
        if tokens.peek().is_none() {
            return Err(IngestError::InvalidToken(
                "no token: send Authorization: Bearer <token> or X-Webhook-Token".into(),
            ));
        }
        if !token::matches_any(tokens, &self.tokens) {
            return Err(IngestError::InvalidToken(
                "the token matches none of LOANPRO_WEBHOOK_TOKENS".into(),
            ));
        }
        Ok(())
    }

    fn receive(&self, delivery: &Delivery<'_>) -> Result<NewEvent, IngestError> {
        let body = payload::Body::read(delivery)?;
        normalize::normalize(body, delivery.head.headers)
    }
}
