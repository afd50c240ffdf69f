//! API keys, roles and PII masking over HTTP (contract sections 1 and 3).
use serde_json::{Value, json};

use api::event::SourceKind;

use crate::{
    graphql_support::{
        ADMIN_KEY, PII_KEY, READ_KEY, event_row, gql, insert_events, received_at, with_keys,
    },
    helpers::{Backend, canopy_fixture, signed_fixture, spawn_app, spawn_app_with},
    on_both_backends,
};

on_both_backends!(
    missing_or_unknown_keys_are_unauthenticated,
    roles_are_cumulative_and_admin_fields_forbidden_below_admin,
    read_keys_never_see_pii_and_pii_keys_do,
    stored_json_goes_out_as_received_unless_masked,
    without_keys_a_loopback_gateway_is_open_to_admin,
);

const EVENTS: &str = "{ events { edges { node { id } } } }";
const ADMIN_ONLY: &str = "{ rejectedDeliveries { edges { node { id } } } }";
const AUDIT: &str = "{ auditLog { edges { node { id } } } }";

async fn missing_or_unknown_keys_are_unauthenticated(backend: Backend) {
    let app = spawn_app_with(backend, with_keys).await;
    for key in [None, Some("wrong-key"), Some("")] {
        let response = gql(&app, key, EVENTS, json!({})).await;
        assert_eq!(response.status, 401, "{key:?}");
        assert_eq!(response.code(), "UNAUTHENTICATED", "{key:?}");
        assert_eq!(response.json["data"], Value::Null);
    }
    // Not a bearer credential at all.
    let response = app
        .http
        .post(app.url("/graphql"))
        .basic_auth("user", Some(READ_KEY))
        .json(&json!({"query": EVENTS}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(
        response.headers()["www-authenticate"].to_str().unwrap(),
        "Bearer"
    );

    // The query page (the console's, which replaced GraphiQL) needs no key.
    let page = app.http.get(app.url("/graphql")).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("/console/js/app.js"), "{html}");
}

async fn roles_are_cumulative_and_admin_fields_forbidden_below_admin(backend: Backend) {
    let app = spawn_app_with(backend, with_keys).await;
    for key in [READ_KEY, PII_KEY, ADMIN_KEY] {
        let response = gql(&app, Some(key), EVENTS, json!({})).await;
        assert_eq!(response.status, 200);
        assert_eq!(response.data()["events"]["edges"], json!([]), "{key}");
    }
    for key in [READ_KEY, PII_KEY] {
        for query in [ADMIN_ONLY, AUDIT] {
            let response = gql(&app, Some(key), query, json!({})).await;
            assert_eq!(response.code(), "FORBIDDEN", "{key} {query}");
            assert_eq!(response.json["data"], Value::Null);
        }
        // The fields the key may read still answer beside a forbidden one.
        let query = "{ events { edges { cursor } } rejectedDeliveries { edges { cursor } } }";
        let response = gql(&app, Some(key), query, json!({})).await;
        assert_eq!(response.code(), "FORBIDDEN");
        assert_eq!(
            response.json["errors"][0]["path"],
            json!(["rejectedDeliveries"])
        );
    }
    for query in [ADMIN_ONLY, AUDIT] {
        let response = gql(&app, Some(ADMIN_KEY), query, json!({})).await;
        let data = response.data();
        assert!(
            data.as_object()
                .unwrap()
                .values()
                .all(|v| v["edges"] == json!([]))
        );
    }
}

/// Every non-empty string under a PII key in `value`.
fn pii_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match inner {
                    Value::String(s)
                        if crate::logs::PII_KEYS.contains(&key.as_str()) && !s.is_empty() =>
                    {
                        out.push(s.clone());
                    }
                    _ => pii_strings(inner, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| pii_strings(i, out)),
        _ => {}
    }
}

async fn read_keys_never_see_pii_and_pii_keys_do(backend: Backend) {
    let app = spawn_app_with(backend, with_keys).await;
    let status = app
        .post_canopy(signed_fixture("account_create"))
        .await
        .status()
        .as_u16();
    assert_eq!(status, 202);
    let fixture = canopy_fixture("account_create");
    let customer = &fixture["data"]["object"]["customers"][0];
    let account_id = fixture["data"]["object"]["account_id"].as_str().unwrap();
    // The issue's list, spelled out, and then everything under a PII key.
    let mut secrets: Vec<String> = ["ssn", "date_of_birth", "email", "phone_number"]
        .iter()
        .map(|k| customer[k].as_str().unwrap().to_owned())
        .collect();
    let bank = &fixture["data"]["object"]["payment_processor_config"]["ach"]["canopy_nacha_config"];
    secrets.push(bank["bank_account_number"].as_str().unwrap().to_owned());
    secrets.push(bank["bank_routing_number"].as_str().unwrap().to_owned());
    pii_strings(&fixture["data"], &mut secrets);
    assert!(secrets.len() > 10);

    // Every JSON field the API has, reached every way it can be.
    let query = "query($id: ID!) {
        events { edges { node { payload followUp account { snapshot } } } }
        account(id: $id) {
            snapshot
            events { edges { node { payload followUp } } }
        }
        accounts { edges { node { snapshot } } }
    }";
    let vars = json!({"id": account_id});
    let read = gql(&app, Some(READ_KEY), query, vars.clone()).await;
    read.data();
    for secret in &secrets {
        assert!(
            !read.text.contains(secret.as_str()),
            "read key sees {secret:?}"
        );
    }
    let masked = &read.json["data"]["account"]["snapshot"]["customers"][0];
    assert_eq!(masked["ssn"], "*****8888");
    assert_eq!(masked["phone_number"], "*****6789");
    assert_eq!(masked["date_of_birth"], "*****");
    assert_eq!(masked["passport"], "*****");
    assert_eq!(masked["customer_id"], customer["customer_id"]);

    for key in [PII_KEY, ADMIN_KEY] {
        let full = gql(&app, Some(key), query, vars.clone()).await;
        full.data();
        for secret in &secrets {
            assert!(
                full.text.contains(secret.as_str()),
                "{key} misses {secret:?}"
            );
        }
        assert_eq!(
            full.json["data"]["account"]["snapshot"],
            fixture["data"]["object"]
        );
    }
}

async fn without_keys_a_loopback_gateway_is_open_to_admin(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = gql(&app, None, ADMIN_ONLY, json!({})).await;
    assert_eq!(response.data()["rejectedDeliveries"]["edges"], json!([]));
    let response = gql(&app, Some("anything"), ADMIN_ONLY, json!({})).await;
    assert_eq!(response.status, 200);
    response.data();
}

/// JSON with nothing to mask is the stored text itself (its spacing and
/// number spelling show it); masked JSON is written again.
async fn stored_json_goes_out_as_received_unless_masked(backend: Backend) {
    let app = spawn_app_with(backend, with_keys).await;
    const PLAIN: &str = r#"{ "account_id" : "a-1", "amount": 1.50e2, "tags": [ ] }"#;
    const WITH_PII: &str = r#"{"customer": {"SSN" : "888888888"}, "n": 1.0}"#;
    let mut rows = Vec::new();
    for (id, payload) in [(1, PLAIN), (2, WITH_PII)] {
        let mut row = event_row(id, SourceKind::Canopy, "t", None, received_at(id));
        row.payload = payload.to_owned();
        rows.push(row);
    }
    insert_events(&app.db, rows).await;
    let query = "{ events { edges { node { payload } } } }";
    for (key, pii_out) in [
        (READ_KEY, r#"{"customer":{"SSN":"*****8888"},"n":1.0}"#),
        (PII_KEY, WITH_PII),
        (ADMIN_KEY, WITH_PII),
    ] {
        let response = gql(&app, Some(key), query, json!({})).await;
        response.data();
        assert!(
            response.text.contains(&format!(r#""payload":{PLAIN}"#)),
            "{key}: {}",
            response.text
        );
        assert!(
            response.text.contains(&format!(r#""payload":{pii_out}"#)),
            "{key}: {}",
            response.text
        );
    }
}
