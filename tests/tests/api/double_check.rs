//! Canopy's double-check (seed 000, `CANOPY_DOUBLE_CHECK`): a listed event
//! is confirmed with `GET /accounts/{id}` after it is stored, through the
//! follow-up queue, and the account is updated from Canopy's answer.
use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{header, method, path},
};

use crate::{
    canopy_mock::{TOKEN, canopy_api, quick_timing, received, token_mock},
    graphql_support::{PII_KEY, READ_KEY, gql, with_keys},
    helpers::{Backend, TestApp, canopy_fixture, signed_fixture, spawn_app_with, stored_id},
    on_both_backends,
};

on_both_backends!(a_listed_event_is_confirmed_with_canopys_account_and_others_are_not);

const ACCOUNT: &str = "can_100030";

async fn spawn_double_checking(backend: Backend) -> (TestApp, MockServer) {
    let canopy = MockServer::start().await;
    token_mock(TOKEN, 3600).mount(&canopy).await;
    let api = canopy_api(&canopy, quick_timing());
    let app = spawn_app_with(backend, |config| {
        with_keys(config);
        config.canopy_api = Some(api);
        config.sources.canopy.double_check = vec![
            "account_delinquency".into(),
            "minimum_payment_missed".into(),
        ];
    })
    .await;
    (app, canopy)
}

async fn a_listed_event_is_confirmed_with_canopys_account_and_others_are_not(backend: Backend) {
    let (app, canopy) = spawn_double_checking(backend).await;
    let mut object = canopy_fixture("account_update")["data"]["object"].clone();
    object["account_id"] = json!(ACCOUNT);
    object["account_overview"]["account_status"] = json!("DELINQUENT");
    object["summary"]["credit_limit_cents"] = json!(123_400);
    Mock::given(method("GET"))
        .and(path(format!("/accounts/{ACCOUNT}")))
        .and(header("authorization", format!("Bearer {TOKEN}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(&object))
        .expect(1)
        .mount(&canopy)
        .await;

    let body = signed_fixture("account_delinquency");
    let response = app.post_canopy(body.clone()).await;
    assert_eq!(response.status().as_u16(), 202);
    let id = stored_id(response).await;
    // A duplicate owes nothing more.
    assert_eq!(app.post_canopy(body).await.status().as_u16(), 200);
    let job = app.settled_follow_up(id).await;
    assert_eq!((job.state.as_str(), job.attempts), ("done", 1));

    // The account, from the webhook and then from Canopy's own object.
    let account = app.account(ACCOUNT).await;
    assert_eq!(account.status.as_deref(), Some("DELINQUENT"));
    assert_eq!(account.credit_limit_cents, Some(123_400));
    assert!(
        account.delinquent_as_of.is_some(),
        "the webhook's own field is kept"
    );
    let snapshot: Value = serde_json::from_str(account.snapshot.as_deref().unwrap()).unwrap();
    assert_eq!(snapshot, object);

    let query = "query($id: ID!) { event(id: $id) { followUp followUpStatus { state } } }";
    let vars = json!({"id": api::ids::event_id(id)});
    let pii = gql(&app, Some(PII_KEY), query, vars.clone()).await;
    let event = &pii.data()["event"];
    assert_eq!(event["followUpStatus"]["state"], "DONE");
    assert_eq!(event["followUp"]["account"], object);
    let fetched = event["followUp"]["fetchedAt"].as_str().unwrap();
    assert!(fetched.parse::<chrono::DateTime<chrono::Utc>>().unwrap() >= job.created_at);
    let read = gql(&app, Some(READ_KEY), query, vars).await;
    let ssn = &read.data()["event"]["followUp"]["account"]["customers"][0]["ssn"];
    assert_eq!(ssn, "*****7778");

    // An event not in the list: stored, and nothing asked of Canopy.
    let other = app.post_canopy(signed_fixture("payment_due_date")).await;
    assert_eq!(other.status().as_u16(), 202);
    let other = stored_id(other).await;
    let status = gql(
        &app,
        Some(READ_KEY),
        query,
        json!({"id": api::ids::event_id(other)}),
    )
    .await;
    assert_eq!(status.data()["event"]["followUpStatus"], Value::Null);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        received(&canopy).await,
        ["POST /auth/token", &format!("GET /accounts/{ACCOUNT}")]
    );
}
