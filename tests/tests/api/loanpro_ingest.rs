//! `POST /webhooks/loanpro`: tokens, bodies of any kind kept as sent,
//! dedup by `trace`, and LoanPro's echoed credential never shown.
use serde_json::{Value, json};

use crate::{
    graphql_support::{ADMIN_KEY, PII_KEY, READ_KEY, gql, with_keys},
    helpers::{
        Backend, LOANPRO_TOKEN, TestApp, error_code, fixture_text, signed, spawn_app_with,
        stored_id,
    },
    on_both_backends,
};

on_both_backends!(
    the_fixtures_are_stored_with_their_names_loans_and_traces,
    a_retry_with_the_same_trace_is_one_event_delivered_twice,
    bodies_that_are_not_json_read_back_exactly_with_their_content_type,
    the_echoed_auth_never_appears_in_any_graphql_answer,
    wrong_or_missing_tokens_are_refused_and_recorded,
    without_tokens_every_delivery_is_refused,
    a_loan_is_no_canopy_account_whatever_its_id,
);

pub const PATH: &str = "/webhooks/loanpro";
const BEARER: &str = "Bearer loanpro-test-token";

/// A JSON body with the token in `Authorization: Bearer`.
pub async fn post_json(app: &TestApp, body: &str) -> reqwest::Response {
    let headers = [
        ("authorization", BEARER),
        ("content-type", "application/json"),
    ];
    app.post(PATH, &headers, body.to_owned()).await
}

const EVENT: &str = "query($id: ID!) { event(id: $id) {
    id source type accountId payload contentType deliveries followUp followUpStatus { state }
} }";

async fn event_as(app: &TestApp, key: &str, id: i64) -> Value {
    let id = api::ids::event_id(id);
    gql(app, Some(key), EVENT, json!({"id": id})).await.data()["event"].clone()
}

fn variables_fixture() -> String {
    fixture_text("loanpro", "loan_5_days_past_due.json")
}

async fn the_fixtures_are_stored_with_their_names_loans_and_traces(backend: Backend) {
    let app = spawn_app_with(backend, with_keys).await;
    let variables = post_json(&app, &variables_fixture()).await;
    assert_eq!(variables.status().as_u16(), 202);
    let variables = stored_id(variables).await;
    // The other header LoanPro's connections can carry the token in.
    let custom_text = fixture_text("loanpro", "custom_body_note.json");
    let headers = [
        ("x-webhook-token", LOANPRO_TOKEN),
        ("content-type", "application/json"),
    ];
    let custom = app.post(PATH, &headers, custom_text.clone()).await;
    assert_eq!(custom.status().as_u16(), 202);
    let custom = stored_id(custom).await;

    let event = event_as(&app, PII_KEY, variables).await;
    assert_eq!(event["source"], "LOANPRO");
    assert_eq!(event["type"], "Customer's Loan is 5 Days Past Due");
    assert_eq!(
        event["accountId"], "3579",
        "context.loan-id, a number, as text"
    );
    assert_eq!(event["contentType"], "application/json");
    assert_eq!(
        (&event["followUp"], &event["followUpStatus"]),
        (&Value::Null, &Value::Null)
    );
    let mut sent: Value = serde_json::from_str(&variables_fixture()).unwrap();
    sent["auth"] = json!("*****");
    assert_eq!(event["payload"], sent);
    // `context` as LoanPro sent it, numbers written as they were.
    let stored = app.event(variables).await.payload;
    assert!(
        stored.contains(r#""status-amount-due": 158.70,"#),
        "{stored}"
    );

    let event = event_as(&app, PII_KEY, custom).await;
    assert_eq!(
        (event["type"].as_str(), &event["accountId"]),
        (Some("custom"), &Value::Null)
    );
    assert_eq!(
        app.event(custom).await.payload,
        custom_text,
        "custom JSON byte for byte"
    );

    // `full-name` is PII (contract section 3), masked for `read`.
    let name = "/payload/context/customer/primary/full-name";
    let read = event_as(&app, READ_KEY, variables).await;
    assert_eq!(read.pointer(name), Some(&json!("*****")));
    let pii = event_as(&app, PII_KEY, variables).await;
    assert_eq!(pii.pointer(name), Some(&json!("Douglas McCallagher")));

    // Listed under its source only.
    let list = "query($sources: [EventSource!]) { events(filter: {sources: $sources}) {
        edges { node { id type } } } }";
    let listed = |sources: Value| {
        let app = &app;
        async move {
            let response = gql(app, Some(READ_KEY), list, json!({"sources": sources})).await;
            response.data()["events"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["type"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        listed(json!(["LOANPRO"])).await,
        ["custom", "Customer's Loan is 5 Days Past Due"]
    );
    assert!(
        listed(json!(["CANOPY", "EMBEDDED_FUNDING"]))
            .await
            .is_empty()
    );
    assert!(app.rejections().await.is_empty());
}

async fn a_retry_with_the_same_trace_is_one_event_delivered_twice(backend: Backend) {
    let app = spawn_app_with(backend, with_keys).await;
    let first = post_json(&app, &variables_fixture()).await;
    assert_eq!(first.status().as_u16(), 202);
    let id = stored_id(first).await;
    // LoanPro's retry: the same trace, the attempt counted up.
    let mut retry: Value = serde_json::from_str(&variables_fixture()).unwrap();
    retry["attemptNumber"] = json!(2);
    let again = post_json(&app, &retry.to_string()).await;
    assert_eq!(again.status().as_u16(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(
        again,
        json!({"id": api::ids::event_id(id), "duplicate": true})
    );
    let events = app.events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].deliveries, 2);
    assert_eq!(event_as(&app, READ_KEY, id).await["deliveries"], 2);

    // Another trace is another event.
    retry["trace"] = json!("another-trace");
    assert_eq!(
        post_json(&app, &retry.to_string()).await.status().as_u16(),
        202
    );
    // Without a trace, an Idempotency-Key recognizes a custom body's retry…
    let keyed = |key: &'static str| {
        let app = &app;
        async move {
            let headers = [("authorization", BEARER), ("idempotency-key", key)];
            app.post(PATH, &headers, "note: late payment")
                .await
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        (keyed("k-1").await, keyed("k-1").await, keyed("k-2").await),
        (202, 200, 202)
    );
    // …and without either, each delivery is an event.
    let plain = [("authorization", BEARER)];
    for _ in 0..2 {
        assert_eq!(app.post(PATH, &plain, "note").await.status().as_u16(), 202);
    }
    assert_eq!(app.events().await.len(), 6);
}

async fn bodies_that_are_not_json_read_back_exactly_with_their_content_type(backend: Backend) {
    let app = spawn_app_with(backend, with_keys).await;
    let bodies = [
        (
            "text/plain; charset=utf-8",
            "Loan 3579 is 5 days past due.\n  Balance: $158.70 é",
        ),
        (
            "application/xml",
            "<?xml version=\"1.0\"?>\n<loan id=\"3579\"><status>Open</status><note>a &amp; b</note></loan>",
        ),
        (
            "application/x-www-form-urlencoded",
            "loan-id=3579&status=Open&note=a%26b+c",
        ),
        ("text/plain", "{\"looks\": \"like JSON\"}"),
    ];
    for (content_type, body) in bodies {
        let headers = [("authorization", BEARER), ("content-type", content_type)];
        let response = app.post(PATH, &headers, body).await;
        assert_eq!(response.status().as_u16(), 202, "{content_type}");
        let event = event_as(&app, PII_KEY, stored_id(response).await).await;
        assert_eq!(event["payload"], json!(body), "{content_type}");
        assert_eq!(event["contentType"], content_type);
        assert_eq!(event["type"], "custom");
    }
    // An empty `context` is a list in LoanPro's payloads; kept so.
    let empty = r#"{"eventName": "Loan Closed", "context": [], "trace": "t-empty", "auth": "", "attemptNumber": 1}"#;
    let response = post_json(&app, empty).await;
    assert_eq!(response.status().as_u16(), 202);
    let id = stored_id(response).await;
    let event = event_as(&app, READ_KEY, id).await;
    assert_eq!(event["payload"]["context"], json!([]));
    assert_eq!(event["accountId"], Value::Null);
    assert!(app.event(id).await.payload.contains(r#""context": [],"#));
    // What cannot be kept as text is refused, not altered.
    let binary = app
        .post(PATH, &[("authorization", BEARER)], vec![0xff, 0xfe, 0x00])
        .await;
    assert_eq!(error_code(binary).await, (400, "INVALID_BODY".to_owned()));
}

async fn the_echoed_auth_never_appears_in_any_graphql_answer(backend: Backend) {
    const ECHOED: &str = "echoed-LoanPro-credential-9f3a";
    let app = spawn_app_with(backend, with_keys).await;
    let mut body: Value = serde_json::from_str(&variables_fixture()).unwrap();
    body["auth"] = json!(ECHOED);
    let id = stored_id(post_json(&app, &body.to_string()).await).await;
    // Twice, and pretty-printed: every top-level `auth` goes.
    let twice = format!(
        "{{\n  \"auth\": \"{ECHOED}\",\n  \"eventName\": \"x\",\n  \"trace\": \"t-2\",\n  \"auth\": \"{ECHOED}\"\n}}"
    );
    let second = stored_id(post_json(&app, &twice).await).await;
    assert!(
        !app.event(id).await.payload.contains(ECHOED),
        "never stored"
    );
    assert!(!app.event(second).await.payload.contains(ECHOED));

    let queries = [
        (
            "query($id: ID!) { event(id: $id) { payload followUp } }",
            json!({"id": api::ids::event_id(id)}),
        ),
        ("{ events { edges { node { payload } } } }", json!({})),
        (
            "{ events(filter: {sources: [LOANPRO]}) { edges { node { payload } } } }",
            json!({}),
        ),
    ];
    for key in [READ_KEY, PII_KEY, ADMIN_KEY] {
        for (query, variables) in &queries {
            let answer = gql(&app, Some(key), query, variables.clone()).await;
            answer.data();
            assert!(!answer.text.contains(ECHOED), "{key}: {}", answer.text);
        }
        let event = event_as(&app, key, id).await;
        assert_eq!(event["payload"]["auth"], "*****", "{key}");
        assert_eq!(event["payload"]["trace"], body["trace"], "the rest is kept");
    }
}

async fn wrong_or_missing_tokens_are_refused_and_recorded(backend: Backend) {
    let app = spawn_app_with(backend, |config| {
        config.sources.loanpro.webhook_tokens = ["new-token", "old-token"]
            .into_iter()
            .map(api::secret::Secret::new)
            .collect();
    })
    .await;
    let body = variables_fixture();
    for headers in [
        vec![],
        vec![("authorization", "Bearer wrong-token")],
        vec![("authorization", "Basic bmV3LXRva2Vu")],
        vec![("authorization", "Bearer new-token-and-more")],
        vec![("x-webhook-token", "old-toke")],
        vec![("authorization", "Bearer ")],
    ] {
        let response = app.post(PATH, &headers, body.clone()).await;
        assert_eq!(
            error_code(response).await,
            (401, "INVALID_TOKEN".to_owned()),
            "{headers:?}"
        );
    }
    // Rotation: either token, in either header (scheme in any case).
    let mut retry: Value = serde_json::from_str(&body).unwrap();
    for (n, headers) in [
        [("authorization", "Bearer new-token")],
        [("authorization", "bearer old-token")],
        [("x-webhook-token", "old-token")],
    ]
    .into_iter()
    .enumerate()
    {
        retry["trace"] = json!(format!("trace-{n}"));
        let status = app
            .post(PATH, &headers, retry.to_string())
            .await
            .status()
            .as_u16();
        assert_eq!(status, 202, "{headers:?}");
    }
    let recorded = app.rejections().await;
    assert_eq!(recorded.len(), 6);
    for rejection in &recorded {
        assert_eq!(
            (
                rejection.source.as_str(),
                rejection.reason.as_str(),
                rejection.status
            ),
            ("loanpro", "INVALID_TOKEN", 401)
        );
        assert_eq!(rejection.remote_addr.as_deref(), Some("127.0.0.1"));
        // Refused from its head: the body was never read.
        assert_eq!(rejection.body_sha256, "");
    }
    assert_eq!(app.events().await.len(), 3);
}

async fn without_tokens_every_delivery_is_refused(backend: Backend) {
    let app = spawn_app_with(backend, |config| {
        config.sources.loanpro.webhook_tokens.clear();
    })
    .await;
    for headers in [vec![], vec![("authorization", BEARER)]] {
        let response = app.post(PATH, &headers, variables_fixture()).await;
        assert_eq!(
            error_code(response).await,
            (401, "SOURCE_NOT_CONFIGURED".to_owned())
        );
    }
    let recorded = app.rejections().await;
    assert_eq!(recorded.len(), 2);
    assert!(recorded.iter().all(|r| r.reason == "SOURCE_NOT_CONFIGURED"));
    assert!(app.events().await.is_empty());
}

async fn a_loan_is_no_canopy_account_whatever_its_id(backend: Backend) {
    let app = spawn_app_with(backend, with_keys).await;
    // A Canopy account with the id of the fixture's loan.
    let canopy = signed(
        "account_calculations_change",
        json!({"account_id": "3579", "available_credit_cents": 5}),
    );
    assert_eq!(app.post_canopy(canopy).await.status().as_u16(), 202);
    let loan = stored_id(post_json(&app, &variables_fixture()).await).await;
    let query = "query($id: ID!) {
        event(id: $id) { accountId account { id } }
        account(id: \"3579\") { availableCreditCents events { edges { node { source } } } }
    }";
    let answer = gql(
        &app,
        Some(READ_KEY),
        query,
        json!({"id": api::ids::event_id(loan)}),
    )
    .await;
    let data = answer.data();
    assert_eq!(data["event"], json!({"accountId": "3579", "account": null}));
    assert_eq!(
        data["account"],
        json!({"availableCreditCents": 5, "events": {"edges": [{"node": {"source": "CANOPY"}}]}})
    );
}
