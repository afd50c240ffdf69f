//! `/graphql/ws`: GraphQL subscriptions over WebSocket, in both protocols
//! (`graphql-transport-ws` and the legacy `graphql-ws`).
use std::str::FromStr;

use async_graphql::{
    Data,
    http::{ALL_WEBSOCKET_PROTOCOLS, WebSocketProtocols, WsMessage},
};
use axum::{
    Router,
    extract::{
        State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    http::{HeaderMap, StatusCode, header::SEC_WEBSOCKET_PROTOCOL},
    response::{IntoResponse, Response},
    routing::get,
};
use futures::{SinkExt, StreamExt, future::ready};
use serde_json::Value;

use crate::{
    auth::{Auth, bearer_token},
    graphql::limits::MAX_REQUEST_BYTES,
    state::AppState,
};

/// Read buffer per connection (bench/RESULTS.md, Live subscriptions).
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// Prefix of the refusal reason; such a close is sent as 4403 (Forbidden).
const REFUSED: &str = "Forbidden";

pub fn router() -> Router<AppState> {
    Router::new().route("/graphql/ws", get(upgrade))
}

async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let offered = headers
        .get(SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(protocol) = offered
        .split(',')
        .find_map(|p| WebSocketProtocols::from_str(p.trim()).ok())
    else {
        let message = "offer graphql-transport-ws or graphql-ws as the WebSocket subprotocol";
        return (StatusCode::BAD_REQUEST, message).into_response();
    };
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(MAX_REQUEST_BYTES)
        // tungstenite's default (128 KiB) is zero-filled on the first read, so
        // it was most of an idle subscription's memory; client messages are
        // small, and a larger one grows the buffer as needed.
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| serve(socket, state, protocol))
}

async fn serve(socket: WebSocket, state: AppState, protocol: WebSocketProtocols) {
    let (mut sink, stream) = socket.split();
    let input = stream
        .take_while(|message| ready(message.is_ok()))
        .filter_map(|message| {
            ready(match message {
                Ok(message @ (Message::Text(_) | Message::Binary(_))) => Some(message.into_data()),
                _ => None,
            })
        });
    let auth = state.auth.clone();
    let output = async_graphql::http::WebSocket::new(state.schema.clone(), input, protocol)
        .on_connection_init(move |payload| ready(authenticate(&auth, &payload)));
    futures::pin_mut!(output);
    // Sent one at a time: a client that stops reading stops this loop, and
    // its subscriptions wait (and later catch up) instead of queueing.
    while let Some(message) = output.next().await {
        let message = match message {
            WsMessage::Text(text) => Message::Text(text.into()),
            WsMessage::Close(code, reason) => {
                let code = if reason.starts_with(REFUSED) {
                    4403
                } else {
                    code
                };
                Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                }))
            }
        };
        if sink.send(message).await.is_err() {
            break;
        }
    }
}

/// The key from `connection_init`'s payload: `Authorization` (or
/// `authorization`) as `Bearer <key>`, or `token` with or without `Bearer `.
fn authenticate(auth: &Auth, payload: &Value) -> async_graphql::Result<Data> {
    let field = |name: &str| payload.get(name).and_then(Value::as_str);
    let key = match field("Authorization").or_else(|| field("authorization")) {
        Some(header) => bearer_token(header),
        None => field("token").map(|token| bearer_token(token).unwrap_or(token)),
    };
    let caller = auth
        .authenticate_key(key)
        .map_err(|error| async_graphql::Error::new(format!("{REFUSED}: {error}")))?;
    let mut data = Data::default();
    data.insert(caller);
    Ok(data)
}
