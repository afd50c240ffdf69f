//! The one shape every layer shares: ingest produces a [`NewEvent`], the
//! store consumes it, and neither knows the other.
use std::fmt;

use chrono::{DateTime, Utc};

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

/// The account fields one event carries (contract section 4); `None` means
/// "not carried", so the stored value is kept.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AccountChange {
    pub account_id: String,
    pub customer_id: Option<String>,
    pub status: Option<String>,
    pub status_subtype: Option<String>,
    pub credit_limit_cents: Option<i64>,
    pub available_credit_cents: Option<i64>,
    pub total_balance_cents: Option<i64>,
    pub min_pay_due_cents: Option<i64>,
    pub min_pay_due_at: Option<DateTime<Utc>>,
    pub days_past_due: Option<i32>,
    pub delinquent_as_of: Option<DateTime<Utc>>,
    /// The full account object (JSON text), when the event carries one.
    pub snapshot: Option<String>,
    /// When the provider says the change happened; orders changes that carry it.
    pub changed_at: Option<DateTime<Utc>>,
}
