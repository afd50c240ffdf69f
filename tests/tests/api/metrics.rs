//! `GET /metrics` of a fresh `gateway` process (its own recorder, so the
//! counts are this test's traffic and nothing else) after known traffic:
//! every ingest answer counted by source and status, refusals by reason,
//! duplicates, the store's batches, the live feed and subscribers.
use std::{collections::BTreeMap, time::Duration};

use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path},
};

use crate::{
    helpers::{LOANPRO_TOKEN, SECRET, fixture_text, install_crypto, signed_fixture, signed_with},
    process::GatewayProcess,
    prometheus::{Labels, Scrape},
    ws::{Protocol, WsClient},
};

const MAX_BODY_BYTES: usize = 64 * 1024;

async fn scrape(gateway: &GatewayProcess) -> Scrape {
    let response = reqwest::get(gateway.url("/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    Scrape::parse(&response.text().await.unwrap())
}

/// Scrapes until `done` holds (within 10 s): gauges are set as tasks run.
async fn scrape_until(gateway: &GatewayProcess, what: &str, done: impl Fn(&Scrape) -> bool) {
    for _ in 0..100 {
        if done(&scrape(gateway).await) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("/metrics never showed {what}");
}

/// POSTs `body` to `path` with `headers`; the status answered.
async fn post(gateway: &GatewayProcess, path: &str, headers: &[(&str, &str)], body: String) -> u16 {
    let mut request = reqwest::Client::new().post(gateway.url(path)).body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("answered").status().as_u16()
}

async fn received(server: &MockServer) -> usize {
    server.received_requests().await.unwrap_or_default().len()
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_exactly_the_traffic_sent() {
    install_crypto();
    // The callback's follow-up reads; one answer fails and is retried.
    let company = "/v1/companies/83203410-df0e-4bff-bb79-cd94535a4cbe";
    let embedded_funding = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{company}/status")))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&embedded_funding)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&embedded_funding)
        .await;
    let max_body = MAX_BODY_BYTES.to_string();
    let api_url = embedded_funding.uri();
    let gateway = GatewayProcess::start(&[
        ("CANOPY_WEBHOOK_SECRETS", SECRET),
        ("LOANPRO_WEBHOOK_TOKENS", LOANPRO_TOKEN),
        ("EMBEDDED_FUNDING_ALLOWED_IPS", "127.0.0.1"),
        // The test's own connection is a proxy, so a forwarded caller can
        // be one the allowlist refuses.
        ("TRUSTED_PROXIES", "127.0.0.1/32"),
        ("MAX_BODY_BYTES", &max_body),
        ("EMBEDDED_FUNDING_API_URL", &api_url),
        ("EMBEDDED_FUNDING_API_KEY", "ef-api-key"),
        // Refusals (WARN) only, and the line that says where it listens.
        ("RUST_LOG", "warn,api::app=info"),
    ])
    .await;
    let before = scrape(&gateway).await;
    assert!(before.series("gateway_deliveries_total").is_empty());
    assert_eq!(before.types["process_resident_memory_bytes"], "gauge");

    // A subscriber, open while the traffic arrives.
    let mut ws = WsClient::connect(gateway.addr, Protocol::TransportWs, json!({}))
        .await
        .expect("open mode on loopback");
    ws.subscribe("live", "subscription { events { id type } }", json!({}))
        .await;
    scrape_until(&gateway, "one subscriber", |s| {
        s.value("gateway_subscribers", &[]) == Some(1.0)
    })
    .await;

    let canopy = "/webhooks/canopy";
    let json_body = [("content-type", "application/json")];
    let mut answered = Vec::new();
    for name in ["account_update", "payment_due_date", "account_delinquency"] {
        answered.push(post(&gateway, canopy, &json_body, signed_fixture(name)).await);
    }
    for _ in 0..2 {
        answered.push(
            post(
                &gateway,
                canopy,
                &json_body,
                signed_fixture("account_update"),
            )
            .await,
        );
    }
    let data = json!({"account_id": "acct-1", "changed_at": "2024-01-01T00:00:00Z"});
    for _ in 0..2 {
        let wrong = signed_with("not-the-secret", "account_update", data.clone());
        answered.push(post(&gateway, canopy, &json_body, wrong).await);
    }
    let unsigned = json!({"event": "account_update", "data": data}).to_string();
    answered.push(post(&gateway, canopy, &json_body, unsigned).await);
    answered.push(post(&gateway, canopy, &json_body, "not json".into()).await);
    let oversized = json!({"event": "x", "data": {"pad": "a".repeat(MAX_BODY_BYTES)}});
    answered.push(post(&gateway, canopy, &json_body, oversized.to_string()).await);
    let wrong_method = reqwest::get(gateway.url(canopy)).await.unwrap();
    answered.push(wrong_method.status().as_u16());
    assert_eq!(
        answered,
        [202, 202, 202, 200, 200, 401, 401, 401, 400, 413, 405]
    );

    let loanpro = "/webhooks/loanpro";
    let bearer = format!("Bearer {LOANPRO_TOKEN}");
    let token = [
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
    ];
    let variables = fixture_text("loanpro", "loan_5_days_past_due.json");
    let wrong_token = [
        ("authorization", "Bearer nope"),
        ("content-type", "application/json"),
    ];
    let answered = [
        post(&gateway, loanpro, &token, variables.clone()).await,
        post(&gateway, loanpro, &token, variables.clone()).await,
        post(&gateway, loanpro, &wrong_token, variables).await,
    ];
    assert_eq!(answered, [202, 200, 401]);

    let callbacks = "/callbacks/embedded-funding";
    let callback = fixture_text("embedded-funding", "0_credit_limit_updated.json");
    let elsewhere = [
        ("x-forwarded-for", "203.0.113.9"),
        ("content-type", "application/json"),
    ];
    let answered = [
        post(&gateway, callbacks, &json_body, callback.clone()).await,
        post(
            &gateway,
            callbacks,
            &json_body,
            r#"{"message": "zero"}"#.into(),
        )
        .await,
        post(&gateway, callbacks, &elsewhere, callback).await,
    ];
    assert_eq!(answered, [202, 400, 401]);

    // A GraphQL query is no delivery.
    let query = json!({"query": "{ events(first: 10) { edges { node { id } } } }"});
    let listed: Value = reqwest::Client::new()
        .post(gateway.url("/graphql"))
        .json(&query)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["data"]["events"]["edges"].as_array().unwrap().len(),
        5
    );
    // The subscriber got the five new events, so the feed has read them.
    for _ in 0..5 {
        assert!(ws.next_payload().await["data"]["events"]["id"].is_string());
    }

    let metrics = scrape(&gateway).await;
    let deliveries: BTreeMap<Labels, f64> = [
        ("canopy", "202", 3.0),
        ("canopy", "200", 2.0),
        ("canopy", "401", 3.0),
        ("canopy", "400", 1.0),
        ("canopy", "413", 1.0),
        ("canopy", "405", 1.0),
        ("loanpro", "202", 1.0),
        ("loanpro", "200", 1.0),
        ("loanpro", "401", 1.0),
        ("embedded_funding", "202", 1.0),
        ("embedded_funding", "400", 1.0),
        ("embedded_funding", "401", 1.0),
    ]
    .into_iter()
    .map(|(source, status, n)| (labels(&[("source", source), ("status", status)]), n))
    .collect();
    assert_eq!(metrics.series("gateway_deliveries_total"), deliveries);
    assert_eq!(metrics.types["gateway_deliveries_total"], "counter");

    // Every answer timed, as a histogram (buckets, not a summary).
    assert_eq!(
        metrics.types["gateway_ingest_duration_seconds"],
        "histogram"
    );
    let timed: BTreeMap<Labels, f64> = [
        ("canopy", 11.0),
        ("loanpro", 3.0),
        ("embedded_funding", 3.0),
    ]
    .into_iter()
    .map(|(source, n)| (labels(&[("source", source)]), n))
    .collect();
    assert_eq!(
        metrics.series("gateway_ingest_duration_seconds_count"),
        timed
    );
    assert_eq!(
        metrics.value(
            "gateway_ingest_duration_seconds_bucket",
            &[("source", "canopy"), ("le", "+Inf")]
        ),
        Some(11.0)
    );

    let refusals: BTreeMap<Labels, f64> = [
        ("canopy", "INVALID_SIGNATURE", 3.0),
        ("canopy", "INVALID_BODY", 1.0),
        ("canopy", "PAYLOAD_TOO_LARGE", 1.0),
        ("loanpro", "INVALID_TOKEN", 1.0),
        ("embedded_funding", "INVALID_BODY", 1.0),
        ("embedded_funding", "IP_NOT_ALLOWED", 1.0),
    ]
    .into_iter()
    .map(|(source, reason, n)| (labels(&[("source", source), ("reason", reason)]), n))
    .collect();
    assert_eq!(metrics.series("gateway_refusals_total"), refusals);
    assert_eq!(
        metrics.value("gateway_refusal_records_dropped_total", &[]),
        None
    );

    let dedup: BTreeMap<Labels, f64> = [("canopy", 2.0), ("loanpro", 1.0)]
        .into_iter()
        .map(|(source, n)| (labels(&[("source", source)]), n))
        .collect();
    assert_eq!(metrics.series("gateway_dedup_hits_total"), dedup);

    // Eight deliveries went through the writer (five new, three repeats),
    // in batches of any size; each committed batch was timed.
    assert_eq!(metrics.types["gateway_store_batch_size"], "histogram");
    assert_eq!(
        metrics.value("gateway_store_batch_size_sum", &[]),
        Some(8.0)
    );
    let batches = metrics
        .value("gateway_store_batch_size_count", &[])
        .unwrap();
    assert!((1.0..=8.0).contains(&batches), "{batches}");
    assert_eq!(
        metrics.value("gateway_store_commit_duration_seconds_count", &[]),
        Some(batches)
    );
    assert_eq!(
        metrics.types["gateway_store_commit_duration_seconds"],
        "histogram"
    );
    // The feed read each new event once.
    assert_eq!(metrics.types["gateway_pubsub_lag_seconds"], "histogram");
    assert_eq!(
        metrics.value("gateway_pubsub_lag_seconds_count", &[]),
        Some(5.0)
    );
    assert_eq!(metrics.value("gateway_subscribers", &[]), Some(1.0));
    // The callback's follow-up: its reads (each attempt) and then no job left.
    let calls: BTreeMap<Labels, f64> = [("503", 1.0), ("200", 2.0)]
        .into_iter()
        .map(|(status, n)| {
            (
                labels(&[("target", "embedded_funding"), ("status", status)]),
                n,
            )
        })
        .collect();
    scrape_until(&gateway, "the follow-up's calls, and none pending", |s| {
        s.series("gateway_upstream_calls_total") == calls
            && s.value("gateway_follow_ups_pending", &[]) == Some(0.0)
    })
    .await;
    assert_eq!(received(&embedded_funding).await, 3);

    ws.close().await;
    scrape_until(&gateway, "no subscriber", |s| {
        s.value("gateway_subscribers", &[]) == Some(0.0)
    })
    .await;

    // Even with only warnings logged, each refusal's line names its request.
    let refusal_ids: Vec<Value> = gateway
        .logs()
        .iter()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|log| log["fields"]["message"] == "delivery refused")
        .map(|log| log["span"]["request_id"].clone())
        .collect();
    assert_eq!(refusal_ids.len(), 8);
    assert!(refusal_ids.iter().all(Value::is_string), "{refusal_ids:?}");
}
