//! Query limits and batched loading, counted in SQL statements.
use api::{
    event::SourceKind,
    graphql::{MAX_DEPTH, MAX_FIELDS},
};
use serde_json::json;

use crate::{
    graphql_support::{
        CountingSchema, account_row, event_row, gql, insert_accounts, insert_events, received_at,
    },
    helpers::{Backend, TestApp, spawn_app},
    on_both_backends,
};

on_both_backends!(
    deep_or_wide_queries_are_refused_before_the_store,
    nested_fields_cost_a_bounded_number_of_statements,
    queries_that_could_return_too_many_nodes_are_refused_before_the_store,
);

/// `levels` fields deep: `events(first: 1) { edges { node { account { events … __typename } } } }`
/// (one event a level, so only its depth can refuse it).
fn nested(levels: usize) -> String {
    const CYCLE: [&str; 4] = ["events(first: 1)", "edges", "node", "account"];
    let mut query = String::from("{");
    for i in 0..levels - 1 {
        query.push_str(&format!(" {} {{", CYCLE[i % CYCLE.len()]));
    }
    query.push_str(" __typename");
    query.push_str(&" }".repeat(levels));
    query
}

async fn deep_or_wide_queries_are_refused_before_the_store(backend: Backend) {
    let app = spawn_app(backend).await;
    let wide: Vec<String> = (0..MAX_FIELDS)
        .map(|i| format!("e{i}: events {{ edges {{ node {{ id }} }} }}"))
        .collect();
    let wide = format!("{{ {} }}", wide.join(" "));
    let fields = |n: usize| {
        let list: Vec<String> = (0..n).map(|i| format!("a{i}: __typename")).collect();
        format!("{{ {} }}", list.join(" "))
    };

    let counting = CountingSchema::new(&app.db).await;
    for query in [
        nested(30),
        nested(MAX_DEPTH + 1),
        wide,
        fields(MAX_FIELDS + 1),
    ] {
        let response = gql(&app, None, &query, json!({})).await;
        assert_eq!(response.code(), "QUERY_TOO_COMPLEX", "{query}");
        assert_eq!(response.json["data"], serde_json::Value::Null);
        let (response, statements) = counting.run(&query).await;
        assert_eq!(
            response["errors"][0]["extensions"]["code"],
            "QUERY_TOO_COMPLEX"
        );
        assert_eq!(statements, 0, "nothing reaches the store");
    }
    for query in [nested(MAX_DEPTH), fields(MAX_FIELDS)] {
        let response = gql(&app, None, &query, json!({})).await;
        response.data();
    }
}

/// `accounts` accounts and `events` events spread evenly over them.
async fn insert_accounts_with_events(app: &TestApp, accounts: i64, events: i64) {
    let rows = (0..accounts)
        .map(|i| account_row(&format!("acct-{i:03}"), "ACTIVE"))
        .collect();
    insert_accounts(&app.db, rows).await;
    let rows = (1..=events)
        .map(|i| {
            let account = format!("acct-{:03}", i % accounts);
            event_row(i, SourceKind::Canopy, "t", Some(&account), received_at(i))
        })
        .collect();
    insert_events(&app.db, rows).await;
}

async fn nested_fields_cost_a_bounded_number_of_statements(backend: Backend) {
    let app = spawn_app(backend).await;
    insert_accounts_with_events(&app, 150, 300).await;

    let counting = CountingSchema::new(&app.db).await;
    let query = |first: usize| {
        format!(
            "{{ events(first: {first}) {{ edges {{ node {{ id account {{
                id status
                events(first: 3) {{ edges {{ node {{ id type }} }} }}
                notificationConfigs {{ id }}
            }} }} }} }} }}"
        )
    };
    let mut costs = Vec::new();
    for first in [1, 10, 100] {
        let (response, statements) = counting.run(&query(first)).await;
        assert!(response.get("errors").is_none(), "{response}");
        let edges = response["data"]["events"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), first);
        for edge in edges {
            let account = &edge["node"]["account"];
            let own = account["events"]["edges"].as_array().unwrap();
            assert_eq!(own.len(), 2, "each account has two events");
            assert!(account["id"].as_str().unwrap().starts_with("acct-"));
        }
        costs.push(statements);
    }
    // The events with their accounts (one join), the accounts' events,
    // their notification configs.
    assert_eq!(costs, [3, 3, 3], "statements for 1, 10 and 100 events");
}

/// `events(first: 100) { … account { events(first: $inner) … } }`, and
/// deeper once more when `again`.
fn events_of_accounts(inner: &str, again: bool) -> String {
    let innermost = if again {
        "account { events(first: 100) { edges { node { id type } } } }"
    } else {
        "type"
    };
    let operation = if inner == "$n" {
        "query($n: Int)"
    } else {
        "query"
    };
    format!(
        "{operation} {{ events(first: 100) {{ edges {{ node {{ id account {{ id
            events(first: {inner}) {{ edges {{ node {{ id {innermost} }} }} }}
        }} }} }} }} }}"
    )
}

async fn queries_that_could_return_too_many_nodes_are_refused_before_the_store(backend: Backend) {
    let app = spawn_app(backend).await;
    insert_accounts_with_events(&app, 20, 200).await;
    let from_accounts = "{ accounts(first: 100) { edges { node { id
        events(first: 100) { edges { node { id account { id
            events(first: 100) { edges { node { id } } } } } } } } } } }";
    let hundred_levels = format!(
        "{{ {}id{} }}",
        "events { edges { node { account { ".repeat(25),
        " } } } }".repeat(25)
    );

    let counting = CountingSchema::new(&app.db).await;
    let refused = [
        (events_of_accounts("100", false), json!({})),
        (events_of_accounts("100", true), json!({})),
        (from_accounts.to_owned(), json!({})),
        (hundred_levels, json!({})),
        // `first` from a variable.
        (events_of_accounts("$n", false), json!({"n": 100})),
    ];
    for (query, variables) in refused {
        let response = gql(&app, None, &query, variables.clone()).await;
        assert_eq!(response.code(), "QUERY_TOO_COMPLEX", "{query}");
        assert!(response.json.get("data").is_none(), "{}", response.text);
        let (response, statements) = counting.run_with(&query, variables).await;
        assert_eq!(
            response["errors"][0]["extensions"]["code"],
            "QUERY_TOO_COMPLEX"
        );
        assert_eq!(statements, 0, "nothing reaches the store: {query}");
    }

    // 100 events + 100 accounts + 100 × 10 of their events.
    for (query, variables) in [
        (events_of_accounts("10", false), json!({})),
        (events_of_accounts("$n", false), json!({"n": 10})),
    ] {
        let response = gql(&app, None, &query, variables.clone()).await;
        let edges = response.data()["events"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), 100);
        let own = edges[0]["node"]["account"]["events"]["edges"]
            .as_array()
            .unwrap();
        assert_eq!(own.len(), 10, "each account has 10 events");
        let (_, statements) = counting.run_with(&query, variables).await;
        assert!(statements > 0);
    }
}
