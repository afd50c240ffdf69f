//! Provider deliveries: size → sender → shape → signature (per source), then
//! the store's commit, then the answer.
use std::net::SocketAddr;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{ConnectInfo, DefaultBodyLimit, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header::CONTENT_LENGTH},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::json;

use crate::{
    app::AppState,
    error::IngestError,
    ids,
    ingest::{Delivery, Source},
    store::rejections::{self, RejectedBody, Rejection},
};

pub fn router(max_body_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/webhooks/canopy", post(canopy))
        .layer(DefaultBodyLimit::max(max_body_bytes))
}

async fn canopy(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    accept(&state, &*state.canopy, peer, &headers, body).await
}

async fn accept<S: Source>(
    state: &AppState,
    source: &S,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let error = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                IngestError::PayloadTooLarge {
                    limit: state.config.max_body_bytes,
                }
            } else {
                IngestError::InvalidBody(rejection.body_text())
            };
            let declared_bytes = headers
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok());
            return refuse::<S>(state, error, peer, RejectedBody::NotRead { declared_bytes }).await;
        }
    };
    let delivery = Delivery {
        headers,
        body: &body,
        remote: peer.ip(),
    };
    let event = match source.receive(&delivery) {
        Ok(event) => event,
        Err(error) => return refuse::<S>(state, error, peer, RejectedBody::Read(&body)).await,
    };
    match state.writer.store(event).await {
        Ok(stored) => {
            let status = if stored.duplicate {
                StatusCode::OK
            } else {
                StatusCode::ACCEPTED
            };
            let body = json!({"id": ids::event_id(stored.id), "duplicate": stored.duplicate});
            (status, Json(body)).into_response()
        }
        Err(error) => {
            tracing::error!(source = %S::KIND, %error, "delivery not stored");
            IngestError::from(error).into_response()
        }
    }
}

async fn refuse<S: Source>(
    state: &AppState,
    error: IngestError,
    peer: SocketAddr,
    body: RejectedBody<'_>,
) -> Response {
    tracing::warn!(source = %S::KIND, code = error.code(), %peer, %error, "delivery refused");
    let rejection = Rejection {
        source: S::KIND,
        reason: error.code(),
        status: error.status().as_u16(),
        remote_addr: Some(peer.ip().to_string()),
        body,
    };
    if let Err(store_error) = rejections::record(&state.db, rejection).await {
        tracing::error!(%store_error, "could not record a refused delivery");
    }
    error.into_response()
}
