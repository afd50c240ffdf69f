//! `/graphql/ws`: GraphQL subscriptions over WebSocket, in both protocols
//! (`graphql-transport-ws` and the legacy `graphql-ws`), executed by the
//! schema with the caller of `connection_init`. The upgrade is here; the
//! wire format is in [`protocol`], a connection's life in [`connection`].
mod connection;
mod protocol;

use axum::{
    Router,
    extract::{State, WebSocketUpgrade},
    http::{HeaderMap, StatusCode, header::SEC_WEBSOCKET_PROTOCOL},
    response::{IntoResponse, Response},
    routing::get,
};
use tracing::Instrument;

use self::protocol::Protocol;
use crate::{graphql::limits::MAX_REQUEST_BYTES, state::AppState};

/// Read buffer per connection (bench/RESULTS.md, Live subscriptions). A
/// client sends a few small messages (`connection_init`, `subscribe`); a
/// larger frame has its whole length reserved once its header is read.
const READ_BUFFER_BYTES: usize = 512;

pub fn router() -> Router<AppState> {
    Router::new().route("/graphql/ws", get(upgrade))
}

async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let offer = headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|line| line.to_str().ok());
    let Some(protocol) = Protocol::first_known(offer) else {
        let message = "offer graphql-transport-ws or graphql-ws as the WebSocket subprotocol";
        return (StatusCode::BAD_REQUEST, message).into_response();
    };
    // The socket's logs stay in the upgrade request's span (its id).
    let span = tracing::Span::current();
    let node = connection::Node::of(&state);
    upgrade
        // The one chosen, so the answer names the protocol spoken.
        .protocols([protocol.name()])
        // Checked as frames arrive: a frame's header already says it is too
        // large, and fragments are refused once they add up to too much.
        .max_frame_size(MAX_REQUEST_BYTES)
        .max_message_size(MAX_REQUEST_BYTES)
        // tungstenite's default (128 KiB) is zero-filled on the first read, so
        // it was most of an idle subscription's memory.
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| connection::serve(socket, node, protocol).instrument(span))
}
