//! Every source through the same path to subscribers: a subscription
//! filtered on a source receives that source's events only, in order.
use serde_json::{Value, json};

use crate::{
    embedded_funding_ingest::{fixture, post_callback},
    graphql_support::{ADMIN_KEY, READ_KEY, with_keys},
    helpers::{Backend, TestApp, signed_fixture, spawn_app_with, stored_id},
    loanpro_ingest::post_json,
    on_both_backends,
    ws::{Protocol, WsClient},
};

on_both_backends!(subscribers_filtered_on_a_source_receive_its_events_only);

const SUBSCRIPTION: &str = "subscription($filter: EventFilter, $after: String) {
    events(filter: $filter, after: $after) { id source type accountId payload }
}";

/// Subscribed after event `after`, so nothing posted later can be missed.
async fn subscribed(app: &TestApp, key: &str, sources: Value, after: i64) -> WsClient {
    let init = json!({"Authorization": format!("Bearer {key}")});
    let mut client = WsClient::connect(app.addr, Protocol::TransportWs, init)
        .await
        .expect("connection accepted");
    let variables = json!({"filter": {"sources": sources}, "after": api::ids::event_cursor(after)});
    client.subscribe("1", SUBSCRIPTION, variables).await;
    client
}

/// The next `count` events on subscription "1", as (id, type).
async fn next_events(client: &mut WsClient, count: usize) -> Vec<(String, Value)> {
    let mut events = Vec::new();
    for _ in 0..count {
        let payload = client.next_payload().await;
        let event = payload["data"]["events"].clone();
        assert!(event.is_object(), "an event: {payload}");
        events.push((event["id"].as_str().unwrap().to_owned(), event));
    }
    events
}

async fn subscribers_filtered_on_a_source_receive_its_events_only(backend: Backend) {
    const ECHOED: &str = "echoed-credential-in-a-subscription";
    let app = spawn_app_with(backend, with_keys).await;
    let start = stored_id(app.post_canopy(signed_fixture("account_create")).await).await;
    let mut funding = subscribed(&app, READ_KEY, json!(["EMBEDDED_FUNDING"]), start).await;
    let mut loanpro = subscribed(&app, ADMIN_KEY, json!(["LOANPRO"]), start).await;

    let loanpro_body = |trace: &str| {
        json!({"eventName": "Payment Made", "context": {"loan-id": 7}, "trace": trace,
               "auth": ECHOED, "attemptNumber": 1})
        .to_string()
    };
    let mut posted = Vec::new();
    posted.push((
        "L",
        stored_id(post_json(&app, &loanpro_body("t-1")).await).await,
    ));
    let ef = post_callback(&app, &[], &fixture("0_credit_limit_updated")).await;
    posted.push(("E", stored_id(ef).await));
    assert_eq!(
        app.post_canopy(signed_fixture("account_update"))
            .await
            .status()
            .as_u16(),
        202
    );
    let ef = post_callback(&app, &[], &fixture("4_loan_payment_registered")).await;
    posted.push(("E", stored_id(ef).await));
    posted.push((
        "L",
        stored_id(post_json(&app, &loanpro_body("t-2")).await).await,
    ));

    let ids = |source: &str| -> Vec<String> {
        posted
            .iter()
            .filter(|(s, _)| *s == source)
            .map(|(_, id)| api::ids::event_id(*id))
            .collect()
    };
    let got = next_events(&mut funding, 2).await;
    assert_eq!(
        got.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(),
        ids("E")
    );
    assert_eq!(got[0].1["type"], "CreditLimitUpdated");
    assert_eq!(got[1].1["source"], "EMBEDDED_FUNDING");
    let got = next_events(&mut loanpro, 2).await;
    assert_eq!(
        got.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(),
        ids("L")
    );
    assert_eq!(
        (&got[0].1["type"], &got[0].1["accountId"]),
        (&json!("Payment Made"), &json!("7"))
    );
    // Not even an admin's subscription carries LoanPro's echoed credential.
    assert!(
        got.iter()
            .all(|(_, e)| !e.to_string().contains(ECHOED) && e["payload"]["auth"] == "*****")
    );

    // Nothing of another source came between: the next ones are these.
    let last =
        stored_id(post_callback(&app, &[], &fixture("2_credit_balance_updated")).await).await;
    assert_eq!(
        next_events(&mut funding, 1).await[0].0,
        api::ids::event_id(last)
    );
    let last = stored_id(post_json(&app, &loanpro_body("t-3")).await).await;
    assert_eq!(
        next_events(&mut loanpro, 1).await[0].0,
        api::ids::event_id(last)
    );
}
