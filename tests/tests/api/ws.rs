//! A GraphQL-over-WebSocket client speaking both protocols, as dashboards do,
//! plus the raw frames a misbehaving client sends.
use std::{net::SocketAddr, time::Duration};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::{io::AsyncWriteExt, net::TcpStream, time::Instant};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{
        Message,
        client::IntoClientRequest,
        http::HeaderValue,
        protocol::frame::{
            Frame,
            coding::{Data, OpCode},
        },
    },
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `graphql-transport-ws` (the graphql-ws library).
    TransportWs,
    /// `graphql-ws` (the legacy subscriptions-transport-ws library).
    Legacy,
}

impl Protocol {
    pub const BOTH: [Self; 2] = [Self::TransportWs, Self::Legacy];

    pub fn name(self) -> &'static str {
        match self {
            Self::TransportWs => "graphql-transport-ws",
            Self::Legacy => "graphql-ws",
        }
    }

    fn named(name: &str) -> Option<Self> {
        Self::BOTH.into_iter().find(|p| p.name() == name)
    }
}

pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub protocol: Protocol,
}

/// How a connection ended when it was refused or closed.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    Closed(u16),
    ConnectionError(Value),
}

const WAIT: Duration = Duration::from_secs(30);

impl WsClient {
    pub async fn open(addr: SocketAddr, protocol: Protocol) -> Self {
        let client = Self::offering(addr, protocol.name()).await;
        assert_eq!(client.protocol, protocol, "the protocol asked for");
        client
    }

    /// Opens a connection offering `offer` (a comma list) as its
    /// `Sec-WebSocket-Protocol`; speaks the protocol the server answers.
    pub async fn offering(addr: SocketAddr, offer: &str) -> Self {
        let mut request = format!("ws://{addr}/graphql/ws")
            .into_client_request()
            .unwrap();
        let offer = HeaderValue::from_str(offer).unwrap();
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", offer);
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("websocket upgrade");
        let answered = response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok())
            .expect("a subprotocol in the answer");
        let protocol = Protocol::named(answered)
            .unwrap_or_else(|| panic!("answered an unknown subprotocol {answered:?}"));
        Self { socket, protocol }
    }

    /// Opens a connection and sends `connection_init` with `payload`;
    /// `Err` says how the server refused it.
    pub async fn connect(
        addr: SocketAddr,
        protocol: Protocol,
        payload: Value,
    ) -> Result<Self, Refusal> {
        let mut client = Self::open(addr, protocol).await;
        client.init(payload).await?;
        Ok(client)
    }

    /// Sends `connection_init` and waits for its answer.
    pub async fn init(&mut self, payload: Value) -> Result<(), Refusal> {
        self.send(json!({"type": "connection_init", "payload": payload}))
            .await;
        let message = self.receive().await?;
        match message["type"].as_str() {
            Some("connection_ack") => Ok(()),
            Some("connection_error") => Err(Refusal::ConnectionError(message["payload"].clone())),
            other => panic!("unexpected {other:?} before ack: {message}"),
        }
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(self.subscribe_message(id, query, variables))
            .await;
    }

    /// The `subscribe` (legacy: `start`) message for `query`.
    pub fn subscribe_message(&self, id: &str, query: &str, variables: Value) -> Value {
        let kind = match self.protocol {
            Protocol::TransportWs => "subscribe",
            Protocol::Legacy => "start",
        };
        json!({"id": id, "type": kind, "payload": {"query": query, "variables": variables}})
    }

    pub async fn complete(&mut self, id: &str) {
        let kind = match self.protocol {
            Protocol::TransportWs => "complete",
            Protocol::Legacy => "stop",
        };
        self.send(json!({"id": id, "type": kind})).await;
    }

    /// The next `next`/`data` payload; any other message as it came.
    pub async fn next_payload(&mut self) -> Value {
        let message = self
            .receive()
            .await
            .unwrap_or_else(|r| panic!("connection ended: {r:?}"));
        match message["type"].as_str() {
            Some("next" | "data") => message["payload"].clone(),
            _ => message,
        }
    }

    /// The next protocol message other than keep-alives (a `ping` is
    /// answered, as clients do), or how the connection was closed; within
    /// 30 s, however many keep-alives come meanwhile.
    pub async fn receive(&mut self) -> Result<Value, Refusal> {
        let deadline = Instant::now() + WAIT;
        loop {
            let message = self.receive_before(deadline).await?;
            match message["type"].as_str() {
                Some("ka" | "pong") => {}
                Some("ping") => self.send(json!({"type": "pong"})).await,
                _ => return Ok(message),
            }
        }
    }

    /// The next protocol message, keep-alives included, within 30 s.
    pub async fn receive_raw(&mut self) -> Result<Value, Refusal> {
        self.receive_before(Instant::now() + WAIT).await
    }

    async fn receive_before(&mut self, deadline: Instant) -> Result<Value, Refusal> {
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next())
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

    /// Messages until the connection closes (keep-alives left out), and its close code.
    pub async fn until_closed(&mut self) -> (Vec<Value>, u16) {
        let mut messages = Vec::new();
        loop {
            match self.receive().await {
                Ok(message) => messages.push(message),
                Err(Refusal::Closed(code)) => return (messages, code),
                Err(refusal) => panic!("{refusal:?}"),
            }
        }
    }

    pub async fn send(&mut self, message: Value) {
        self.send_text(message.to_string()).await;
    }

    pub async fn send_text(&mut self, text: String) {
        self.socket
            .send(Message::Text(text.into()))
            .await
            .expect("send");
    }

    /// One text frame of `payload`, the first of a message or a
    /// continuation, final or not.
    pub async fn send_fragment(&mut self, payload: Vec<u8>, first: bool, last: bool) {
        let opcode = OpCode::Data(if first { Data::Text } else { Data::Continue });
        let frame = Frame::message(payload, opcode, last);
        self.socket.send(Message::Frame(frame)).await.expect("send");
    }

    /// Writes `bytes` to the TCP connection as they are, past the client's
    /// framing: the start of a frame that never finishes.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        let MaybeTlsStream::Plain(tcp) = self.socket.get_mut() else {
            unreachable!("tests connect without TLS")
        };
        tcp.write_all(bytes).await.expect("send");
        tcp.flush().await.expect("flush");
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}
