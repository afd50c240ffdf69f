//! Operations endpoints, outside the in-flight limit and without a key:
//! liveness, readiness and metrics.
use axum::{
    Json, Router,
    extract::State,
    http::{HeaderValue, StatusCode, header::CONTENT_TYPE},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};

use crate::{state::AppState, store};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// Prometheus's text exposition format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

async fn metrics(State(state): State<AppState>) -> Response {
    let mut response = state.metrics.render().into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(PROMETHEUS_TEXT));
    response
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when the store answers, Redis (if configured) does too, and the
/// node's own writer, live feed and follow-up worker are running.
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let (store_up, redis_up) = tokio::join!(store::ping(&state.pools.reads), state.pubsub.ping());
    let writer_up = state.writer.is_running();
    let feed_up = state.feed.is_running();
    let jobs_up = state.jobs.is_running();
    let ready = store_up && redis_up.unwrap_or(true) && writer_up && feed_up && jobs_up;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = |up: bool| if up { "up" } else { "down" };
    let redis = redis_up.map_or("not configured", word);
    let body = json!({
        "store": word(store_up),
        "redis": redis,
        "writer": word(writer_up),
        "feed": word(feed_up),
        "jobs": word(jobs_up),
    });
    (status, Json(body))
}
