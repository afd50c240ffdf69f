//! GraphQL types, built from the store's entity models (the entities stay
//! free of GraphQL).
mod account;
mod admin;
mod company;
mod event;
mod event_page;
mod notification_config;

use async_graphql::Enum;

pub use account::Account;
pub use admin::{AuditEntry, RejectedDelivery};
pub use company::{Company, CompanyRecord};
pub use event::{Event, EventFilter};
pub use event_page::EventPage;
pub use notification_config::{NotificationConfig, NotificationType, PeriodicInterval};

use super::error::{GqlError, GqlResult};
use crate::event::SourceKind;

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventSource {
    Canopy,
    Loanpro,
    EmbeddedFunding,
}

impl EventSource {
    const ALL: [Self; 3] = [Self::Canopy, Self::Loanpro, Self::EmbeddedFunding];

    pub fn kind(self) -> SourceKind {
        match self {
            Self::Canopy => SourceKind::Canopy,
            Self::Loanpro => SourceKind::Loanpro,
            Self::EmbeddedFunding => SourceKind::EmbeddedFunding,
        }
    }

    /// The source of a stored row.
    pub fn from_stored(name: &str) -> GqlResult<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.kind().as_str() == name)
            .ok_or_else(|| GqlError::Internal(format!("unknown stored source {name:?}")))
    }
}
