//! The GraphQL read API over ingested and stored rows: each query's rows,
//! pagination, filters and bad input (contract section 3).
use api::event::SourceKind;
use entity::{events, notification_configs};
use sea_orm::{ActiveValue::Set, EntityTrait, NotSet};
use serde_json::{Value, json};

use crate::{
    graphql_support::{
        account_row, all_event_ids, event_row, gql, insert_accounts, insert_events, received_at,
        row_id,
    },
    helpers::{
        Backend, TestApp, canopy_fixture, canopy_fixture_names, signed, signed_fixture, spawn_app,
    },
    on_both_backends,
};

on_both_backends!(
    events_and_accounts_read_back_as_ingested,
    notification_configs_and_rejected_deliveries_are_listed,
    pagination_visits_every_row_exactly_once,
    every_filter_alone_and_combined,
    bad_input_is_refused_as_bad_user_input,
);

const ACCOUNT: &str = "31mNprzLd2bKl6koVna68ARM";

const EVENT_FIELDS: &str = "id cursor source type accountId occurredAt receivedAt payload
    contentType deliveries followUp";

async fn ingest_all_fixtures(app: &TestApp) -> Vec<String> {
    let names = canopy_fixture_names();
    for name in &names {
        let status = app
            .post_canopy(signed_fixture(name))
            .await
            .status()
            .as_u16();
        assert_eq!(status, 202, "{name}");
    }
    names
}

async fn events_and_accounts_read_back_as_ingested(backend: Backend) {
    let app = spawn_app(backend).await;
    let names = ingest_all_fixtures(&app).await;
    let stored = app.events().await;
    assert_eq!(stored.len(), names.len());

    // `events`: every fixture, newest first, as received.
    let query = format!("{{ events(first: 100) {{ edges {{ node {{ {EVENT_FIELDS} }} }} }} }}");
    let response = gql(&app, None, &query, json!({})).await;
    let nodes: Vec<&Value> = response.data()["events"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .collect();
    assert_eq!(nodes.len(), names.len());
    for (node, (row, name)) in nodes
        .iter()
        .zip(stored.iter().rev().zip(names.iter().rev()))
    {
        let fixture = canopy_fixture(name);
        assert_eq!(node["id"], json!(api::ids::event_id(row.id)));
        assert_eq!(node["cursor"], json!(api::ids::event_cursor(row.id)));
        assert_eq!(node["source"], "CANOPY");
        assert_eq!(node["type"], fixture["event"]);
        assert_eq!(node["accountId"].as_str(), row.account_id.as_deref());
        assert_eq!(node["payload"], fixture["data"], "{name}");
        assert_eq!(node["deliveries"], 1);
        assert_eq!(node["followUp"], Value::Null);
        let received: chrono::DateTime<chrono::Utc> =
            node["receivedAt"].as_str().unwrap().parse().unwrap();
        assert_eq!(received, row.received_at);
        let occurred = node["occurredAt"].as_str().map(|t| t.parse().unwrap());
        assert_eq!(occurred, row.occurred_at, "{name}");
    }

    // `event(id)`, and ids that name no event.
    let create = stored
        .iter()
        .find(|e| e.event_type == "account_create")
        .unwrap();
    let query = "query($id: ID!) { event(id: $id) { id type account { id status } } }";
    let id = api::ids::event_id(create.id);
    let response = gql(&app, None, query, json!({"id": id})).await;
    assert_eq!(
        response.data()["event"],
        json!({"id": id, "type": "account_create",
               "account": {"id": ACCOUNT, "status": "SUSPENDED"}})
    );
    for unknown in ["evt_999999", "evt_0", "nonsense", ""] {
        let response = gql(&app, None, query, json!({"id": unknown})).await;
        assert_eq!(response.data()["event"], Value::Null, "{unknown}");
    }

    // `account(id)`: the projection, field for field.
    let model = app.account(ACCOUNT).await;
    let query = "query($id: ID!) { account(id: $id) {
        id customerId status statusSubtype creditLimitCents availableCreditCents
        totalBalanceCents minPayDueCents minPayDueAt daysPastDue delinquentAsOf updatedAt snapshot
    } }";
    let response = gql(&app, None, query, json!({"id": ACCOUNT})).await;
    let account = &response.data()["account"];
    assert_eq!(account["id"], ACCOUNT);
    assert_eq!(account["customerId"].as_str(), model.customer_id.as_deref());
    assert_eq!(account["status"].as_str(), model.status.as_deref());
    assert_eq!(
        account["statusSubtype"].as_str(),
        model.status_subtype.as_deref()
    );
    assert_eq!(
        account["creditLimitCents"].as_i64(),
        model.credit_limit_cents
    );
    assert_eq!(
        account["availableCreditCents"].as_i64(),
        model.available_credit_cents
    );
    assert_eq!(
        account["totalBalanceCents"].as_i64(),
        model.total_balance_cents
    );
    assert_eq!(account["minPayDueCents"].as_i64(), model.min_pay_due_cents);
    let due = account["minPayDueAt"].as_str().map(|t| t.parse().unwrap());
    assert_eq!(due, model.min_pay_due_at);
    let updated: chrono::DateTime<chrono::Utc> =
        account["updatedAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(updated, model.updated_at);
    let snapshot: Value = serde_json::from_str(model.snapshot.as_deref().unwrap()).unwrap();
    assert_eq!(account["snapshot"], snapshot);
    let response = gql(&app, None, query, json!({"id": "no-such-account"})).await;
    assert_eq!(response.data()["account"], Value::Null);

    // `accounts`: every projected account, in id order.
    let query =
        "{ accounts(first: 100) { edges { cursor node { id } } pageInfo { hasNextPage } } }";
    let response = gql(&app, None, query, json!({})).await;
    let listed: Vec<&str> = response.data()["accounts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    let mut projected = entity::accounts::Entity::find().all(&app.db).await.unwrap();
    projected.sort_by(|a, b| a.id.cmp(&b.id));
    let expected: Vec<&str> = projected.iter().map(|a| a.id.as_str()).collect();
    assert!(expected.len() > 1);
    assert_eq!(listed, expected);
    let query = r#"{ accounts(status: "SUSPENDED") { edges { node { id } } } }"#;
    let response = gql(&app, None, query, json!({})).await;
    let suspended: Vec<Value> = projected
        .iter()
        .filter(|a| a.status.as_deref() == Some("SUSPENDED"))
        .map(|a| json!({"node": {"id": a.id}}))
        .collect();
    assert!(!suspended.is_empty() && suspended.len() < projected.len());
    assert_eq!(response.data()["accounts"]["edges"], json!(suspended));

    // `Account.events`: the account's own events, newest first, by type.
    let query = r#"query($id: ID!) { account(id: $id) {
        all: events { edges { node { id accountId } } }
        created: events(types: ["account_create"]) { edges { node { type } } }
        none: events(types: ["payment_reversed"]) { edges { node { id } } }
    } }"#;
    let response = gql(&app, None, query, json!({"id": ACCOUNT})).await;
    let account = &response.data()["account"];
    let own: Vec<i64> = stored
        .iter()
        .rev()
        .filter(|e| e.account_id.as_deref() == Some(ACCOUNT))
        .map(|e| e.id)
        .collect();
    let listed: Vec<i64> = account["all"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| row_id(&e["node"]["id"]))
        .collect();
    assert_eq!(listed, own);
    assert_eq!(
        account["created"]["edges"],
        json!([{"node": {"type": "account_create"}}])
    );
    assert_eq!(account["none"]["edges"], json!([]));
}

async fn notification_configs_and_rejected_deliveries_are_listed(backend: Backend) {
    let app = spawn_app(backend).await;
    insert_accounts(
        &app.db,
        vec![
            account_row("acct-1", "ACTIVE"),
            account_row("acct-2", "ACTIVE"),
        ],
    )
    .await;
    let config = |account: &str, kind: &str, offset: Option<&str>, interval: Option<&str>| {
        notification_configs::ActiveModel {
            id: NotSet,
            account_id: Set(account.to_owned()),
            notification_type: Set(kind.to_owned()),
            time_offset: Set(offset.map(str::to_owned)),
            time: Set(offset.map(|_| "07:30:00".to_owned())),
            periodic_interval: Set(interval.map(str::to_owned)),
            slot: Set(offset.unwrap_or("periodic").to_owned()),
            updated_at: Set(received_at(1)),
        }
    };
    notification_configs::Entity::insert_many([
        config("acct-1", "payment_due_date", Some("-2 days"), None),
        config("acct-1", "account_delinquency", None, Some("DAILY")),
        config("acct-2", "minimum_payment_missed", Some("6 days"), None),
    ])
    .exec_without_returning(&app.db)
    .await
    .unwrap();

    let query = r#"{
        notificationConfigs(accountId: "acct-1") {
            accountId notificationType timeOffset time periodicInterval updatedAt
        }
        none: notificationConfigs(accountId: "acct-3") { id }
        accounts { edges { node { id notificationConfigs { notificationType } } } }
    }"#;
    let response = gql(&app, None, query, json!({})).await;
    let data = response.data();
    let updated = data["notificationConfigs"][0]["updatedAt"].clone();
    assert_eq!(
        data["notificationConfigs"],
        json!([
            {"accountId": "acct-1", "notificationType": "PAYMENT_DUE_DATE", "timeOffset": "-2 days",
             "time": "07:30:00", "periodicInterval": null, "updatedAt": updated},
            {"accountId": "acct-1", "notificationType": "ACCOUNT_DELINQUENCY", "timeOffset": null,
             "time": null, "periodicInterval": "DAILY", "updatedAt": updated},
        ])
    );
    assert_eq!(data["none"], json!([]));
    assert_eq!(
        data["accounts"]["edges"],
        json!([
            {"node": {"id": "acct-1", "notificationConfigs": [
                {"notificationType": "PAYMENT_DUE_DATE"}, {"notificationType": "ACCOUNT_DELINQUENCY"}]}},
            {"node": {"id": "acct-2", "notificationConfigs": [
                {"notificationType": "MINIMUM_PAYMENT_MISSED"}]}},
        ])
    );

    // A refused delivery shows up at once, without its body.
    let forged = signed("account_update", json!({"account_id": "x"}))
        .replace("hmac_signature\":\"", "hmac_signature\":\"AAAA");
    let status = app.post_canopy(forged.clone()).await.status().as_u16();
    assert_eq!(status, 401);
    // Recorded off the delivery path: written within milliseconds.
    app.flush_refusals().await;
    let query = "{ rejectedDeliveries { edges { cursor node {
        id source reason status remoteAddr bodyBytes bodySha256 receivedAt } } } }";
    let response = gql(&app, None, query, json!({})).await;
    let edges = response.data()["rejectedDeliveries"]["edges"]
        .as_array()
        .unwrap();
    assert_eq!(edges.len(), 1);
    let node = &edges[0]["node"];
    let stored = &app.rejections().await[0];
    assert_eq!(node["id"], json!(stored.id.to_string()));
    assert_eq!(node["source"], "CANOPY");
    assert_eq!(node["reason"], "INVALID_SIGNATURE");
    assert_eq!(node["status"], 401);
    assert_eq!(node["remoteAddr"], "127.0.0.1");
    assert_eq!(node["bodyBytes"], json!(forged.len()));
    assert_eq!(node["bodySha256"], json!(stored.body_sha256));
    assert!(!response.text.contains("AAAA"), "never the body");
}

async fn pagination_visits_every_row_exactly_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let rows: Vec<events::Model> = (1..=250)
        .map(|i| {
            let account = if i % 2 == 0 { "even" } else { "odd" };
            event_row(i, SourceKind::Canopy, "t", Some(account), received_at(i))
        })
        .collect();
    insert_events(&app.db, rows).await;
    let newest_first: Vec<i64> = (1..=250).rev().collect();

    for first in [1, 7, 20, 100] {
        assert_eq!(
            all_event_ids(&app, Value::Null, first).await,
            newest_first,
            "first {first}"
        );
    }
    let query = "{ events(first: 0) { edges { cursor } pageInfo { hasNextPage endCursor } } }";
    let response = gql(&app, None, query, json!({})).await;
    assert_eq!(
        response.data()["events"],
        json!({"edges": [], "pageInfo": {"hasNextPage": true, "endCursor": null}})
    );

    // Events committed while a client pages are not mixed into its pages:
    // they are newer than where it started.
    let query = "query($after: String) { events(first: 100, after: $after) {
        edges { node { id } } pageInfo { endCursor hasNextPage } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    for page in 0.. {
        let response = gql(&app, None, query, json!({"after": after})).await;
        let events = &response.data()["events"];
        seen.extend(
            events["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| row_id(&e["node"]["id"])),
        );
        if page == 0 {
            let late = (251..=260)
                .map(|i| event_row(i, SourceKind::Loanpro, "late", None, received_at(i)))
                .collect();
            insert_events(&app.db, late).await;
        }
        if !events["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = events["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, newest_first);

    // `Account.events` pages the same way.
    insert_accounts(&app.db, vec![account_row("even", "ACTIVE")]).await;
    let query = r#"query($after: String) { account(id: "even") {
        events(first: 30, after: $after) { edges { node { id } } pageInfo { endCursor hasNextPage } }
    } }"#;
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let response = gql(&app, None, query, json!({"after": after})).await;
        let events = &response.data()["account"]["events"];
        seen.extend(
            events["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| row_id(&e["node"]["id"])),
        );
        if !events["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = events["pageInfo"]["endCursor"].clone();
    }
    let evens: Vec<i64> = (1..=250).rev().filter(|i| i % 2 == 0).collect();
    assert_eq!(seen, evens);

    // `accounts` goes the other way (ascending ids), also exactly once.
    let mut ids: Vec<String> = (0..250).map(|i| format!("acct-{i:03}")).collect();
    insert_accounts(
        &app.db,
        ids.iter().map(|id| account_row(id, "ACTIVE")).collect(),
    )
    .await;
    ids.push("even".to_owned());
    ids.sort();
    let query = "query($after: String) { accounts(first: 40, after: $after) {
        edges { cursor node { id } } pageInfo { endCursor hasNextPage } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let response = gql(&app, None, query, json!({"after": after})).await;
        let accounts = &response.data()["accounts"];
        seen.extend(
            accounts["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["id"].as_str().unwrap().to_owned()),
        );
        if !accounts["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = accounts["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, ids);
}

async fn every_filter_alone_and_combined(backend: Backend) {
    let app = spawn_app(backend).await;
    const SOURCES: [SourceKind; 3] = [
        SourceKind::Canopy,
        SourceKind::Loanpro,
        SourceKind::EmbeddedFunding,
    ];
    const TYPES: [&str; 4] = ["a", "b", "c", "d"];
    const ACCOUNTS: [Option<&str>; 4] = [Some("acc1"), Some("acc2"), None, Some("acc3")];
    let rows: Vec<events::Model> = (1..=90)
        .map(|i| {
            let n = i as usize;
            event_row(
                i,
                SOURCES[n % 3],
                TYPES[n % 4],
                ACCOUNTS[n / 3 % 4],
                received_at(i),
            )
        })
        .collect();
    insert_events(&app.db, rows.clone()).await;

    // A receivedAt read from the API, to be passed back as a bound.
    let read_time = |i: i64| {
        let app = &app;
        async move {
            let query = "query($id: ID!) { event(id: $id) { receivedAt } }";
            let vars = json!({"id": api::ids::event_id(i)});
            let response = gql(app, None, query, vars).await;
            response.data()["event"]["receivedAt"].clone()
        }
    };
    let since = read_time(20).await;
    let until = read_time(71).await;

    type Check = Box<dyn Fn(&events::Model) -> bool>;
    let cases: Vec<(Value, Check)> = vec![
        (json!({}), Box::new(|_| true)),
        (
            json!({"sources": ["LOANPRO"]}),
            Box::new(|r| r.source == "loanpro"),
        ),
        (
            json!({"sources": ["CANOPY", "EMBEDDED_FUNDING"]}),
            Box::new(|r| r.source != "loanpro"),
        ),
        (json!({"sources": []}), Box::new(|_| false)),
        (json!({"types": ["c"]}), Box::new(|r| r.event_type == "c")),
        (
            json!({"types": ["a", "d", "zz"]}),
            Box::new(|r| ["a", "d"].contains(&r.event_type.as_str())),
        ),
        (json!({"types": []}), Box::new(|_| false)),
        (
            json!({"accountId": "acc2"}),
            Box::new(|r| r.account_id.as_deref() == Some("acc2")),
        ),
        (json!({"accountId": "nobody"}), Box::new(|_| false)),
        (json!({"since": since}), Box::new(move |r| r.id >= 20)),
        (json!({"until": until}), Box::new(move |r| r.id < 71)),
        (
            json!({"since": since, "until": until}),
            Box::new(|r| (20..71).contains(&r.id)),
        ),
        (json!({"since": until, "until": until}), Box::new(|_| false)),
        (
            json!({"sources": ["CANOPY", "LOANPRO"], "types": ["a", "b"], "accountId": "acc1",
                   "since": since, "until": until}),
            Box::new(|r| {
                r.source != "embedded_funding"
                    && ["a", "b"].contains(&r.event_type.as_str())
                    && r.account_id.as_deref() == Some("acc1")
                    && (20..71).contains(&r.id)
            }),
        ),
    ];
    for (filter, check) in &cases {
        let mut expected: Vec<i64> = rows.iter().filter(|r| check(r)).map(|r| r.id).collect();
        expected.reverse();
        assert_eq!(
            all_event_ids(&app, filter.clone(), 100).await,
            expected,
            "{filter}"
        );
        assert_eq!(
            all_event_ids(&app, filter.clone(), 3).await,
            expected,
            "{filter} in pages"
        );
    }

    // A bound in another offset or at a finer precision selects by instant.
    let t = rows[29].received_at;
    let shifted = t.with_timezone(&chrono::FixedOffset::east_opt(5 * 3600).unwrap());
    let finer =
        (t + chrono::Duration::nanoseconds(1)).to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    let ids = all_event_ids(
        &app,
        json!({"since": shifted.to_rfc3339(), "until": finer}),
        100,
    )
    .await;
    assert_eq!(ids, [30]);

    let query = "query($f: EventFilter) { events(filter: $f) { edges { cursor } } }";
    let response = gql(
        &app,
        None,
        query,
        json!({"f": {"since": until, "until": since}}),
    )
    .await;
    assert_eq!(response.code(), "BAD_USER_INPUT");
}

async fn bad_input_is_refused_as_bad_user_input(backend: Backend) {
    let app = spawn_app(backend).await;
    insert_events(
        &app.db,
        vec![event_row(1, SourceKind::Canopy, "t", None, received_at(1))],
    )
    .await;
    insert_accounts(&app.db, vec![account_row("a", "ACTIVE")]).await;
    let account_cursor = api::ids::cursor(api::ids::CursorKind::Account, "a");
    let cases = [
        ("{ events { edges { node { id }", json!({})),
        ("{ events { edges { node { nope } } } }", json!({})),
        ("{ events(first: 101) { edges { cursor } } }", json!({})),
        ("{ events(first: -1) { edges { cursor } } }", json!({})),
        (
            r#"{ events(first: "ten") { edges { cursor } } }"#,
            json!({}),
        ),
        (
            r#"{ events(after: "not a cursor") { edges { cursor } } }"#,
            json!({}),
        ),
        (
            "query($c: String) { events(after: $c) { edges { cursor } } }",
            json!({"c": account_cursor}),
        ),
        (
            r#"{ account(id: "a") { events(first: 1000) { edges { cursor } } } }"#,
            json!({}),
        ),
        (
            r#"{ accounts(after: "ZXZ0OjE") { edges { cursor } } }"#,
            json!({}),
        ),
        (
            r#"{ events(filter: {since: "yesterday"}) { edges { cursor } } }"#,
            json!({}),
        ),
        (
            r#"{ events(filter: {sources: [SMTP]}) { edges { cursor } } }"#,
            json!({}),
        ),
        (
            "{ rejectedDeliveries(first: 500) { edges { cursor } } }",
            json!({}),
        ),
    ];
    for (query, variables) in cases {
        let response = gql(&app, None, query, variables).await;
        assert_eq!(
            response.code(),
            "BAD_USER_INPUT",
            "{query}: {}",
            response.text
        );
    }

    // A body that is not a GraphQL request at all.
    let response = app
        .http
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body("{\"query\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");

    // The event is still there: nothing above failed for another reason.
    let ids = all_event_ids(&app, Value::Null, 20).await;
    assert_eq!(ids, [1]);
}
