//! Live subscriptions: across nodes, in commit order, once each, through
//! reconnects, Redis restarts and stalled clients.
use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use api::{
    config::Config,
    ids::{self, CursorKind},
};
use futures::future::join_all;
use serde_json::{Value, json};

use crate::{
    graphql_support::{PII_KEY, READ_KEY, with_keys},
    helpers::{
        Backend, TestApp, TestStore, canopy_fixture, signed, signed_fixture, spawn_on, test_config,
    },
    on_both_backends,
    private_stores::PrivateRedis,
    ws::{Protocol, Refusal, WsClient},
};

pub const SUBSCRIPTION: &str = "subscription($filter: EventFilter, $after: String) {
    events(filter: $filter, after: $after) { id cursor type accountId payload }
}";

on_both_backends!(resubscribing_with_the_last_cursor_gets_exactly_what_was_missed);

/// Longer than any wait in these tests: across nodes, only Redis wake-ups
/// deliver events in time.
const NO_POLL: Duration = Duration::from_secs(600);

/// Gateway nodes sharing one store and one Redis channel; their feeds do not
/// poll the store.
pub async fn nodes(store: &TestStore, count: usize, redis_url: &str) -> Vec<TestApp> {
    let channel = format!("gwtest:{}", uuid::Uuid::new_v4().simple());
    let mut apps = Vec::new();
    for _ in 0..count {
        let mut config = node_config(store);
        config.redis_url = Some(redis_url.to_owned());
        config.redis_channel = channel.clone();
        config.feed_poll_interval = NO_POLL;
        apps.push(spawn_on(store.share(), config).await);
    }
    apps
}

/// A single gateway node (in-process pub/sub) on `store`.
pub async fn one_node(store: &TestStore) -> TestApp {
    spawn_on(store.share(), node_config(store)).await
}

fn node_config(store: &TestStore) -> Config {
    let mut config = test_config(&store.url);
    with_keys(&mut config);
    config
}

pub async fn subscriber(
    app: &TestApp,
    protocol: Protocol,
    key: &str,
    filter: Value,
    after: Option<i64>,
) -> WsClient {
    let init = json!({"Authorization": format!("Bearer {key}")});
    let mut client = WsClient::connect(app.addr, protocol, init)
        .await
        .expect("connection accepted");
    let after = after.map(ids::event_cursor);
    client
        .subscribe("1", SUBSCRIPTION, json!({"filter": filter, "after": after}))
        .await;
    client
}

/// An unfiltered `read` subscriber starting after event `after`.
pub async fn reader(app: &TestApp, protocol: Protocol, after: i64) -> WsClient {
    subscriber(app, protocol, READ_KEY, Value::Null, Some(after)).await
}

/// The next event on subscription "1".
pub async fn next_event(client: &mut WsClient) -> Value {
    let payload = client.next_payload().await;
    assert!(
        payload.get("errors").is_none(),
        "subscription error: {payload}"
    );
    payload["data"]["events"].clone()
}

pub fn position(event: &Value) -> i64 {
    let cursor = event["cursor"].as_str().expect("cursor");
    ids::parse_id_cursor(CursorKind::Event, cursor).expect("an event cursor")
}

pub fn numbered(n: usize) -> String {
    signed(
        "account_calculations_change",
        json!({"account_id": format!("acct-{}", n % 7), "available_credit_cents": n}),
    )
}

/// Stores one event before a test's own and returns its id: subscribing
/// after it starts the stream at a known point, so nothing races the
/// subscription.
pub async fn marker(app: &TestApp) -> i64 {
    let response = app
        .post_canopy(signed("marker", json!({"note": uuid::Uuid::new_v4()})))
        .await;
    assert_eq!(response.status().as_u16(), 202);
    let body: Value = response.json().await.unwrap();
    ids::parse_event_id(body["id"].as_str().unwrap()).expect("an event id")
}

pub async fn ingest(app: &TestApp, bodies: impl IntoIterator<Item = String>) {
    for body in bodies {
        let status = app.post_canopy(body).await.status().as_u16();
        assert_eq!(status, 202);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_subscribers_on_every_node_filtered_and_masked() {
    let store = TestStore::new(Backend::Postgres).await;
    let apps = nodes(&store, 2, "redis://127.0.0.1:6379").await;
    let (a, b) = (&apps[0], &apps[1]);

    let start = marker(a).await;
    let filter = json!({"types": ["account_update"]});
    let mut on_b = subscriber(b, Protocol::TransportWs, READ_KEY, filter, Some(start)).await;
    let mut on_a = subscriber(a, Protocol::Legacy, PII_KEY, Value::Null, Some(start)).await;

    ingest(
        a,
        [
            signed_fixture("account_create"),
            signed_fixture("account_update"),
        ],
    )
    .await;

    let seen_on_b = next_event(&mut on_b).await;
    assert_eq!(seen_on_b["type"], "account_update");
    let text = seen_on_b.to_string();
    let customer = &canopy_fixture("account_update")["data"]["object"]["customers"][0];
    for key in ["ssn", "email", "phone_number", "date_of_birth"] {
        let value = customer[key].as_str().unwrap();
        assert!(
            !text.contains(value),
            "{key} {value} leaked to a read key: {text}"
        );
    }
    assert_eq!(next_event(&mut on_a).await["type"], "account_create");
    let update = next_event(&mut on_a).await;
    assert_eq!(update["type"], "account_update");
    assert!(
        update
            .to_string()
            .contains(customer["ssn"].as_str().unwrap()),
        "pii key sees PII"
    );

    // Completing ends a subscription: nothing more comes on its id. A second
    // subscription on each socket shows when the next event has been
    // delivered, so the silence on the first one means something.
    let seen = [position(&update), position(&seen_on_b)];
    for (client, after) in [&mut on_a, &mut on_b].into_iter().zip(seen) {
        client.complete("1").await;
        let completed = client.receive().await.unwrap();
        assert_eq!(completed, json!({"type": "complete", "id": "1"}));
        let variables = json!({"after": ids::event_cursor(after)});
        client.subscribe("2", SUBSCRIPTION, variables).await;
    }
    let mut later = canopy_fixture("account_update")["data"].clone();
    later["changed_at"] = json!("2024-01-01T00:00:00Z");
    ingest(b, [signed("account_update", later)]).await;
    for client in [&mut on_a, &mut on_b] {
        let message = client.receive().await.unwrap();
        assert_eq!(message["id"], "2", "only the open subscription: {message}");
        assert_eq!(
            message["payload"]["data"]["events"]["type"],
            "account_update"
        );
        let quiet = tokio::time::timeout(Duration::from_millis(700), client.receive()).await;
        assert!(quiet.is_err(), "nothing more on either id: {quiet:?}");
    }
}

/// Subscriptions with the same selection and role share one rendering of
/// each event (issue 17): a rendering never crosses to another role or
/// another selection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alike_subscriptions_share_renderings_only_within_a_role_and_a_selection() {
    let store = TestStore::new(Backend::Postgres).await;
    let app = one_node(&store).await;
    let start = marker(&app).await;
    let filter = json!({"types": ["account_update", "marker"]});
    let mut readers = Vec::new();
    for protocol in [
        Protocol::TransportWs,
        Protocol::Legacy,
        Protocol::TransportWs,
    ] {
        readers.push(subscriber(&app, protocol, READ_KEY, filter.clone(), Some(start)).await);
    }
    let mut with_pii = subscriber(
        &app,
        Protocol::TransportWs,
        PII_KEY,
        filter.clone(),
        Some(start),
    )
    .await;
    // The same selection but for its alias, so another rendering.
    let init = json!({"Authorization": format!("Bearer {READ_KEY}")});
    let mut other = WsClient::connect(app.addr, Protocol::TransportWs, init)
        .await
        .expect("connection accepted");
    let aliased = SUBSCRIPTION.replace("{ id cursor", "{ eventId: id cursor");
    other
        .subscribe(
            "1",
            &aliased,
            json!({"filter": filter, "after": ids::event_cursor(start)}),
        )
        .await;
    // Once each has a marker, each follows the live feed: the next event
    // reaches them all as one shared event, not as rows each read itself.
    marker(&app).await;
    for client in readers.iter_mut().chain([&mut with_pii, &mut other]) {
        assert_eq!(next_event(client).await["type"], "marker");
    }

    ingest(&app, [signed_fixture("account_update")]).await;

    let customer = &canopy_fixture("account_update")["data"]["object"]["customers"][0];
    let ssn = customer["ssn"].as_str().unwrap();
    let mut seen = Vec::new();
    for reader in &mut readers {
        let event = next_event(reader).await;
        assert!(
            !event.to_string().contains(ssn),
            "PII to a read key: {event}"
        );
        seen.push(event);
    }
    assert!(seen.iter().all(|event| *event == seen[0]), "{seen:?}");
    let full = next_event(&mut with_pii).await;
    assert!(
        full.to_string().contains(ssn),
        "the pii key sees PII: {full}"
    );
    assert_eq!(full["id"], seen[0]["id"]);
    let aliased = next_event(&mut other).await;
    assert_eq!(aliased["eventId"], seen[0]["id"]);
    assert!(aliased.get("id").is_none(), "its own selection: {aliased}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_wakes_subscribers_on_another_node_at_once() {
    const EVENTS: usize = 21;
    let store = TestStore::new(Backend::Postgres).await;
    let apps = nodes(&store, 2, "redis://127.0.0.1:6379").await;
    let start = marker(&apps[0]).await;
    let mut on_b = reader(&apps[1], Protocol::TransportWs, start).await;
    let mut delays = Vec::with_capacity(EVENTS);
    for n in 0..EVENTS {
        ingest(&apps[0], [numbered(n)]).await;
        let answered = Instant::now();
        let event = next_event(&mut on_b).await;
        delays.push(answered.elapsed());
        assert_eq!(event["payload"]["available_credit_cents"], n);
    }
    delays.sort();
    let median = delays[EVENTS / 2];
    println!(
        "202 on one node to a subscriber on the other: median {median:?}, max {:?}",
        delays[EVENTS - 1]
    );
    // The contract says under 250 ms; held loosely here (a loaded machine),
    // and far under the feed's poll, which these nodes never reach.
    assert!(median < Duration::from_secs(1), "median {median:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connection_init_closes_with_4403_or_connection_error() {
    let store = TestStore::new(Backend::Sqlite).await;
    let app = one_node(&store).await;
    for payload in [
        json!({}),
        json!({"Authorization": "Bearer wrong"}),
        json!({"token": "wrong"}),
    ] {
        let refused = WsClient::connect(app.addr, Protocol::TransportWs, payload.clone())
            .await
            .err();
        assert_eq!(refused, Some(Refusal::Closed(4403)), "{payload}");
        match WsClient::connect(app.addr, Protocol::Legacy, payload.clone())
            .await
            .err()
        {
            Some(Refusal::ConnectionError(_)) => {}
            other => panic!("legacy protocol refusal for {payload}: {other:?}"),
        }
    }
    // Every accepted form of the key.
    for payload in [
        json!({"Authorization": format!("Bearer {READ_KEY}")}),
        json!({"authorization": format!("Bearer {READ_KEY}")}),
        json!({"token": READ_KEY}),
        json!({"token": format!("Bearer {READ_KEY}")}),
    ] {
        assert!(
            WsClient::connect(app.addr, Protocol::TransportWs, payload)
                .await
                .is_ok()
        );
    }
    // A read key subscribing to what it may see, and a bad cursor.
    let mut client = subscriber(&app, Protocol::TransportWs, READ_KEY, Value::Null, None).await;
    client.complete("1").await;
    assert_eq!(client.receive().await.unwrap()["type"], "complete");
    client
        .subscribe("2", SUBSCRIPTION, json!({"after": "not-a-cursor"}))
        .await;
    let payload = client.next_payload().await;
    assert_eq!(
        payload["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{payload}"
    );
}

async fn resubscribing_with_the_last_cursor_gets_exactly_what_was_missed(backend: Backend) {
    let store = TestStore::new(backend).await;
    let app = one_node(&store).await;
    let start = marker(&app).await;
    let mut client = reader(&app, Protocol::TransportWs, start).await;
    ingest(&app, (0..5).map(numbered)).await;
    let mut last = 0;
    for _ in 0..5 {
        last = position(&next_event(&mut client).await);
    }
    client.close().await;

    ingest(&app, (5..105).map(numbered)).await;
    let mut client = reader(&app, Protocol::Legacy, last).await;
    let mut replayed = Vec::new();
    for _ in 0..100 {
        replayed.push(next_event(&mut client).await);
    }
    let amounts: Vec<i64> = replayed
        .iter()
        .map(|e| e["payload"]["available_credit_cents"].as_i64().unwrap())
        .collect();
    assert_eq!(
        amounts,
        (5..105).collect::<Vec<_>>(),
        "exactly the missed events, in order"
    );

    ingest(&app, (105..108).map(numbered)).await;
    for n in 105..108 {
        assert_eq!(
            next_event(&mut client).await["payload"]["available_credit_cents"],
            n,
            "then live"
        );
    }
    let quiet = tokio::time::timeout(Duration::from_millis(500), client.receive()).await;
    assert!(quiet.is_err(), "nothing more: {quiet:?}");
}

/// After a marker event, an unfiltered `read` subscriber on every node.
async fn one_subscriber_per_node(apps: &[TestApp]) -> (i64, Vec<WsClient>) {
    let start = marker(&apps[0]).await;
    let mut subscribers = Vec::new();
    for app in apps {
        let client = reader(app, Protocol::TransportWs, start);
        subscribers.push(client.await);
    }
    (start, subscribers)
}

/// Receives `count` events and checks each comes once, in increasing cursor order.
pub async fn receive_in_order(client: &mut WsClient, count: usize) -> Vec<i64> {
    let mut positions = Vec::with_capacity(count);
    for _ in 0..count {
        let at = position(&next_event(client).await);
        if let Some(&previous) = positions.last() {
            assert!(at > previous, "cursor went from {previous} to {at}");
        }
        positions.push(at);
    }
    let unique: HashSet<_> = positions.iter().collect();
    assert_eq!(unique.len(), count);
    positions
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_ingest_on_two_nodes_reaches_every_subscriber_once_in_order() {
    const EVENTS: usize = 2000;
    let store = TestStore::new(Backend::Postgres).await;
    let apps = nodes(&store, 2, "redis://127.0.0.1:6379").await;
    let (start, mut subscribers) = one_subscriber_per_node(&apps).await;
    // Eight connections, four per node, each sending its share.
    let senders = (0..8).map(|c| {
        let app = &apps[c % 2];
        ingest(
            app,
            (c..EVENTS).step_by(8).map(numbered).collect::<Vec<_>>(),
        )
    });
    let receivers = subscribers.iter_mut().map(|s| receive_in_order(s, EVENTS));
    let (_, received) = tokio::join!(join_all(senders), join_all(receivers));
    let expected: Vec<i64> = (start + 1..=start + EVENTS as i64).collect();
    for positions in received {
        assert_eq!(
            positions, expected,
            "every committed event, in commit order"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_loses_no_event() {
    const EVENTS: usize = 600;
    let mut redis = PrivateRedis::start();
    let store = TestStore::new(Backend::Postgres).await;
    let apps = nodes(&store, 2, &redis.url()).await;
    let (start, mut subscribers) = one_subscriber_per_node(&apps).await;
    let send = async {
        for chunk in (0..EVENTS).collect::<Vec<_>>().chunks(50) {
            if chunk[0] == 200 {
                redis.kill();
            }
            if chunk[0] == 400 {
                redis.restart();
            }
            let sends = chunk.iter().map(|&n| ingest(&apps[n % 2], [numbered(n)]));
            join_all(sends).await;
        }
    };
    let receivers = subscribers.iter_mut().map(|s| receive_in_order(s, EVENTS));
    let (_, received) = tokio::join!(send, join_all(receivers));
    for positions in received {
        assert_eq!(
            positions,
            (start + 1..=start + EVENTS as i64).collect::<Vec<_>>()
        );
    }
    let ready: Value = apps[0]
        .http
        .get(apps[0].url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["redis"], "up", "reconnected: {ready}");
}
