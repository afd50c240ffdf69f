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
    helpers::{Backend, spawn_app},
    on_both_backends,
};

on_both_backends!(
    deep_or_wide_queries_are_refused_before_the_store,
    nested_fields_cost_a_bounded_number_of_statements,
);

/// `levels` fields deep: `events { edges { node { account { events … __typename } } } }`.
fn nested(levels: usize) -> String {
    const CYCLE: [&str; 4] = ["events", "edges", "node", "account"];
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

async fn nested_fields_cost_a_bounded_number_of_statements(backend: Backend) {
    let app = spawn_app(backend).await;
    let accounts = (0..150)
        .map(|i| account_row(&format!("acct-{i:03}"), "ACTIVE"))
        .collect();
    insert_accounts(&app.db, accounts).await;
    let rows = (1..=300)
        .map(|i| {
            let account = format!("acct-{:03}", i % 150);
            event_row(i, SourceKind::Canopy, "t", Some(&account), received_at(i))
        })
        .collect();
    insert_events(&app.db, rows).await;

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
    // events, accounts, the accounts' events, their notification configs.
    assert_eq!(costs, [4, 4, 4], "statements for 1, 10 and 100 events");
}
