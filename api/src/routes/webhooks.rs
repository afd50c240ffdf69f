//! Provider deliveries: size → sender → (body read) → shape → signature,
//! then the store's commit, then the answer. Every source in the registry
//! is mounted at its own path through the same handler.
use std::{net::IpAddr, sync::Arc};

use axum::{
    Json, Router,
    extract::{RawQuery, Request, State},
    http::{HeaderMap, StatusCode, header::CONTENT_LENGTH},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::json;

use super::{
    body::{self, BODY_TIMEOUT, BodyError},
    client_addr::ClientAddr,
    error::{DeliveryError, refusal_status},
};
use crate::{
    ids,
    ingest::{self, Delivery, Head, IngestError, Source},
    series,
    state::AppState,
    store::rejections::{RejectedBody, Rejection},
};

pub fn router(sources: Vec<Arc<dyn Source>>) -> Router<AppState> {
    sources.into_iter().fold(Router::new(), |router, source| {
        let path = source.path();
        let handler = move |State(state): State<AppState>,
                            ClientAddr(remote): ClientAddr,
                            RawQuery(query): RawQuery,
                            request: Request| async move {
            accept(&state, &*source, remote, query.as_deref(), request).await
        };
        router.route(path, post(handler))
    })
}

async fn accept(
    state: &AppState,
    source: &dyn Source,
    remote: IpAddr,
    query: Option<&str>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let head = Head {
        headers: &parts.headers,
        query,
        remote,
    };
    let declared = declared_length(&parts.headers);
    let refused = |error, body| refuse(state, source, error, remote, body);
    let limit = state.max_body_bytes;
    if declared.is_some_and(|d| d > limit as u64) {
        let body = RejectedBody::NotRead { bytes: declared };
        return refused(IngestError::PayloadTooLarge { limit }, body);
    }
    // Before the body is read: an unknown sender costs no memory.
    if let Err(error) = source.admit(&head) {
        return refused(error, RejectedBody::NotRead { bytes: declared });
    }
    let body = match body::read(body, limit, declared, &state.body_budget).await {
        Ok(body) => body,
        Err(BodyError::TooLarge { received }) => {
            let body = RejectedBody::NotRead {
                bytes: Some(received),
            };
            return refused(IngestError::PayloadTooLarge { limit }, body);
        }
        Err(BodyError::TimedOut { received }) => {
            let body = RejectedBody::NotRead {
                bytes: Some(received),
            };
            return refused(IngestError::RequestTimeout(BODY_TIMEOUT), body);
        }
        Err(BodyError::Overloaded) => return DeliveryError::Overloaded.into_response(),
        Err(BodyError::Broken(error)) => {
            let error = IngestError::InvalidBody(format!("the body could not be read: {error}"));
            return refused(error, RejectedBody::NotRead { bytes: declared });
        }
    };
    let delivery = Delivery {
        head,
        body: &body.bytes,
    };
    let event = match ingest::receive(source, &delivery) {
        Ok(event) => event,
        Err(error) => return refused(error, RejectedBody::Read(&body.bytes)),
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

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// Answers a refusal and queues its record (never waiting for the store).
fn refuse(
    state: &AppState,
    source: &dyn Source,
    error: IngestError,
    remote: IpAddr,
    body: RejectedBody<'_>,
) -> Response {
    let kind = source.kind();
    tracing::warn!(source = %kind, code = error.code(), %remote, %error, "delivery refused");
    metrics::counter!(series::REFUSALS, "source" => kind.as_str(), "reason" => error.code())
        .increment(1);
    state.recorder.record(Rejection {
        source: kind,
        reason: error.code(),
        status: refusal_status(&error).as_u16(),
        remote_addr: Some(remote.to_string()),
        body,
    });
    DeliveryError::Refused(error).into_response()
}
