use async_graphql::{Enum, ID, SimpleObject};
use chrono::{DateTime, Utc};
use entity::notification_configs;

use crate::graphql::error::{GqlError, GqlResult};

/// Canopy's notification types (`payment_due_date` and so on).
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotificationType {
    PaymentDueDate,
    MinimumPaymentDue,
    MinimumPaymentMissed,
    AccountDelinquency,
}

impl NotificationType {
    const ALL: [Self; 4] = [
        Self::PaymentDueDate,
        Self::MinimumPaymentDue,
        Self::MinimumPaymentMissed,
        Self::AccountDelinquency,
    ];

    /// Canopy's name, as sent in `notification_type` and stored.
    pub const fn canopy_name(self) -> &'static str {
        match self {
            Self::PaymentDueDate => "payment_due_date",
            Self::MinimumPaymentDue => "minimum_payment_due",
            Self::MinimumPaymentMissed => "minimum_payment_missed",
            Self::AccountDelinquency => "account_delinquency",
        }
    }

    fn from_stored(name: &str) -> GqlResult<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.canopy_name() == name)
            .ok_or_else(|| GqlError::Internal(format!("unknown stored notification type {name:?}")))
    }
}

/// How often a periodic notification repeats.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodicInterval {
    Daily,
    Weekly,
}

impl PeriodicInterval {
    const ALL: [Self; 2] = [Self::Daily, Self::Weekly];

    pub const fn canopy_name(self) -> &'static str {
        match self {
            Self::Daily => "DAILY",
            Self::Weekly => "WEEKLY",
        }
    }

    fn from_stored(name: &str) -> GqlResult<Self> {
        Self::ALL
            .into_iter()
            .find(|i| i.canopy_name() == name)
            .ok_or_else(|| GqlError::Internal(format!("unknown stored periodic interval {name:?}")))
    }
}

/// When Canopy sends an account's notification of one type, as Canopy
/// accepted it. An account has one per type and time offset, and at most
/// one periodic `ACCOUNT_DELINQUENCY` config.
#[derive(SimpleObject)]
pub struct NotificationConfig {
    pub id: ID,
    pub account_id: ID,
    pub notification_type: NotificationType,
    pub time_offset: Option<String>,
    pub time: Option<String>,
    pub periodic_interval: Option<PeriodicInterval>,
    /// False for a time-offset `ACCOUNT_DELINQUENCY` config while the
    /// account has a periodic one: Canopy then uses only the periodic one.
    pub in_force: bool,
    pub updated_at: DateTime<Utc>,
}

impl NotificationConfig {
    /// All of one account's configs, in the order given.
    pub fn for_account(rows: Vec<notification_configs::Model>) -> GqlResult<Vec<Self>> {
        let periodic = |row: &notification_configs::Model| row.periodic_interval.is_some();
        let has_periodic = rows.iter().any(periodic);
        rows.into_iter()
            .map(|row| {
                let overridden = has_periodic
                    && !periodic(&row)
                    && row.notification_type == NotificationType::AccountDelinquency.canopy_name();
                Ok(Self {
                    id: row.id.to_string().into(),
                    notification_type: NotificationType::from_stored(&row.notification_type)?,
                    periodic_interval: row
                        .periodic_interval
                        .as_deref()
                        .map(PeriodicInterval::from_stored)
                        .transpose()?,
                    in_force: !overridden,
                    account_id: row.account_id.into(),
                    time_offset: row.time_offset,
                    time: row.time,
                    updated_at: row.updated_at,
                })
            })
            .collect()
    }
}
