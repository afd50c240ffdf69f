//! The one shape every layer shares: ingest produces a [`NewEvent`], the
//! store consumes it, and neither knows the other.
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
    /// Work owed once the event is stored: a durable job, inserted in the
    /// event's own transaction, so no acknowledged event lacks it.
    pub follow_up: Option<FollowUp>,
}

/// A read of provider state the gateway owes an event after storing it,
/// done later by the follow-up queue (`jobs/`), never before the answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUp {
    /// Embedded Funding's documented GETs for one callback, all under
    /// `/v1/companies/{company_id}`.
    EmbeddedFunding {
        company_id: String,
        reads: Vec<CompanyRead>,
    },
    /// Canopy's `GET /accounts/{id}`: the double-check of seed 000.
    CanopyAccount { account_id: String },
}

impl FollowUp {
    /// Its kind as stored; a node claims only the kinds it has a client for.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::EmbeddedFunding { .. } => Self::EMBEDDED_FUNDING,
            Self::CanopyAccount { .. } => Self::CANOPY_ACCOUNT,
        }
    }

    pub const EMBEDDED_FUNDING: &'static str = "embedded_funding";
    pub const CANOPY_ACCOUNT: &'static str = "canopy_account";
}

/// One of Embedded Funding's reads of a company's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompanyRead {
    /// `GET /status`: the credit status.
    CreditStatus,
    /// `GET /terms`.
    Terms,
    /// `GET /withdrawal/{id}`.
    Withdrawal(String),
    /// `GET /limit-requests/{id}/status`.
    LimitRequestStatus(String),
    /// `GET /loans/{id}`.
    Loan(String),
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
