//! Subscriptions the gateway ends: an `error` for the subscription's id whose
//! `extensions` carry the reason's `code` and `resumeAfter`, the cursor to
//! subscribe again after without missing or repeating anything; nothing
//! follows on that id.
use std::{collections::HashMap, time::Duration};

use api::ids::event_cursor;
use serde_json::{Value, json};

use crate::{
    graphql_support::READ_KEY,
    helpers::{Backend, TestApp, TestStore},
    subscriptions::{
        SUBSCRIPTION, ingest, marker, next_event, numbered, one_node, position, reader,
    },
    ws::{Protocol, WsClient},
    ws_rules::error_for,
};

/// Per protocol, a client with subscription "1" (every event after the
/// marker) and "quiet" (a type never sent), after both received `events`
/// new events; and the last cursor delivered on "1".
async fn subscribed(app: &TestApp, events: usize) -> (i64, Vec<WsClient>, i64) {
    let start = marker(app).await;
    let mut clients = Vec::new();
    for protocol in Protocol::BOTH {
        let mut client = reader(app, protocol, start).await;
        let quiet = json!({"filter": {"types": ["never_sent"]}, "after": event_cursor(start)});
        client.subscribe("quiet", SUBSCRIPTION, quiet).await;
        clients.push(client);
    }
    ingest(app, (0..events).map(numbered)).await;
    let mut last = start;
    for client in &mut clients {
        for _ in 0..events {
            last = position(&next_event(client).await);
        }
    }
    (start, clients, last)
}

/// The `extensions` of each subscription's end in `messages`, by id.
fn ends(messages: &[Value], protocol: Protocol) -> HashMap<String, Value> {
    messages
        .iter()
        .map(|message| {
            let id = message["id"].as_str().expect("an id").to_owned();
            let error = error_for(message, &id, protocol);
            assert!(error["message"].is_string(), "{message}");
            (id, error["extensions"].clone())
        })
        .collect()
}

fn expected(code: &str, start: i64, last: i64) -> HashMap<String, Value> {
    HashMap::from([
        (
            "1".to_owned(),
            json!({"code": code, "resumeAfter": event_cursor(last)}),
        ),
        // It delivered nothing: it resumes where it started.
        (
            "quiet".to_owned(),
            json!({"code": code, "resumeAfter": event_cursor(start)}),
        ),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_feed_ends_subscriptions_with_feed_unavailable_and_where_to_resume() {
    let store = TestStore::new(Backend::Postgres).await;
    let app = one_node(&store).await;
    let (start, mut clients, last) = subscribed(&app, 3).await;

    // The feed crashes when it next wakes (within its poll interval).
    app.faults.crash_feed();
    for client in &mut clients {
        let messages = vec![
            client.receive().await.unwrap(),
            client.receive().await.unwrap(),
        ];
        assert_eq!(
            ends(&messages, client.protocol),
            expected("FEED_UNAVAILABLE", start, last)
        );
        let quiet = tokio::time::timeout(Duration::from_millis(700), client.receive()).await;
        assert!(
            quiet.is_err(),
            "nothing after the end, not even `complete`: {quiet:?}"
        );
    }

    // Subscribing again after `resumeAfter`, once the feed is back, misses
    // nothing committed since.
    ingest(&app, (3..5).map(numbered)).await;
    app.status_becomes("/readyz", 200).await;
    let mut again = reader(&app, Protocol::TransportWs, last).await;
    for n in 3..5 {
        let event = next_event(&mut again).await;
        assert_eq!(event["payload"]["available_credit_cents"], n, "{event}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutting_down_ends_every_subscription_with_where_to_resume_then_closes_with_1001() {
    let store = TestStore::new(Backend::Sqlite).await;
    let app = one_node(&store).await;
    let (start, clients, last) = subscribed(&app, 2).await;
    let key = json!({"Authorization": format!("Bearer {READ_KEY}")});
    let idle = WsClient::connect(app.addr, Protocol::TransportWs, key)
        .await
        .unwrap();
    let uninitialised = WsClient::open(app.addr, Protocol::Legacy).await;

    let shutdown = app.live_shutdown.clone();
    let closing =
        tokio::spawn(async move { shutdown.close_subscriptions(Duration::from_secs(20)).await });
    for mut client in clients {
        let (messages, code) = client.until_closed().await;
        assert_eq!(
            ends(&messages, client.protocol),
            expected("SHUTTING_DOWN", start, last)
        );
        assert_eq!(code, 1001);
    }
    for mut client in [idle, uninitialised] {
        assert_eq!(client.until_closed().await, (vec![], 1001));
    }
    assert!(closing.await.unwrap(), "every socket closed in time");

    let mut late = WsClient::open(app.addr, Protocol::TransportWs).await;
    assert_eq!(
        late.until_closed().await,
        (vec![], 1001),
        "opened afterwards"
    );
}
