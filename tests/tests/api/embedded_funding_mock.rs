//! A mock of Embedded Funding's API (wiremock) and a gateway reading it.
use api::{clients::embedded_funding::EmbeddedFundingApiConfig, config::Config, secret::Secret};
use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer, Request, ResponseTemplate,
    matchers::{method, path_regex},
};

pub const API_KEY: &str = "ef-api-key";
/// The company of the fixtures.
pub const COMPANY: &str = "83203410-df0e-4bff-bb79-cd94535a4cbe";

pub fn api_config(api: &MockServer) -> EmbeddedFundingApiConfig {
    EmbeddedFundingApiConfig {
        url: api.uri().parse().unwrap(),
        api_key: Secret::new(API_KEY),
        timing: EmbeddedFundingApiConfig::TIMING,
    }
}

/// A config tweak: follow-ups read from `api`.
pub fn reading_from(config: &mut Config, api: &MockServer) {
    config.embedded_funding_api = Some(api_config(api));
    config.sources.embedded_funding.follow_ups = true;
}

/// What the mock answers for `path`: names the path, and carries PII.
pub fn answer_for(path: &str) -> Value {
    json!({"path": path, "email": "ops@example.com", "state": "APPROVED"})
}

/// Answers every GET under `/v1/companies/` with [`answer_for`] its path.
pub async fn answer_everything(api: &MockServer) {
    Mock::given(method("GET"))
        .and(path_regex("^/v1/companies/"))
        .respond_with(|request: &Request| {
            ResponseTemplate::new(200).set_body_json(answer_for(request.url.path()))
        })
        .mount(api)
        .await;
}

/// The requests the API received, as `GET /path`, each checked to carry
/// the API key.
pub async fn received(api: &MockServer) -> Vec<String> {
    let requests = api.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .map(|r| {
            assert_eq!(
                r.headers.get("authorization").and_then(|v| v.to_str().ok()),
                Some(format!("Bearer {API_KEY}").as_str()),
                "{} {}",
                r.method,
                r.url.path()
            );
            format!("{} {}", r.method, r.url.path())
        })
        .collect()
}

/// A callback body.
pub fn callback(message: i64, ids: Value) -> String {
    let mut body = json!({
        "message": message,
        "withdrawalId": null,
        "companyId": COMPANY,
        "limitRequestId": null,
        "loanId": null,
    });
    for (name, id) in ids.as_object().into_iter().flatten() {
        body[name] = id.clone();
    }
    body.to_string()
}
