//! A verified Canopy webhook as a [`NewEvent`], with what it says about the
//! account (contract section 4).
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::payload::Envelope;
use crate::{
    ecmascript::Json,
    event::{AccountChange, NewEvent, SourceKind},
    ingest::{identifier as text, timestamp},
};

/// Events whose `data` carries account state.
const ACCOUNT_EVENTS: &[&str] = &[
    "account_create",
    "account_update",
    "account_calculations_change",
    "payment_due_date",
    "minimum_payment_due",
    "minimum_payment_missed",
    "account_delinquency",
    "statement_generation",
];

pub fn normalize(envelope: &Envelope<'_>, data: Json<'_>, signature: String) -> NewEvent {
    let data = data.to_value();
    let account_id = data
        .get("account_id")
        .and_then(text)
        .or_else(|| data.pointer("/object/account_id").and_then(text));
    let occurred_at = [
        "changed_at",
        "time_stamp",
        "effective_as_of",
        "effective_at",
    ]
    .iter()
    .find_map(|key| data.get(*key).and_then(timestamp::parse));
    let account_change = account_id
        .clone()
        .filter(|_| ACCOUNT_EVENTS.contains(&projected_name(&envelope.event)))
        .map(|id| account_change(id, &data));
    NewEvent {
        source: SourceKind::Canopy,
        dedup_key: Some(format!("{}:{}", envelope.event, signature)),
        event_type: envelope.event.clone(),
        account_id,
        occurred_at,
        payload: envelope.data.get().to_owned(),
        content_type: None,
        account_change,
        follow_up: None,
    }
}

/// One of Canopy's own examples names the due-date event `due_date`.
fn projected_name(event: &str) -> &str {
    match event {
        "due_date" => "payment_due_date",
        other => other,
    }
}

/// The projection's fields.
#[derive(Clone, Copy)]
enum Field {
    CustomerId,
    Status,
    StatusSubtype,
    CreditLimit,
    AvailableCredit,
    TotalBalance,
    MinPayDue,
    MinPayDueAt,
    DaysPastDue,
    DelinquentAsOf,
}

/// Where each field is read in `data`, highest precedence first: a full
/// account object, then `statement_generation`'s sections, then flat
/// events. The first readable value of a field wins.
const PATHS: &[(Field, &str)] = {
    use Field::*;
    &[
        (CustomerId, "/object/customers/0/customer_id"),
        (Status, "/object/account_overview/account_status"),
        (
            StatusSubtype,
            "/object/account_overview/account_status_subtype",
        ),
        (CreditLimit, "/object/summary/credit_limit_cents"),
        (AvailableCredit, "/object/summary/available_credit_cents"),
        (TotalBalance, "/object/summary/total_balance_cents"),
        (MinPayDue, "/object/min_pay_due_cents/min_pay_cents"),
        (MinPayDueAt, "/object/min_pay_due_cents/min_pay_due_at"),
        (Status, "/account_overview/account_status"),
        (StatusSubtype, "/account_overview/account_status_subtype"),
        (CreditLimit, "/open_to_buy/credit_limit_cents"),
        (AvailableCredit, "/open_to_buy/available_credit_cents"),
        (TotalBalance, "/balance_summary/total_balance_cents"),
        (MinPayDue, "/min_pay_due/min_pay_cents"),
        (MinPayDueAt, "/min_pay_due/min_pay_due_at"),
        (CustomerId, "/customer_id"),
        (AvailableCredit, "/available_credit_cents"),
        (TotalBalance, "/total_balance_cents"),
        (MinPayDue, "/min_pay_due_cents"),
        (MinPayDueAt, "/min_pay_due_at"),
        (MinPayDueAt, "/minimum_payment_due_date"),
        (DaysPastDue, "/days_past_due"),
        (DaysPastDue, "/number_of_days_delinquent"),
        (DelinquentAsOf, "/delinquent_as_of_date"),
    ]
};

impl Field {
    /// Sets this field of `change` from `value`, unless it is already set.
    fn fill(self, change: &mut AccountChange, value: &Value) {
        match self {
            Self::CustomerId => fill(&mut change.customer_id, text(value)),
            Self::Status => fill(&mut change.status, text(value)),
            Self::StatusSubtype => fill(&mut change.status_subtype, text(value)),
            Self::CreditLimit => fill(&mut change.credit_limit_cents, cents(value)),
            Self::AvailableCredit => fill(&mut change.available_credit_cents, cents(value)),
            Self::TotalBalance => fill(&mut change.total_balance_cents, cents(value)),
            Self::MinPayDue => fill(&mut change.min_pay_due_cents, cents(value)),
            Self::MinPayDueAt => fill(&mut change.min_pay_due_at, timestamp::parse(value)),
            Self::DaysPastDue => fill(&mut change.days_past_due, int(value)),
            Self::DelinquentAsOf => fill(&mut change.delinquent_as_of, timestamp::parse(value)),
        }
    }
}

fn fill<T>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}

/// Canopy's account object (`GET /accounts/{id}`, the `data.object` of
/// `account_create`/`account_update`) as Canopy had it at `as_of`, read with
/// the same table as webhooks.
pub fn account_state(account_id: String, object: Value, as_of: DateTime<Utc>) -> AccountChange {
    let data = serde_json::json!({ "object": object });
    AccountChange {
        changed_at: Some(as_of),
        ..account_change(account_id, &data)
    }
}

fn account_change(account_id: String, data: &Value) -> AccountChange {
    let mut change = AccountChange {
        account_id,
        changed_at: data.get("changed_at").and_then(timestamp::parse),
        snapshot: data
            .get("object")
            .filter(|o| o.is_object())
            .map(Value::to_string),
        ..Default::default()
    };
    for (field, path) in PATHS {
        if let Some(value) = data.pointer(path) {
            field.fill(&mut change, value);
        }
    }
    change
}

fn cents(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn int(value: &Value) -> Option<i32> {
    cents(value).and_then(|n| i32::try_from(n).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_object_reads_as_the_webhook_that_carries_it() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/fixtures/canopy/account_update.json"
        );
        let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let data = &fixture["data"];
        let as_of: DateTime<Utc> = "2026-01-02T03:04:05Z".parse().unwrap();
        let refreshed = account_state("acc".into(), data["object"].clone(), as_of);
        let from_webhook = account_change("acc".into(), data);
        assert_eq!(
            refreshed,
            AccountChange {
                changed_at: Some(as_of),
                ..from_webhook
            }
        );
        assert_eq!(refreshed.status.as_deref(), Some("SUSPENDED"));
        assert_eq!(refreshed.customer_id.as_deref(), Some("can_74652"));
        assert_eq!(refreshed.credit_limit_cents, Some(500_000));
        assert_eq!(refreshed.min_pay_due_cents, Some(3000));
        assert!(refreshed.snapshot.unwrap().contains("test-acct-SMS-HTTP-p"));
    }
}
