//! Provider deliveries: size → sender → shape → signature (per source), then
//! the store's commit, then the answer. Every source in the registry is
//! mounted at its own path through the same handler.
use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, RawQuery, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header::CONTENT_LENGTH},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::json;

use super::{
    client_addr::ClientAddr,
    error::{DeliveryError, refusal_status},
};
use crate::{
    ids,
    ingest::{Delivery, IngestError, Source},
    state::AppState,
    store::rejections::{self, RejectedBody, Rejection},
};

pub fn router(sources: Vec<Arc<dyn Source>>, max_body_bytes: usize) -> Router<AppState> {
    sources
        .into_iter()
        .fold(Router::new(), |router, source| {
            let path = source.path();
            let handler = move |State(state): State<AppState>,
                                ClientAddr(remote): ClientAddr,
                                RawQuery(query): RawQuery,
                                headers: HeaderMap,
                                body: Result<Bytes, BytesRejection>| async move {
                accept(&state, &*source, remote, query.as_deref(), &headers, body).await
            };
            router.route(path, post(handler))
        })
        .layer(DefaultBodyLimit::max(max_body_bytes))
}

async fn accept(
    state: &AppState,
    source: &dyn Source,
    remote: std::net::IpAddr,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let error = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                IngestError::PayloadTooLarge {
                    limit: state.max_body_bytes,
                }
            } else {
                IngestError::InvalidBody(rejection.body_text())
            };
            let declared_bytes = headers
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok());
            let body = RejectedBody::NotRead { declared_bytes };
            return refuse(state, source, error, remote, body).await;
        }
    };
    let delivery = Delivery {
        headers,
        query,
        remote,
        body: &body,
    };
    let event = match source.receive(&delivery) {
        Ok(event) => event,
        Err(error) => return refuse(state, source, error, remote, RejectedBody::Read(&body)).await,
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
            tracing::error!(source = %source.kind(), %error, "delivery not stored");
            DeliveryError::StoreUnavailable.into_response()
        }
    }
}

async fn refuse(
    state: &AppState,
    source: &dyn Source,
    error: IngestError,
    remote: std::net::IpAddr,
    body: RejectedBody<'_>,
) -> Response {
    let kind = source.kind();
    tracing::warn!(source = %kind, code = error.code(), %remote, %error, "delivery refused");
    let rejection = Rejection {
        source: kind,
        reason: error.code(),
        status: refusal_status(&error).as_u16(),
        remote_addr: Some(remote.to_string()),
        body,
    };
    if let Err(store_error) = rejections::record(&state.db, rejection).await {
        tracing::error!(%store_error, "could not record a refused delivery");
    }
    DeliveryError::Refused(error).into_response()
}
