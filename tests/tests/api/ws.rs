//! A GraphQL-over-WebSocket client speaking both protocols, as dashboards do.
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `graphql-transport-ws` (the graphql-ws library).
    TransportWs,
    /// `graphql-ws` (the legacy subscriptions-transport-ws library).
    Legacy,
}

impl Protocol {
    fn name(self) -> &'static str {
        match self {
            Self::TransportWs => "graphql-transport-ws",
            Self::Legacy => "graphql-ws",
        }
    }
}

pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    protocol: Protocol,
}

/// How a connection ended when it was refused or closed.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    Closed(u16),
    ConnectionError(Value),
}

const WAIT: Duration = Duration::from_secs(30);

impl WsClient {
    pub async fn open(addr: std::net::SocketAddr, protocol: Protocol) -> Self {
        let mut request = format!("ws://{addr}/graphql/ws")
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(protocol.name()),
        );
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("websocket upgrade");
        let chosen = response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok());
        assert_eq!(chosen, Some(protocol.name()));
        Self { socket, protocol }
    }

    /// Opens a connection and sends `connection_init` with `payload`;
    /// `Err` says how the server refused it.
    pub async fn connect(
        addr: std::net::SocketAddr,
        protocol: Protocol,
        payload: Value,
    ) -> Result<Self, Refusal> {
        let mut client = Self::open(addr, protocol).await;
        client
            .send(json!({"type": "connection_init", "payload": payload}))
            .await;
        loop {
            match client.receive().await {
                Ok(message) => match message["type"].as_str() {
                    Some("connection_ack") => return Ok(client),
                    Some("connection_error") => {
                        return Err(Refusal::ConnectionError(message["payload"].clone()));
                    }
                    Some("ka") => {}
                    other => panic!("unexpected {other:?} before ack: {message}"),
                },
                Err(refusal) => return Err(refusal),
            }
        }
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let kind = match self.protocol {
            Protocol::TransportWs => "subscribe",
            Protocol::Legacy => "start",
        };
        self.send(
            json!({"id": id, "type": kind, "payload": {"query": query, "variables": variables}}),
        )
        .await;
    }

    pub async fn complete(&mut self, id: &str) {
        let kind = match self.protocol {
            Protocol::TransportWs => "complete",
            Protocol::Legacy => "stop",
        };
        self.send(json!({"id": id, "type": kind})).await;
    }

    /// The next `next`/`data` payload (keep-alives and pings handled).
    pub async fn next_payload(&mut self) -> Value {
        loop {
            let message = self
                .receive()
                .await
                .unwrap_or_else(|r| panic!("connection ended: {r:?}"));
            match message["type"].as_str() {
                Some("next" | "data") => return message["payload"].clone(),
                Some("ka" | "pong") => {}
                Some("ping") => self.send(json!({"type": "pong"})).await,
                _ => return message,
            }
        }
    }

    /// The next raw protocol message, or how the connection was closed.
    pub async fn receive(&mut self) -> Result<Value, Refusal> {
        loop {
            let frame = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("a message in time");
            match frame {
                Some(Ok(Message::Text(text))) => return Ok(serde_json::from_str(&text).unwrap()),
                Some(Ok(Message::Close(frame))) => {
                    return Err(Refusal::Closed(frame.map_or(1005, |f| f.code.into())));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Err(Refusal::Closed(1006)),
            }
        }
    }

    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("send");
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}
