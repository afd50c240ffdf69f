//! `EVENT_RETENTION_DAYS`: payloads of events older than the window are
//! purged in the background; metadata and dedup keys stay, so a replayed
//! old delivery is still a 200 duplicate. "Now" is moved by backdating the
//! rows' `received_at` in the store.
use std::time::Duration;

use api::retention::Policy;
use entity::events::{Column, Entity};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};

use crate::{
    graphql_support::gql,
    helpers::{Backend, TestApp, signed, spawn_app_with, stored_id},
    on_both_backends,
};

on_both_backends!(old_payloads_are_purged_and_replays_of_them_stay_duplicates);

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

fn delivery(n: usize) -> String {
    signed(
        "account_calculations_change",
        json!({"account_id": format!("acct-{n}"), "available_credit_cents": n}),
    )
}

async fn event_read(app: &TestApp, id: i64) -> Value {
    let query = "query($id: ID!) { event(id: $id) { type accountId payload deliveries purgedAt } }";
    let variables = json!({"id": api::ids::event_id(id)});
    gql(app, None, query, variables).await.data()["event"].clone()
}

async fn old_payloads_are_purged_and_replays_of_them_stay_duplicates(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.retention = Some(Policy {
            keep: 30 * DAY,
            // Several batches for the three old events.
            batch: 2,
            pause: Duration::from_millis(10),
            every: Duration::from_millis(100),
        })
    })
    .await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let response = app.post_canopy(delivery(n)).await;
        assert_eq!(response.status().as_u16(), 202);
        ids.push(stored_id(response).await);
    }
    let (old, new) = ids.split_at(3);
    let backdated = api::clock::now() - chrono::Duration::days(31);
    Entity::update_many()
        .col_expr(Column::ReceivedAt, Expr::value(backdated))
        .filter(Column::Id.is_in(old.iter().copied()))
        .exec(&app.db)
        .await
        .unwrap();

    let mut purged = 0;
    for _ in 0..200 {
        let events = app.events().await;
        purged = events.iter().filter(|e| e.purged_at.is_some()).count();
        if purged == old.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(purged, old.len(), "the old payloads are purged within 10 s");
    for event in app.events().await {
        if old.contains(&event.id) {
            assert_eq!(event.payload, "{}", "{event:?}");
            assert!(event.dedup_key.is_some(), "the dedup key stays: {event:?}");
            assert_eq!(
                event.account_id,
                Some(format!("acct-{}", event.id - ids[0]))
            );
        } else {
            assert_eq!(event.purged_at, None, "{event:?}");
            let payload: Value = serde_json::from_str(&event.payload).unwrap();
            assert_eq!(payload["available_credit_cents"], event.id - ids[0]);
        }
    }

    // Canopy's signatures carry no timestamp: a replay of an old delivery
    // is a duplicate, whenever it comes.
    let replay = app.post_canopy(delivery(0)).await;
    assert_eq!(replay.status().as_u16(), 200);
    let replay: Value = replay.json().await.unwrap();
    assert_eq!(replay["duplicate"], true, "{replay}");
    assert_eq!(
        api::ids::parse_event_id(replay["id"].as_str().unwrap()),
        Some(old[0])
    );
    assert_eq!(app.events().await.len(), 5);

    let purged = event_read(&app, old[0]).await;
    assert_eq!(purged["payload"], json!({}), "{purged}");
    assert!(purged["purgedAt"].is_string(), "{purged}");
    assert_eq!(
        (&purged["type"], &purged["accountId"], &purged["deliveries"]),
        (
            &json!("account_calculations_change"),
            &json!("acct-0"),
            &json!(2)
        )
    );
    let kept = event_read(&app, new[0]).await;
    assert_eq!(kept["payload"]["available_credit_cents"], 3, "{kept}");
    assert_eq!(kept["purgedAt"], Value::Null, "{kept}");
}
