//! A follow-up pending when its gateway is killed (`kill -9`, no shutdown
//! of any kind) is done once a gateway runs on the store again.
use std::time::{Duration, Instant};

use sea_orm::{Database, EntityTrait};
use serde_json::Value;
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

use crate::{
    embedded_funding_ingest::{PATH, fixture},
    embedded_funding_mock::{API_KEY, answer_everything, received},
    helpers::{Backend, TestStore, install_crypto, settled_follow_up},
    on_both_backends,
    process::GatewayProcess,
};

on_both_backends!(a_follow_up_pending_when_the_gateway_is_killed_is_done_after_a_restart);

async fn a_follow_up_pending_when_the_gateway_is_killed_is_done_after_a_restart(backend: Backend) {
    install_crypto();
    let store = TestStore::new(backend).await;
    let api = MockServer::start().await;
    // Down at first: the follow-up fails and waits for its next attempt.
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&api)
        .await;
    let uri = api.uri();
    let env = [
        ("DATABASE_URL", store.url.as_str()),
        ("EMBEDDED_FUNDING_ALLOWED_IPS", "127.0.0.1"),
        ("EMBEDDED_FUNDING_API_URL", uri.as_str()),
        ("EMBEDDED_FUNDING_API_KEY", API_KEY),
    ];
    let gateway = GatewayProcess::start(&env).await;
    let response = reqwest::Client::new()
        .post(format!("http://{}{PATH}", gateway.addr))
        .header("content-type", "application/json")
        .body(fixture("0_credit_limit_updated"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let body: Value = response.json().await.unwrap();
    let id = api::ids::parse_event_id(body["id"].as_str().unwrap()).unwrap();
    // Killed between attempts: failed once, waiting for its retry (a kill
    // during an attempt costs the lease, 55 s, before it is claimed again).
    let db = Database::connect(&store.url).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let job = entity::follow_ups::Entity::find().one(&db).await.unwrap();
        let waiting = job.is_some_and(|job| {
            let now = api::clock::now();
            let backoff = job.due_at - job.updated_at < chrono::Duration::seconds(10);
            job.last_error.is_some()
                && backoff
                && job.due_at - now > chrono::Duration::milliseconds(300)
        });
        if waiting {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the follow-up never failed and waited"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let killed = std::process::Command::new("kill")
        .args(["-9", &gateway.pid().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    drop(gateway);
    let job = entity::follow_ups::Entity::find()
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (job.event_id, job.state.as_str()),
        (id, "pending"),
        "kept through the kill"
    );

    api.reset().await;
    answer_everything(&api).await;
    let _restarted = GatewayProcess::start(&env).await;
    let job = settled_follow_up(&db, id, Duration::from_secs(90)).await;
    assert_eq!(job.state, "done");
    let event = entity::events::Entity::find_by_id(id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let follow_up: Value = serde_json::from_str(event.follow_up.as_deref().unwrap()).unwrap();
    assert!(follow_up["creditStatus"].is_object() && follow_up["terms"].is_object());
    assert_eq!(received(&api).await.len(), 2, "status and terms, once each");
    assert!(job.attempts >= 2, "{job:?}");
}
