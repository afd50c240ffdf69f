//! The account projection (contract section 4), through real deliveries.
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp, canopy_fixture, signed, spawn_app},
    on_both_backends,
};

on_both_backends!(
    account_state_follows_the_newest_change,
    flat_events_update_their_fields
);

const ACCOUNT: &str = "31mNprzLd2bKl6koVna68ARM";

async fn send(app: &TestApp, event: &str, data: Value) {
    let status = app.post_canopy(signed(event, data)).await.status().as_u16();
    assert_eq!(status, 202, "{event}");
}

/// account_update's fixture, made about [`ACCOUNT`] at `changed_at`.
fn update(changed_at: &str, status: &str, credit_limit: i64) -> Value {
    let mut data = canopy_fixture("account_update")["data"].clone();
    data["changed_at"] = json!(changed_at);
    data["object"]["account_id"] = json!(ACCOUNT);
    data["object"]["account_overview"]["account_status"] = json!(status);
    data["object"]["summary"]["credit_limit_cents"] = json!(credit_limit);
    data
}

async fn account_state_follows_the_newest_change(backend: Backend) {
    let app = spawn_app(backend).await;
    send(
        &app,
        "account_create",
        canopy_fixture("account_create")["data"].clone(),
    )
    .await;
    let created = app.account(ACCOUNT).await;
    assert_eq!(created.customer_id.as_deref(), Some(ACCOUNT));
    assert_eq!(
        (created.status.as_deref(), created.status_subtype.as_deref()),
        (Some("SUSPENDED"), Some("BANKRUPTCY"))
    );
    assert_eq!(created.credit_limit_cents, Some(400_000));
    assert_eq!(created.available_credit_cents, Some(100_000));
    assert_eq!(created.total_balance_cents, Some(300_000));
    assert_eq!(created.min_pay_due_cents, Some(160_000));
    assert_eq!(
        created.min_pay_due_at.unwrap().to_rfc3339(),
        "2019-10-18T23:59:59.999+00:00"
    );
    let snapshot: Value = serde_json::from_str(created.snapshot.as_deref().unwrap()).unwrap();
    assert_eq!(snapshot, canopy_fixture("account_create")["data"]["object"]);

    send(
        &app,
        "account_update",
        update("2023-07-18T21:51:20.511Z", "ACTIVE", 500_000),
    )
    .await;
    // Older than what the account reflects: stored as an event, not applied.
    send(
        &app,
        "account_update",
        update("2023-01-01T00:00:00Z", "CLOSED", 1),
    )
    .await;

    let account = app.account(ACCOUNT).await;
    assert_eq!(account.status.as_deref(), Some("ACTIVE"));
    assert_eq!(account.credit_limit_cents, Some(500_000));
    assert_eq!(account.available_credit_cents, Some(497_000));
    assert_eq!(account.customer_id.as_deref(), Some("can_74652"));
    let snapshot: Value = serde_json::from_str(account.snapshot.as_deref().unwrap()).unwrap();
    assert_eq!(snapshot["account_overview"]["account_status"], "ACTIVE");
    assert_eq!(app.events().await.len(), 3);

    // Flat events apply as they arrive and keep what they don't carry.
    send(&app, "account_calculations_change", json!({"account_id": ACCOUNT, "available_credit_cents": 50_000, "effective_as_of": "2023-01-26T15:42:39.567559-05:00"})).await;
    let account = app.account(ACCOUNT).await;
    assert_eq!(account.available_credit_cents, Some(50_000));
    assert_eq!(account.credit_limit_cents, Some(500_000));
    assert_eq!(account.status.as_deref(), Some("ACTIVE"));
}

async fn flat_events_update_their_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    let fixture_data = |name: &str| canopy_fixture(name)["data"].clone();

    send(
        &app,
        "account_calculations_change",
        fixture_data("account_calculations_change"),
    )
    .await;
    assert_eq!(
        app.account("1000").await.available_credit_cents,
        Some(50_000),
        "numeric id read as text"
    );

    send(
        &app,
        "account_delinquency",
        fixture_data("account_delinquency"),
    )
    .await;
    let a = app.account("can_100030").await;
    assert_eq!(
        a.delinquent_as_of.unwrap().to_rfc3339(),
        "2023-01-30T18:23:00.487411+00:00"
    );
    assert_eq!(a.days_past_due, Some(0));
    assert_eq!(a.customer_id.as_deref(), Some("848"));

    let due = "d5c2aeee-6a9e-4057-b31f-c542b7a8a03d";
    send(
        &app,
        "minimum_payment_due",
        fixture_data("minimum_payment_due"),
    )
    .await;
    let a = app.account(due).await;
    assert_eq!(
        (a.min_pay_due_cents, a.total_balance_cents),
        (Some(200), Some(200))
    );
    assert_eq!(
        a.min_pay_due_at.unwrap().to_rfc3339(),
        "2022-11-11T05:00:00+00:00"
    );

    send(&app, "payment_due_date", fixture_data("payment_due_date")).await;
    let a = app.account(due).await;
    assert_eq!(a.days_past_due, Some(7));
    assert_eq!(
        (a.min_pay_due_cents, a.total_balance_cents),
        (Some(10_000), Some(1_000_000))
    );
    assert_eq!(
        a.delinquent_as_of.unwrap().to_rfc3339(),
        "2022-11-16T05:00:00+00:00"
    );

    // The name one of Canopy's examples uses, with its own date field.
    send(&app, "due_date", json!({"account_id": due, "days_past_due": 9, "minimum_payment_due_date": "2022-12-11T00:00:00-05:00"})).await;
    let a = app.account(due).await;
    assert_eq!(a.days_past_due, Some(9));
    assert_eq!(
        a.min_pay_due_at.unwrap().to_rfc3339(),
        "2022-12-11T05:00:00+00:00"
    );
    assert_eq!(a.min_pay_due_cents, Some(10_000), "kept");

    send(
        &app,
        "minimum_payment_missed",
        fixture_data("minimum_payment_missed"),
    )
    .await;
    assert_eq!(
        app.account("can_100031").await.customer_id.as_deref(),
        Some("848")
    );

    // Events that carry no account state leave the projection alone.
    send(&app, "payment_reversed", fixture_data("payment_reversed")).await;
    let none = entity::accounts::Entity::find_by_id("can_3".to_owned())
        .one(&app.db)
        .await
        .unwrap();
    assert!(none.is_none());
}

use sea_orm::EntityTrait;
