//! The account projection (contract section 4): what an event says about an
//! account, and how that folds into the stored account.
use chrono::{DateTime, Utc};
use entity::accounts;

/// The account fields one event carries; `None` means "not carried", so the
/// stored value is kept.
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

impl AccountChange {
    /// Folds this change into `current` (or a new account). Returns `None`
    /// when the change is older than what the account already reflects.
    pub fn apply_to(
        self,
        current: Option<accounts::Model>,
        now: DateTime<Utc>,
    ) -> Option<accounts::Model> {
        let mut account = current.unwrap_or_else(|| accounts::Model {
            id: self.account_id.clone(),
            customer_id: None,
            status: None,
            status_subtype: None,
            credit_limit_cents: None,
            available_credit_cents: None,
            total_balance_cents: None,
            min_pay_due_cents: None,
            min_pay_due_at: None,
            days_past_due: None,
            delinquent_as_of: None,
            snapshot: None,
            snapshot_changed_at: None,
            updated_at: now,
        });
        if let (Some(changed_at), Some(seen)) = (self.changed_at, account.snapshot_changed_at)
            && changed_at < seen
        {
            return None;
        }
        overlay(&mut account.customer_id, self.customer_id);
        overlay(&mut account.status, self.status);
        overlay(&mut account.status_subtype, self.status_subtype);
        overlay(&mut account.credit_limit_cents, self.credit_limit_cents);
        overlay(
            &mut account.available_credit_cents,
            self.available_credit_cents,
        );
        overlay(&mut account.total_balance_cents, self.total_balance_cents);
        overlay(&mut account.min_pay_due_cents, self.min_pay_due_cents);
        overlay(&mut account.min_pay_due_at, self.min_pay_due_at);
        overlay(&mut account.days_past_due, self.days_past_due);
        overlay(&mut account.delinquent_as_of, self.delinquent_as_of);
        overlay(&mut account.snapshot, self.snapshot);
        overlay(&mut account.snapshot_changed_at, self.changed_at);
        account.updated_at = now;
        Some(account)
    }
}

/// Sets `slot` when `value` carries something; keeps it otherwise.
pub fn overlay<T>(slot: &mut Option<T>, value: Option<T>) {
    if value.is_some() {
        *slot = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn newer_changes_win_and_older_ones_are_ignored() {
        let now = at("2026-01-01T00:00:00Z");
        let first = AccountChange {
            account_id: "a".into(),
            status: Some("ACTIVE".into()),
            credit_limit_cents: Some(100),
            changed_at: Some(at("2023-01-02T00:00:00Z")),
            ..Default::default()
        }
        .apply_to(None, now)
        .unwrap();
        let stale = AccountChange {
            account_id: "a".into(),
            status: Some("CLOSED".into()),
            changed_at: Some(at("2023-01-01T00:00:00Z")),
            ..Default::default()
        };
        assert_eq!(stale.apply_to(Some(first.clone()), now), None);

        let flat = AccountChange {
            account_id: "a".into(),
            available_credit_cents: Some(7),
            ..Default::default()
        }
        .apply_to(Some(first), now)
        .unwrap();
        assert_eq!(flat.status.as_deref(), Some("ACTIVE"));
        assert_eq!(flat.credit_limit_cents, Some(100));
        assert_eq!(flat.available_credit_cents, Some(7));
        assert_eq!(flat.snapshot_changed_at, Some(at("2023-01-02T00:00:00Z")));
    }
}
