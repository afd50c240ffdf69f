use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::{audit_log, rejected_deliveries};

use super::EventSource;
use crate::{
    graphql::{connection::Cursored, error::GqlResult, scalars::Json},
    ids::{self, CursorKind},
};

/// A delivery the gateway refused; never its body.
pub struct RejectedDelivery(pub rejected_deliveries::Model);

impl Cursored for RejectedDelivery {
    fn cursor(&self) -> String {
        ids::cursor(CursorKind::RejectedDelivery, &self.0.id.to_string())
    }
}

#[Object]
impl RejectedDelivery {
    async fn id(&self) -> ID {
        self.0.id.to_string().into()
    }

    async fn source(&self) -> GqlResult<EventSource> {
        EventSource::from_stored(&self.0.source)
    }

    /// The error code answered, e.g. `INVALID_SIGNATURE`.
    async fn reason(&self) -> &str {
        &self.0.reason
    }

    /// The HTTP status answered.
    async fn status(&self) -> i32 {
        self.0.status
    }

    async fn remote_addr(&self) -> Option<&str> {
        self.0.remote_addr.as_deref()
    }

    async fn body_bytes(&self) -> i64 {
        self.0.body_bytes
    }

    /// Lowercase hex; empty when the body was too large to read.
    async fn body_sha256(&self) -> &str {
        &self.0.body_sha256
    }

    async fn received_at(&self) -> DateTime<Utc> {
        self.0.received_at
    }
}

/// One mutation, as the audit log keeps it.
pub struct AuditEntry(pub audit_log::Model);

impl Cursored for AuditEntry {
    fn cursor(&self) -> String {
        ids::cursor(CursorKind::AuditEntry, &self.0.id.to_string())
    }
}

#[Object]
impl AuditEntry {
    async fn id(&self) -> ID {
        self.0.id.to_string().into()
    }

    /// Which API key (not the key itself).
    async fn key_id(&self) -> &str {
        &self.0.key_id
    }

    /// The mutation's name.
    async fn action(&self) -> &str {
        &self.0.action
    }

    async fn input(&self, ctx: &Context<'_>) -> GqlResult<Json> {
        Json::for_caller(ctx, &self.0.input)
    }

    /// `OK` or the error code.
    async fn outcome(&self) -> &str {
        &self.0.outcome
    }

    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
}
