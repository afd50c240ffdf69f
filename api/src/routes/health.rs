use axum::{Json, Router, extract::State, http::StatusCode, routing::get};
use serde_json::{Value, json};

use crate::{state::AppState, store};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when the store answers and, if configured, Redis does too.
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let (store_up, redis_up) = tokio::join!(store::ping(&state.db), state.pubsub.ping());
    let ready = store_up && redis_up.unwrap_or(true);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = |up: bool| if up { "up" } else { "down" };
    let redis = redis_up.map_or("not configured", word);
    (
        status,
        Json(json!({"store": word(store_up), "redis": redis})),
    )
}
