//! `POST /callbacks/embedded-funding`: the caller's address, the optional
//! token, message codes and their names.
use serde_json::{Value, json};

use crate::{
    embedded_funding_mock::{COMPANY, callback},
    graphql_support::{READ_KEY, gql, with_keys},
    helpers::{Backend, TestApp, error_code, fixture_text, spawn_app_with, stored_id},
    on_both_backends,
};

on_both_backends!(
    the_fixtures_are_stored_with_their_message_names,
    callers_outside_the_allowlist_are_refused_and_recorded,
    a_trusted_proxy_forwards_the_caller_and_a_spoofed_header_is_ignored,
    the_callback_token_is_required_once_configured,
    identical_callbacks_are_two_events_unless_an_idempotency_key_says_otherwise,
);

pub const PATH: &str = "/callbacks/embedded-funding";

pub async fn post_callback(
    app: &TestApp,
    headers: &[(&str, &str)],
    body: &str,
) -> reqwest::Response {
    let mut headers = headers.to_vec();
    headers.push(("content-type", "application/json"));
    app.post(PATH, &headers, body.to_owned()).await
}

pub const FIXTURES: [(&str, &str); 5] = [
    ("0_credit_limit_updated", "CreditLimitUpdated"),
    (
        "1_withdrawal_request_status_changed",
        "WithdrawalRequestStatusChanged",
    ),
    ("2_credit_balance_updated", "CreditBalanceUpdated"),
    (
        "3_limit_request_status_changed",
        "LimitRequestStatusChanged",
    ),
    ("4_loan_payment_registered", "LoanPaymentRegistered"),
];

pub fn fixture(name: &str) -> String {
    fixture_text("embedded-funding", &format!("{name}.json"))
}

async fn the_fixtures_are_stored_with_their_message_names(backend: Backend) {
    let app = spawn_app_with(backend, with_keys).await;
    for (name, type_name) in FIXTURES {
        let response = post_callback(&app, &[], &fixture(name)).await;
        assert_eq!(response.status().as_u16(), 202, "{name}");
        let event = app.event(stored_id(response).await).await;
        assert_eq!(
            (
                event.source.as_str(),
                event.event_type.as_str(),
                event.account_id.as_deref()
            ),
            ("embedded_funding", type_name, Some(COMPANY))
        );
        assert_eq!(event.payload, fixture(name), "{name} kept byte for byte");
    }
    // Codes past the documented ones are kept under their number.
    for (message, type_name) in [(9, "Unknown(9)"), (-1, "Unknown(-1)")] {
        let response = post_callback(&app, &[], &callback(message, json!({}))).await;
        assert_eq!(response.status().as_u16(), 202);
        assert_eq!(
            app.event(stored_id(response).await).await.event_type,
            type_name
        );
    }
    // Without EMBEDDED_FUNDING_API_URL nothing is owed.
    let listed = gql(
        &app,
        Some(READ_KEY),
        "{ events(filter: {sources: [EMBEDDED_FUNDING]}) { edges { node {
            type accountId followUp followUpStatus { state } } } } }",
        json!({}),
    )
    .await;
    let edges = listed.data()["events"]["edges"].as_array().unwrap().clone();
    assert_eq!(edges.len(), 7);
    assert_eq!(edges[0]["node"]["type"], "Unknown(-1)");
    assert!(edges.iter().all(|e| e["node"]["followUpStatus"].is_null()));

    for body in [
        r#"{"message": "0", "companyId": "c"}"#,
        r#"{"message": 1.5, "companyId": "c"}"#,
        r#"{"companyId": "c"}"#,
        r#"[{"message": 0}]"#,
        "message=0",
        r#"{"message": 0, "companyId": ["c"]}"#,
    ] {
        let response = post_callback(&app, &[], body).await;
        assert_eq!(
            error_code(response).await,
            (400, "INVALID_BODY".to_owned()),
            "{body}"
        );
    }
    assert_eq!(app.rejections().await.len(), 6);
}

async fn callers_outside_the_allowlist_are_refused_and_recorded(backend: Backend) {
    let elsewhere = spawn_app_with(backend, |config| {
        config.sources.embedded_funding.allowed_ips = vec![
            "10.0.0.0/8".parse().unwrap(),
            "20.82.192.194/32".parse().unwrap(),
        ];
    })
    .await;
    let response = post_callback(&elsewhere, &[], &fixture("0_credit_limit_updated")).await;
    assert_eq!(
        error_code(response).await,
        (401, "IP_NOT_ALLOWED".to_owned())
    );
    let recorded = elsewhere.rejections().await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(
        (
            recorded[0].source.as_str(),
            recorded[0].status,
            recorded[0].remote_addr.as_deref()
        ),
        ("embedded_funding", 401, Some("127.0.0.1"))
    );
    assert_eq!(
        recorded[0].body_sha256, "",
        "refused before its body was read"
    );
    assert!(elsewhere.events().await.is_empty());

    // A CIDR holding the caller admits it.
    let cidr = spawn_app_with(backend, |config| {
        config.sources.embedded_funding.allowed_ips = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let response = post_callback(&cidr, &[], &fixture("0_credit_limit_updated")).await;
    assert_eq!(response.status().as_u16(), 202);
}

async fn a_trusted_proxy_forwards_the_caller_and_a_spoofed_header_is_ignored(backend: Backend) {
    const EMBEDDED_FUNDING: &str = "20.82.192.194";
    let allow_documented = |config: &mut api::config::Config| {
        config.sources.embedded_funding.allowed_ips =
            vec![format!("{EMBEDDED_FUNDING}/32").parse().unwrap()];
    };
    // The test's connection comes from 127.0.0.1: a proxy of ours here.
    let behind_proxy = spawn_app_with(backend, |config| {
        allow_documented(config);
        config.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let body = fixture("1_withdrawal_request_status_changed");
    let forwarded = [("x-forwarded-for", "198.51.100.7, 20.82.192.194")];
    assert_eq!(
        post_callback(&behind_proxy, &forwarded, &body)
            .await
            .status()
            .as_u16(),
        202
    );
    let other_client = [("x-forwarded-for", "20.82.192.194, 203.0.113.5")];
    let response = post_callback(&behind_proxy, &other_client, &body).await;
    assert_eq!(
        error_code(response).await,
        (401, "IP_NOT_ALLOWED".to_owned())
    );
    let recorded = behind_proxy.rejections().await;
    assert_eq!(recorded[0].remote_addr.as_deref(), Some("203.0.113.5"));

    // From a peer we do not trust, the header is its own words: ignored.
    let direct = spawn_app_with(backend, allow_documented).await;
    let spoofed = [("x-forwarded-for", EMBEDDED_FUNDING)];
    let response = post_callback(&direct, &spoofed, &body).await;
    assert_eq!(
        error_code(response).await,
        (401, "IP_NOT_ALLOWED".to_owned())
    );
    let recorded = direct.rejections().await;
    assert_eq!(recorded[0].remote_addr.as_deref(), Some("127.0.0.1"));
    assert!(direct.events().await.is_empty());
}

async fn the_callback_token_is_required_once_configured(backend: Backend) {
    let app = spawn_app_with(backend, |config| {
        config.sources.embedded_funding.callback_token =
            Some(api::secret::Secret::new("cb token/1"));
    })
    .await;
    let body = fixture("3_limit_request_status_changed");
    let post_to = |query: &'static str| {
        let (app, body) = (&app, body.clone());
        async move {
            app.post(
                &format!("{PATH}{query}"),
                &[("content-type", "application/json")],
                body,
            )
            .await
        }
    };
    for query in [
        "",
        "?token=",
        "?token=cb+token",
        "?tok=cb+token%2F1",
        "?token=CB+TOKEN%2F1",
    ] {
        assert_eq!(
            error_code(post_to(query).await).await,
            (401, "INVALID_TOKEN".to_owned()),
            "{query:?}"
        );
    }
    assert_eq!(post_to("?token=cb+token%2F1").await.status().as_u16(), 202);
    assert_eq!(
        post_to("?a=1&token=cb%20token/1").await.status().as_u16(),
        202
    );
    let recorded = app.rejections().await;
    assert_eq!(recorded.len(), 5);
    assert!(recorded.iter().all(|r| r.reason == "INVALID_TOKEN"));

    // The address is checked first, whatever the token.
    let elsewhere = spawn_app_with(backend, |config| {
        config.sources.embedded_funding.allowed_ips = vec!["10.0.0.0/8".parse().unwrap()];
        config.sources.embedded_funding.callback_token = Some(api::secret::Secret::new("t"));
    })
    .await;
    let response = elsewhere
        .post(&format!("{PATH}?token=t"), &[], body.clone())
        .await;
    assert_eq!(
        error_code(response).await,
        (401, "IP_NOT_ALLOWED".to_owned())
    );
}

async fn identical_callbacks_are_two_events_unless_an_idempotency_key_says_otherwise(
    backend: Backend,
) {
    let app = spawn_app_with(backend, with_keys).await;
    let body = fixture("1_withdrawal_request_status_changed");
    // A status that changed twice sends the same callback twice.
    let first = stored_id(post_callback(&app, &[], &body).await).await;
    let second = stored_id(post_callback(&app, &[], &body).await).await;
    assert_ne!(first, second);
    let keyed = [("idempotency-key", "ef-delivery-7")];
    let third = post_callback(&app, &keyed, &body).await;
    assert_eq!(third.status().as_u16(), 202);
    let third = stored_id(third).await;
    let again = post_callback(&app, &keyed, &body).await;
    assert_eq!(again.status().as_u16(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], api::ids::event_id(third));
    assert_eq!(app.event(third).await.deliveries, 2);
    assert_eq!(app.events().await.len(), 3);
}
