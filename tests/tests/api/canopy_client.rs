//! How the gateway calls Canopy (contract section 3), seen through the
//! mutations: retries and their bounds, timeouts, the shared token.
use std::time::{Duration, Instant};

use api::clients::canopy::Timing;
use futures::future::join_all;
use serde_json::json;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{header, method, path},
};

use crate::{
    canopy_mock::{
        config_path, configure_as_admin, quick_timing, received, spawn_with_canopy,
        spawn_with_token, token_answer, token_mock, token_request,
    },
    graphql_support::{ADMIN_KEY, GqlResponse, gql},
    helpers::{Backend, TestApp},
};

const REPLAY_PATH: &str = "/organization/subscribe/replay_failed_events";

fn input() -> serde_json::Value {
    json!({"accountId": "acct-1", "notificationType": "PAYMENT_DUE_DATE", "timeOffset": "-2 days"})
}

async fn replay(app: &TestApp) -> GqlResponse {
    gql(
        app,
        Some(ADMIN_KEY),
        "mutation { replayFailedCanopyEvents }",
        json!({}),
    )
    .await
}

fn count(requests: &[String], wanted: &str) -> usize {
    requests.iter().filter(|r| *r == wanted).count()
}

async fn stored_configs(app: &TestApp) -> usize {
    use sea_orm::EntityTrait;
    entity::notification_configs::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .len()
}

/// A PUT mock that answers `status` the first `times` times.
async fn put_fails(canopy: &MockServer, route: &str, answer: ResponseTemplate, times: u64) {
    Mock::given(method("PUT"))
        .and(path(route))
        .respond_with(answer)
        .up_to_n_times(times)
        .expect(times)
        .mount(canopy)
        .await;
}

async fn put_succeeds(canopy: &MockServer, route: &str, times: u64) {
    Mock::given(method("PUT"))
        .and(path(route))
        .respond_with(ResponseTemplate::new(200))
        .expect(times)
        .mount(canopy)
        .await;
}

/// Canopy issues `first` (token, lifetime) once, then `then` for an hour.
async fn tokens_in_turn(canopy: &MockServer, first: (&str, u64), then: &str) {
    token_mock(first.0, first.1)
        .up_to_n_times(1)
        .mount(canopy)
        .await;
    token_mock(then, 3600).mount(canopy).await;
}

/// Replays carrying `token` are answered `status`, `times` times.
async fn replay_with(canopy: &MockServer, token: &str, status: u16, times: u64) {
    Mock::given(method("PUT"))
        .and(path(REPLAY_PATH))
        .and(header("authorization", format!("Bearer {token}")))
        .respond_with(ResponseTemplate::new(status))
        .expect(times)
        .mount(canopy)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_and_the_config_stored_once() {
    let (app, canopy) = spawn_with_token(Backend::Sqlite).await;
    let route = config_path("acct-1");
    put_fails(&canopy, &route, ResponseTemplate::new(503), 2).await;
    put_succeeds(&canopy, &route, 1).await;
    let response = configure_as_admin(&app, input()).await;
    assert_eq!(
        response.data()["configureNotification"]["accountId"],
        "acct-1"
    );
    canopy.verify().await;
    assert_eq!(stored_configs(&app).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_retried_after_its_retry_after() {
    let (app, canopy) = spawn_with_token(Backend::Sqlite).await;
    let limited = ResponseTemplate::new(429).insert_header("Retry-After", "1");
    put_fails(&canopy, REPLAY_PATH, limited, 1).await;
    put_succeeds(&canopy, REPLAY_PATH, 1).await;
    let started = Instant::now();
    assert_eq!(replay(&app).await.data()["replayFailedCanopyEvents"], true);
    // The backoff alone would have waited 20 ms at most.
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(1), "{took:?}");
    canopy.verify().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canopy_that_keeps_failing_is_unavailable_after_at_least_3_attempts_within_60_s() {
    // The timing a deployment runs with.
    let (app, canopy) = spawn_with_canopy(Backend::Sqlite, Timing::default()).await;
    token_mock("t", 3600).mount(&canopy).await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&canopy)
        .await;
    let started = Instant::now();
    let response = configure_as_admin(&app, input()).await;
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_eq!(response.code(), "UPSTREAM_UNAVAILABLE");
    let message = response.json["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("503"), "{message}");
    let attempts = count(
        &received(&canopy).await,
        "PUT /accounts/acct-1/notification_config",
    );
    assert_eq!(attempts as u32, Timing::default().retry.attempts);
    assert!(attempts >= 3);
    assert_eq!(stored_configs(&app).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_canopy_is_unavailable_within_the_timeout() {
    let mut timing = quick_timing();
    timing.request_timeout = Duration::from_secs(1);
    timing.retry.budget = Duration::from_secs(4);
    let (app, canopy) = spawn_with_canopy(Backend::Sqlite, timing).await;
    token_mock("t", 3600).mount(&canopy).await;
    let hanging = ResponseTemplate::new(200).set_delay(Duration::from_secs(60));
    Mock::given(method("PUT"))
        .respond_with(hanging)
        .mount(&canopy)
        .await;
    let started = Instant::now();
    let response = replay(&app).await;
    let took = started.elapsed();
    assert_eq!(response.code(), "UPSTREAM_UNAVAILABLE");
    let message = response.json["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("did not answer within"), "{message}");
    assert!(took < Duration::from_secs(8), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_renewed_once() {
    let (app, canopy) = spawn_with_canopy(Backend::Sqlite, quick_timing()).await;
    tokens_in_turn(&canopy, ("expired", 3600), "fresh").await;
    replay_with(&canopy, "expired", 401, 1).await;
    replay_with(&canopy, "fresh", 200, 1).await;
    assert_eq!(replay(&app).await.data()["replayFailedCanopyEvents"], true);
    canopy.verify().await;
    assert_eq!(count(&received(&canopy).await, "POST /auth/token"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_refused_again_after_renewal_is_upstream_rejected() {
    let (app, canopy) = spawn_with_token(Backend::Sqlite).await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(401))
        .expect(2)
        .mount(&canopy)
        .await;
    assert_eq!(replay(&app).await.code(), "UPSTREAM_REJECTED");
    canopy.verify().await;
    assert_eq!(count(&received(&canopy).await, "POST /auth/token"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_mutations_on_a_fresh_gateway_share_one_token_request() {
    let (app, canopy) = spawn_with_canopy(Backend::Sqlite, quick_timing()).await;
    // Slow enough that every caller asks while the first request is out.
    token_request()
        .respond_with(token_answer("shared", 3600).set_delay(Duration::from_millis(300)))
        .expect(1)
        .mount(&canopy)
        .await;
    replay_with(&canopy, "shared", 200, 20).await;
    let answers = join_all((0..20).map(|_| replay(&app))).await;
    for answer in answers {
        assert_eq!(answer.data()["replayFailedCanopyEvents"], true);
    }
    canopy.verify().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_past_its_expires_in_is_not_reused() {
    let (app, canopy) = spawn_with_canopy(Backend::Sqlite, quick_timing()).await;
    tokens_in_turn(&canopy, ("short-lived", 1), "next").await;
    replay_with(&canopy, "short-lived", 200, 1).await;
    replay_with(&canopy, "next", 200, 2).await;
    replay(&app).await.data();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Past its lifetime: a new token; the new one is then reused.
    replay(&app).await.data();
    replay(&app).await.data();
    canopy.verify().await;
    assert_eq!(count(&received(&canopy).await, "POST /auth/token"), 2);
}
