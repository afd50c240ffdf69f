//! The `gateway` process's logs at their most verbose (`RUST_LOG=debug`,
//! the gateway's own crate at trace, JSON lines) while every fixture is
//! ingested, deliveries are refused, GraphQL is queried and subscribed to,
//! follow-ups read provider APIs and mutations reach a mock Canopy: no line
//! holds a PII value of the fixtures, a secret, a token or a key; every
//! line is one JSON object; a request's lines carry its request id.
use std::{collections::BTreeSet, path::Path, time::Duration};

use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path, path_regex},
};

use crate::{
    helpers::{
        FIXTURES, canopy_fixture, canopy_fixture_names, fixture_text, install_crypto, signed_with,
    },
    process::GatewayProcess,
    ws::{Protocol, WsClient},
};

const WEBHOOK_SECRET: &str = "canopy-webhook-secret-L0G5-3c9d";
const WRONG_SECRET: &str = "someone-elses-secret-L0G5-8e21";
const LOANPRO_TOKEN: &str = "loanpro-token-L0G5-2a6f";
const WRONG_LOANPRO_TOKEN: &str = "loanpro-guessed-token-L0G5-77b0";
const ECHOED_AUTH: &str = "loanpro-echoed-auth-L0G5-d41c";
const CALLBACK_TOKEN: &str = "ef-callback-token-L0G5-0b7e";
const WRONG_CALLBACK_TOKEN: &str = "ef-guessed-token-L0G5-19aa";
const EF_API_KEY: &str = "ef-api-key-L0G5-55d1";
const CLIENT_ID: &str = "canopy-client-id-L0G5";
const CLIENT_SECRET: &str = "canopy-client-secret-L0G5-7f3a";
const BEARER: &str = "canopy-bearer-token-L0G5-91c2";
const ADMIN_KEY: &str = "admin-key-L0G5-5e0c0ffee";
const READ_KEY: &str = "read-key-L0G5-beadfeed";
const WRONG_KEY: &str = "guessed-api-key-L0G5-0000";
/// A caller's own request id, honoured and echoed.
const CALLERS_ID: &str = "caller-chosen-id-42";

/// The contract's PII keys (section 3), compared lowercase with `-` as `_`.
pub const PII_KEYS: &[&str] = &[
    "ssn",
    "irs_tin",
    "business_ein",
    "date_of_birth",
    "bank_account_number",
    "bank_routing_number",
    "email",
    "phone_number",
    "passport",
    "name_first",
    "name_middle",
    "name_last",
    "full_name",
    "address_line_one",
    "address_line_two",
];

/// Every fixture file: (folder, name, text).
fn fixtures() -> Vec<(String, String, String)> {
    let mut all = Vec::new();
    for folder in ["canopy", "loanpro", "embedded-funding"] {
        let mut names: Vec<String> = std::fs::read_dir(Path::new(FIXTURES).join(folder))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            let text = fixture_text(folder, &name);
            all.push((folder.to_owned(), name, text));
        }
    }
    all
}

/// The values under PII keys anywhere in `value`, as text (each scalar of
/// an object or array under such a key too).
fn pii_values(value: &Value, under_pii: bool, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                let key = key.to_ascii_lowercase().replace('-', "_");
                pii_values(field, under_pii || PII_KEYS.contains(&key.as_str()), found);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| pii_values(item, under_pii, found)),
        Value::String(text) if under_pii => {
            found.insert(text.clone());
        }
        Value::Number(number) if under_pii => {
            found.insert(number.to_string());
        }
        _ => {}
    }
}

async fn post(url: String, headers: &[(&str, &str)], body: String) -> reqwest::Response {
    let mut request = reqwest::Client::new().post(url).body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("answered")
}

async fn gql(gateway: &GatewayProcess, key: &str, query: &str, variables: Value) -> Value {
    let response = reqwest::Client::new()
        .post(gateway.url("/graphql"))
        .bearer_auth(key)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .unwrap();
    response.json().await.unwrap()
}

/// Returns once the gateway counts one open subscription.
async fn subscribed(gateway: &GatewayProcess) {
    for _ in 0..100 {
        let metrics = reqwest::get(gateway.url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if metrics.lines().any(|line| line == "gateway_subscribers 1") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the subscription never started");
}

/// A mock Canopy issuing [`BEARER`] and answering the gateway's calls.
async fn mock_canopy(account: &Value) -> MockServer {
    let canopy = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/auth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": BEARER, "expires_in": 3600, "token_type": "Bearer"
        })))
        .mount(&canopy)
        .await;
    Mock::given(method("GET"))
        .and(path_regex("^/accounts/[^/]+$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(account))
        .mount(&canopy)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&canopy)
        .await;
    canopy
}

/// A mock Embedded Funding API answering every read with `body`.
async fn mock_embedded_funding(body: &Value) -> MockServer {
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&api)
        .await;
    api
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_log_line_holds_pii_secrets_tokens_or_keys_and_each_names_its_request() {
    install_crypto();
    let fixtures = fixtures();
    let mut pii = BTreeSet::new();
    for (_, _, text) in &fixtures {
        pii_values(&serde_json::from_str(text).unwrap(), false, &mut pii);
    }
    // What the provider APIs answer carries PII too.
    let account = canopy_fixture("account_update")["data"]["object"].clone();
    let company = json!({"status": "ACTIVE", "owner": {"email": "owner.l0g5@example.com",
                         "phone_number": "+1 555 0100 4242", "full_name": "Ada L0g5 Lovelace"}});
    pii_values(&account, false, &mut pii);
    pii_values(&company, false, &mut pii);
    // Short values would match anywhere (none of the fixtures' PII is that
    // short), and `line_item_update` has the documents' placeholder
    // `"phone_number": "string"`, a word log messages may use.
    pii.retain(|value| value.len() >= 4 && value != "string");
    assert!(pii.len() >= 10, "the fixtures carry PII: {pii:?}");
    assert!(
        pii.contains("Douglas McCallagher"),
        "LoanPro's full-name: {pii:?}"
    );

    let canopy = mock_canopy(&account).await;
    let embedded_funding = mock_embedded_funding(&company).await;
    let (canopy_url, ef_url) = (canopy.uri(), embedded_funding.uri());
    let keys = format!("{ADMIN_KEY}:admin,{READ_KEY}:read");
    let gateway = GatewayProcess::start(&[
        ("RUST_LOG", "debug,api=trace"),
        ("GATEWAY_API_KEYS", &keys),
        ("CANOPY_WEBHOOK_SECRETS", WEBHOOK_SECRET),
        ("CANOPY_API_URL", &canopy_url),
        ("CANOPY_CLIENT_ID", CLIENT_ID),
        ("CANOPY_CLIENT_SECRET", CLIENT_SECRET),
        ("CANOPY_DOUBLE_CHECK", "account_delinquency"),
        ("LOANPRO_WEBHOOK_TOKENS", LOANPRO_TOKEN),
        ("EMBEDDED_FUNDING_ALLOWED_IPS", "127.0.0.1"),
        ("EMBEDDED_FUNDING_CALLBACK_TOKEN", CALLBACK_TOKEN),
        ("EMBEDDED_FUNDING_API_URL", &ef_url),
        ("EMBEDDED_FUNDING_API_KEY", EF_API_KEY),
        ("TRUSTED_PROXIES", "127.0.0.1/32"),
    ])
    .await;

    // A subscriber, signed in through connection_init.
    let mut ws = WsClient::connect(
        gateway.addr,
        Protocol::TransportWs,
        json!({"Authorization": format!("Bearer {READ_KEY}")}),
    )
    .await
    .expect("the read key signs in");
    ws.subscribe("live", "subscription { events { id payload } }", json!({}))
        .await;
    subscribed(&gateway).await;

    // Every fixture through its endpoint.
    let canopy_path = gateway.url("/webhooks/canopy");
    let loanpro_path = gateway.url("/webhooks/loanpro");
    let callback_path = gateway.url(&format!(
        "/callbacks/embedded-funding?token={CALLBACK_TOKEN}"
    ));
    let json_body = [("content-type", "application/json")];
    let bearer = format!("Bearer {LOANPRO_TOKEN}");
    let loanpro_token = [
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
    ];
    let mut stored = 0;
    for (folder, name, text) in &fixtures {
        let response = match folder.as_str() {
            "canopy" => {
                let fixture: Value = serde_json::from_str(text).unwrap();
                let event = fixture["event"].as_str().unwrap();
                let body = signed_with(WEBHOOK_SECRET, event, fixture["data"].clone());
                post(canopy_path.clone(), &json_body, body).await
            }
            "loanpro" => {
                let mut body: Value = serde_json::from_str(text).unwrap();
                if body.get("auth").is_some() {
                    body["auth"] = json!(ECHOED_AUTH);
                }
                post(loanpro_path.clone(), &loanpro_token, body.to_string()).await
            }
            _ => post(callback_path.clone(), &json_body, text.clone()).await,
        };
        assert_eq!(response.status(), 202, "{folder}/{name}");
        stored += 1;
    }
    assert_eq!(stored, canopy_fixture_names().len() + 2 + 5);

    // Refusals: a wrong signature, wrong tokens, a caller not allowed.
    let update = canopy_fixture("account_update");
    let wrongly_signed = signed_with(WRONG_SECRET, "account_update", update["data"].clone());
    let with_callers_id = [
        ("content-type", "application/json"),
        ("x-request-id", CALLERS_ID),
    ];
    let refused = post(canopy_path.clone(), &with_callers_id, wrongly_signed).await;
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.headers()["x-request-id"],
        CALLERS_ID,
        "the caller's id is echoed"
    );
    let wrong_bearer = format!("Bearer {WRONG_LOANPRO_TOKEN}");
    let variables = fixture_text("loanpro", "loan_5_days_past_due.json");
    let wrong_token = [("authorization", wrong_bearer.as_str())];
    assert_eq!(
        post(loanpro_path.clone(), &wrong_token, variables)
            .await
            .status(),
        401
    );
    let callback = fixture_text("embedded-funding", "0_credit_limit_updated.json");
    let wrong_callback = gateway.url(&format!(
        "/callbacks/embedded-funding?token={WRONG_CALLBACK_TOKEN}"
    ));
    assert_eq!(
        post(wrong_callback, &json_body, callback.clone())
            .await
            .status(),
        401
    );
    let elsewhere = [("x-forwarded-for", "203.0.113.9")];
    let from_elsewhere = post(callback_path.clone(), &elsewhere, callback).await;
    assert_eq!(from_elsewhere.status(), 401);
    let generated = from_elsewhere.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        uuid::Uuid::parse_str(&generated).is_ok(),
        "a UUID when none is sent: {generated}"
    );

    // GraphQL: a wrong key, reads with PII, the mutations against Canopy.
    let refused = gql(
        &gateway,
        WRONG_KEY,
        "{ events(first: 1) { edges { cursor } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    let read = gql(
        &gateway,
        ADMIN_KEY,
        "{ events(first: 50) { edges { node { id payload account { snapshot } } } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        read["data"]["events"]["edges"].as_array().unwrap().len(),
        stored
    );
    let account_id = account["account_id"].as_str().unwrap();
    let mutations = [
        (
            "mutation($input: ConfigureNotificationInput!) { configureNotification(input: $input) { id } }",
            json!({"input": {"accountId": account_id, "notificationType": "PAYMENT_DUE_DATE",
                             "timeOffset": "-2 days", "time": "7:30:00"}}),
        ),
        (
            "mutation($id: ID!) { refreshAccount(id: $id) { id snapshot } }",
            json!({"id": account_id}),
        ),
        ("mutation { replayFailedCanopyEvents }", json!({})),
    ];
    for (mutation, variables) in mutations {
        let answer = gql(&gateway, ADMIN_KEY, mutation, variables).await;
        assert!(answer.get("errors").is_none(), "{answer}");
    }
    // The subscriber saw every event (payloads masked for `read`).
    for _ in 0..stored {
        assert!(ws.next_payload().await["data"]["events"]["id"].is_string());
    }
    ws.close().await;
    // The follow-ups: every callback's reads and the double-check.
    let settled = "{ events(first: 50) { edges { node { source type followUp } } } }";
    let mut waiting = usize::MAX;
    for _ in 0..300 {
        let events = gql(&gateway, ADMIN_KEY, settled, json!({})).await;
        waiting = events["data"]["events"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                let node = &e["node"];
                let owed =
                    node["source"] == "EMBEDDED_FUNDING" || node["type"] == "account_delinquency";
                owed && node["followUp"].is_null()
            })
            .count();
        if waiting == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(waiting, 0, "follow-ups settled");
    // Lines still on their way from the process.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let secrets = [
        WEBHOOK_SECRET,
        WRONG_SECRET,
        LOANPRO_TOKEN,
        WRONG_LOANPRO_TOKEN,
        ECHOED_AUTH,
        CALLBACK_TOKEN,
        WRONG_CALLBACK_TOKEN,
        EF_API_KEY,
        CLIENT_SECRET,
        BEARER,
        ADMIN_KEY,
        READ_KEY,
        WRONG_KEY,
    ];
    let logs = gateway.logs();
    // tower-http's DEBUG line for each answer: the deliveries, the
    // refusals and five GraphQL requests at least.
    let answers = logs
        .iter()
        .filter(|l| l.contains(r#""message":"finished processing request""#))
        .count();
    assert!(
        answers >= stored + 4 + 5,
        "debug lines for {answers} answers"
    );
    let mut request_lines = 0;
    let mut callers_lines = 0;
    for line in &logs {
        let parsed: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not one JSON object ({e}): {line}"));
        assert!(parsed.is_object(), "{line}");
        for secret in secrets {
            assert!(!line.contains(secret), "a secret ({secret}) in: {line}");
        }
        for value in &pii {
            assert!(!line.contains(value.as_str()), "PII ({value}) in: {line}");
        }
        // A line logged while a request was served names its id.
        let request = parsed["spans"]
            .as_array()
            .and_then(|spans| spans.iter().find(|s| s["name"] == "request"));
        let message = parsed["fields"]["message"].as_str().unwrap_or_default();
        if ["delivery refused", "finished processing request"].contains(&message) {
            assert!(
                request.is_some(),
                "a request's line without its span: {line}"
            );
        }
        if let Some(span) = request {
            let id = span["request_id"].as_str().unwrap_or_default();
            assert!(
                id == CALLERS_ID || uuid::Uuid::parse_str(id).is_ok(),
                "a request line without its id: {line}"
            );
            request_lines += 1;
            if id == CALLERS_ID {
                callers_lines += 1;
            }
        }
    }
    assert!(request_lines > 50, "request lines: {request_lines}");
    // Its start, its refusal and its answer at least.
    assert!(
        callers_lines >= 3,
        "lines with the caller's id: {callers_lines}"
    );
    assert!(
        logs.iter()
            .any(|l| l.contains(r#""message":"delivery refused""#) && l.contains(CALLERS_ID)),
        "the refusal is logged with the caller's id"
    );
}
