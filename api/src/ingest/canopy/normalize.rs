//! A verified Canopy webhook as a [`NewEvent`], with what it says about the
//! account (contract section 4).
use serde_json::Value;

use super::payload::Envelope;
use crate::{
    ingest::{NewEvent, SourceKind, timestamp},
    projection::{AccountChange, overlay},
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

pub fn normalize(envelope: &Envelope<'_>, data: Value, signature: String) -> NewEvent {
    let account_id = text(data.get("account_id"))
        .or_else(|| text(data.get("object").and_then(|o| o.get("account_id"))));
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
    }
}

/// One of Canopy's own examples names the due-date event `due_date`.
fn projected_name(event: &str) -> &str {
    match event {
        "due_date" => "payment_due_date",
        other => other,
    }
}

fn account_change(account_id: String, data: &Value) -> AccountChange {
    let at = |path: &[&str]| path.iter().try_fold(data, |v, key| v.get(*key));
    let mut change = AccountChange {
        account_id,
        changed_at: at(&["changed_at"]).and_then(timestamp::parse),
        customer_id: text(at(&["customer_id"])),
        available_credit_cents: cents(at(&["available_credit_cents"])),
        total_balance_cents: cents(at(&["total_balance_cents"])),
        min_pay_due_cents: cents(at(&["min_pay_due_cents"])),
        min_pay_due_at: at(&["min_pay_due_at"])
            .or_else(|| at(&["minimum_payment_due_date"]))
            .and_then(timestamp::parse),
        days_past_due: int(at(&["days_past_due"]).or_else(|| at(&["number_of_days_delinquent"]))),
        delinquent_as_of: at(&["delinquent_as_of_date"]).and_then(timestamp::parse),
        ..Default::default()
    };
    // statement_generation nests its figures by section.
    overlay(
        &mut change.status,
        text(at(&["account_overview", "account_status"])),
    );
    overlay(
        &mut change.status_subtype,
        text(at(&["account_overview", "account_status_subtype"])),
    );
    overlay(
        &mut change.credit_limit_cents,
        cents(at(&["open_to_buy", "credit_limit_cents"])),
    );
    overlay(
        &mut change.available_credit_cents,
        cents(at(&["open_to_buy", "available_credit_cents"])),
    );
    overlay(
        &mut change.total_balance_cents,
        cents(at(&["balance_summary", "total_balance_cents"])),
    );
    overlay(
        &mut change.min_pay_due_cents,
        cents(at(&["min_pay_due", "min_pay_cents"])),
    );
    overlay(
        &mut change.min_pay_due_at,
        at(&["min_pay_due", "min_pay_due_at"]).and_then(timestamp::parse),
    );

    if let Some(object) = at(&["object"]).filter(|o| o.is_object()) {
        let field = |path: &[&str]| path.iter().try_fold(object, |v, key| v.get(*key));
        overlay(
            &mut change.customer_id,
            text(
                object
                    .get("customers")
                    .and_then(|c| c.get(0))
                    .and_then(|c| c.get("customer_id")),
            ),
        );
        overlay(
            &mut change.status,
            text(field(&["account_overview", "account_status"])),
        );
        overlay(
            &mut change.status_subtype,
            text(field(&["account_overview", "account_status_subtype"])),
        );
        overlay(
            &mut change.credit_limit_cents,
            cents(field(&["summary", "credit_limit_cents"])),
        );
        overlay(
            &mut change.available_credit_cents,
            cents(field(&["summary", "available_credit_cents"])),
        );
        overlay(
            &mut change.total_balance_cents,
            cents(field(&["summary", "total_balance_cents"])),
        );
        overlay(
            &mut change.min_pay_due_cents,
            cents(field(&["min_pay_due_cents", "min_pay_cents"])),
        );
        overlay(
            &mut change.min_pay_due_at,
            field(&["min_pay_due_cents", "min_pay_due_at"]).and_then(timestamp::parse),
        );
        change.snapshot = Some(object.to_string());
    }
    change
}

/// Canopy sends identifiers as strings or numbers.
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn cents(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn int(value: Option<&Value>) -> Option<i32> {
    cents(value).and_then(|n| i32::try_from(n).ok())
}
