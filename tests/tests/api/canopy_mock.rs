//! A mock of Canopy's API (wiremock) and a gateway pointed at it.
use std::time::Duration;

use api::{
    clients::canopy::{CanopyApiConfig, Timing},
    secret::Secret,
};
use serde_json::{Value, json};
use wiremock::{
    Mock, MockBuilder, MockServer, ResponseTemplate,
    matchers::{body_json, method, path},
};

use crate::{
    graphql_support::{ADMIN_KEY, GqlResponse, gql, with_keys},
    helpers::{Backend, TestApp, spawn_app_with},
};

pub const CLIENT_ID: &str = "gateway-client";
pub const CLIENT_SECRET: &str = "client-secret-value";
pub const TOKEN: &str = "token-1";

/// Production timing, with short waits between attempts.
pub fn quick_timing() -> Timing {
    let mut timing = Timing::default();
    timing.retry.first_delay = Duration::from_millis(20);
    timing
}

pub fn canopy_api(canopy: &MockServer, timing: Timing) -> CanopyApiConfig {
    CanopyApiConfig {
        url: canopy.uri().parse().unwrap(),
        client_id: CLIENT_ID.to_owned(),
        client_secret: Secret::new(CLIENT_SECRET),
        timing,
    }
}

/// A gateway with the test keys, talking to a new mock Canopy.
pub async fn spawn_with_canopy(backend: Backend, timing: Timing) -> (TestApp, MockServer) {
    let canopy = MockServer::start().await;
    let api = canopy_api(&canopy, timing);
    let app = spawn_app_with(backend, |config| {
        with_keys(config);
        config.canopy_api = Some(api);
    })
    .await;
    (app, canopy)
}

/// A gateway whose Canopy issues [`TOKEN`] for an hour.
pub async fn spawn_with_token(backend: Backend) -> (TestApp, MockServer) {
    let (app, canopy) = spawn_with_canopy(backend, quick_timing()).await;
    token_mock(TOKEN, 3600).mount(&canopy).await;
    (app, canopy)
}

/// `POST /auth/token` with the client credentials.
pub fn token_request() -> MockBuilder {
    Mock::given(method("POST"))
        .and(path("/auth/token"))
        .and(body_json(
            json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
        ))
}

pub fn token_answer(token: &str, expires_in: u64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "access_token": token,
        "expires_in": expires_in,
        "token_type": "Bearer",
    }))
}

/// The token request, answered with `token`.
pub fn token_mock(token: &str, expires_in: u64) -> Mock {
    token_request().respond_with(token_answer(token, expires_in))
}

pub fn config_path(account_id: &str) -> String {
    format!("/accounts/{account_id}/notification_config")
}

pub const CONFIGURE: &str = "mutation($input: ConfigureNotificationInput!) {
    configureNotification(input: $input) {
        id accountId notificationType timeOffset time periodicInterval inForce updatedAt
    }
}";

pub async fn configure(app: &TestApp, key: &str, input: Value) -> GqlResponse {
    gql(app, Some(key), CONFIGURE, json!({"input": input})).await
}

pub async fn configure_as_admin(app: &TestApp, input: Value) -> GqlResponse {
    configure(app, ADMIN_KEY, input).await
}

/// The requests Canopy received, as `METHOD /path`.
pub async fn received(canopy: &MockServer) -> Vec<String> {
    canopy
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}
