//! The page of events with their accounts reads each model from its columns'
//! positions; here it must read what sea-orm reads by name, every column
//! set and every nullable one NULL.
use api::{
    event::AccountChange,
    store::{
        accounts,
        events::{EventFilter, newest_first_with_accounts},
    },
};
use chrono::{DateTime, Utc};
use entity::events;
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, QueryOrder};

use crate::{
    helpers::{Backend, spawn_app},
    on_both_backends,
};

on_both_backends!(a_joined_page_reads_what_sea_orm_reads_by_name);

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn event(id: i64, account_id: Option<&str>) -> events::Model {
    events::Model {
        id,
        source: "canopy".into(),
        event_type: "account_calculations_change".into(),
        account_id: account_id.map(Into::into),
        dedup_key: None,
        occurred_at: None,
        received_at: at("2026-01-02T03:04:05.678901Z"),
        payload: r#"{"a":1}"#.into(),
        content_type: None,
        deliveries: 1,
        follow_up: None,
        purged_at: None,
    }
}

async fn a_joined_page_reads_what_sea_orm_reads_by_name(backend: Backend) {
    let app = spawn_app(backend).await;
    let full_account = entity::accounts::Model {
        id: "acct-full".into(),
        customer_id: Some("cus-1".into()),
        status: Some("ACTIVE".into()),
        status_subtype: Some("GRACE".into()),
        credit_limit_cents: Some(500_000),
        available_credit_cents: Some(250_001),
        total_balance_cents: Some(-3),
        min_pay_due_cents: Some(4_200),
        min_pay_due_at: Some(at("2026-02-01T00:00:00Z")),
        days_past_due: Some(7),
        delinquent_as_of: Some(at("2026-01-20T00:00:00Z")),
        snapshot: Some(r#"{"account_id":"acct-full"}"#.into()),
        snapshot_changed_at: Some(at("2026-01-03T00:00:00Z")),
        updated_at: at("2026-01-04T00:00:00Z"),
    };
    // A new account with nothing known but its id.
    let change = AccountChange {
        account_id: "acct-bare".into(),
        ..Default::default()
    };
    let bare_account = accounts::apply(change, None, at("2026-01-05T00:00:00Z")).unwrap();
    let nullable_columns = 12;
    let debug = format!("{bare_account:?}");
    assert_eq!(debug.matches("None").count(), nullable_columns, "{debug}");
    for account in [&full_account, &bare_account] {
        account
            .clone()
            .into_active_model()
            .insert(&app.db)
            .await
            .unwrap();
    }
    let full_event = events::Model {
        dedup_key: Some("key-1".into()),
        occurred_at: Some(at("2026-01-01T00:00:00.5Z")),
        content_type: Some("application/json".into()),
        deliveries: 3,
        follow_up: Some(r#"{"b":2}"#.into()),
        purged_at: Some(at("2026-01-06T00:00:00Z")),
        ..event(1, Some("acct-full"))
    };
    let rows = [
        full_event,
        event(2, Some("acct-bare")),
        event(3, Some("acct-none")),
        event(4, None),
    ];
    for row in &rows {
        row.clone()
            .into_active_model()
            .insert(&app.db)
            .await
            .unwrap();
    }

    let page = newest_first_with_accounts(&app.db, &EventFilter::default(), None, 10)
        .await
        .unwrap();

    let by_name = events::Entity::find()
        .order_by_desc(events::Column::Id)
        .all(&app.db)
        .await
        .unwrap();
    let mut wanted = Vec::new();
    for row in by_name {
        let account = match &row.account_id {
            Some(id) => entity::accounts::Entity::find_by_id(id.clone())
                .one(&app.db)
                .await
                .unwrap(),
            None => None,
        };
        wanted.push((row, account));
    }
    assert_eq!(page, wanted);
    assert_eq!(page[3], (rows[0].clone(), Some(full_account)));
    assert_eq!(page[2].1, Some(bare_account));
    assert_eq!(page[1].1, None);
}
