//! One WebSocket connection: `connection_init` within [`INIT_TIMEOUT`],
//! then at most [`MAX_SUBSCRIPTIONS`] subscriptions at once, keep-alives,
//! and the close codes of the contract (section 3).
use std::{borrow::Cow, future::poll_fn, pin::Pin, sync::Arc, task::Poll, time::Duration};

use async_graphql::Response;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures::{
    FutureExt, SinkExt, Stream, StreamExt,
    future::ready,
    stream::{SplitSink, SplitStream},
};
use serde_json::Value;
use tokio::time::{Instant, MissedTickBehavior, Sleep, interval_at};
use tokio_stream::StreamMap;

use super::protocol::{self, ClientMessage, Protocol};
use crate::{
    auth::{Auth, Caller, bearer_token},
    graphql::{GatewaySchema, ends_subscription, error::GqlError},
    live::Shutdown,
    state::AppState,
};

/// A socket that has not sent `connection_init` by then is closed (4408).
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Subscriptions one socket holds at once; a further one gets an `error`.
pub const MAX_SUBSCRIPTIONS: usize = 100;
/// `ping` (graphql-transport-ws) or `ka` (legacy) after this long, so
/// proxies that drop idle connections keep subscriptions open.
const KEEP_ALIVE: Duration = Duration::from_secs(10);
/// On shutdown, how long a socket's subscriptions get to send their
/// `SHUTTING_DOWN` errors before it closes anyway (a client that stopped
/// reading would otherwise hold it open).
const SHUTDOWN_DRAIN: Duration = Duration::from_secs(5);
/// Messages one socket write carries at most; tungstenite writes its
/// buffer out anyway once it holds 128 KiB.
const MAX_MESSAGES_PER_WRITE: usize = 64;

/// The close codes the server sends; 44xx as graphql-transport-ws defines them.
struct Close {
    code: u16,
    reason: Cow<'static, str>,
}

impl Close {
    const fn new(code: u16, reason: &'static str) -> Self {
        Self {
            code,
            reason: Cow::Borrowed(reason),
        }
    }

    const NORMAL: Self = Self::new(1000, "");
    const GOING_AWAY: Self = Self::new(1001, "the gateway is shutting down");
    const TOO_BIG: Self = Self::new(1009, "message too big");
    const INVALID: Self = Self::new(4400, "invalid message");
    const UNAUTHORIZED: Self = Self::new(4401, "Unauthorized");
    const INIT_TIMEOUT: Self = Self::new(4408, "Connection initialisation timeout");
    const TOO_MANY_INITS: Self = Self::new(4429, "Too many initialisation requests");

    fn forbidden(reason: String) -> Self {
        Self {
            code: 4403,
            reason: format!("Forbidden: {reason}").into(),
        }
    }

    fn duplicate(id: &str) -> Self {
        Self {
            code: 4409,
            reason: format!("Subscriber for {id} already exists").into(),
        }
    }

    /// The reason, cut to the 123 bytes a close frame can carry (an id or
    /// a key's error can be longer).
    fn reason(&self) -> &str {
        let mut end = self.reason.len().min(123);
        while !self.reason.is_char_boundary(end) {
            end -= 1;
        }
        &self.reason[..end]
    }
}

/// Why the connection stops: a close the server sends, or a peer that is
/// already gone (closed, or its socket failed).
enum Stop {
    Close(Close),
    Gone,
}

type Outcome = Result<(), Stop>;

/// A subscription's responses, then `None` once it has completed.
type Responses = Pin<Box<dyn Stream<Item = Option<Response>> + Send>>;

/// What a connection uses of the node, taken from [`AppState`] at the
/// upgrade: the socket's task holds it for the connection's whole life
/// (every idle subscription is one), so not the whole state.
pub struct Node {
    schema: GatewaySchema,
    auth: Arc<Auth>,
    shutdown: Shutdown,
}

impl Node {
    pub fn of(state: &AppState) -> Self {
        Self {
            schema: state.schema.clone(),
            auth: state.auth.clone(),
            shutdown: state.shutdown.clone(),
        }
    }
}

/// Not an `async fn`: one would keep room for its arguments (the socket)
/// in the task for the connection's whole life.
pub fn serve(socket: WebSocket, node: Node, protocol: Protocol) -> impl Future<Output = ()> + Send {
    let (sink, input) = socket.split();
    let connection = Connection {
        protocol,
        sink,
        node,
        caller: None,
        // Most sockets hold one subscription; more grow it as needed.
        subscriptions: StreamMap::with_capacity(1),
    };
    connection.serve(input)
}

struct Connection {
    protocol: Protocol,
    sink: SplitSink<WebSocket, Message>,
    node: Node,
    /// Set by an accepted `connection_init`.
    caller: Option<Caller>,
    subscriptions: StreamMap<String, Responses>,
}

impl Connection {
    async fn serve(mut self, input: SplitStream<WebSocket>) {
        if let Err(Stop::Close(close)) = self.run(input).await {
            let frame = CloseFrame {
                code: close.code,
                reason: close.reason().into(),
            };
            let _ = self.sink.send(Message::Close(Some(frame))).await;
        }
    }

    /// Serves until the connection stops. Messages go out one at a time: a
    /// client that stops reading stops this loop, and its subscriptions wait
    /// (and later catch up) instead of queueing.
    async fn run(&mut self, mut input: SplitStream<WebSocket>) -> Outcome {
        let mut shutdown = self.node.shutdown.watch();
        // Dropped once the connection is initialised: an idle subscription
        // would otherwise keep its timer all along.
        let mut init_timeout = Some(Box::pin(tokio::time::sleep(INIT_TIMEOUT)));
        let mut keep_alive = interval_at(Instant::now() + KEEP_ALIVE, KEEP_ALIVE);
        // After a long send to a slow client, one keep-alive, not a burst.
        keep_alive.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                // An error here means the node's `Shutdown` is gone: the same.
                // Boxed, as `receive` below: the future of a rare step would
                // otherwise take room in every connection for its whole life.
                () = shutdown.wait_for(|closing| *closing).map(drop) => {
                    return Box::pin(self.drain()).await;
                }
                () = expiry(&mut init_timeout), if self.caller.is_none() => {
                    return Err(Stop::Close(Close::INIT_TIMEOUT));
                }
                message = input.next() => match message {
                    Some(Ok(message)) => {
                        Box::pin(self.receive(message)).await?;
                        if self.caller.is_some() {
                            init_timeout = None;
                        }
                    }
                    Some(Err(error)) => return Err(read_error(error)),
                    None => return Err(Stop::Gone),
                },
                Some((id, response)) = self.subscriptions.next() => {
                    self.deliver(id, response).await?;
                }
                _ = keep_alive.tick(), if self.caller.is_some() => {
                    self.send(self.protocol.keep_alive()).await?;
                }
            }
        }
    }

    async fn receive(&mut self, message: Message) -> Outcome {
        let text = match &message {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(bytes) => bytes,
            // Answered by tungstenite itself.
            Message::Ping(_) | Message::Pong(_) => return Ok(()),
            Message::Close(_) => return Err(Stop::Gone),
        };
        let Ok(message) = serde_json::from_slice::<ClientMessage>(text) else {
            return Err(Stop::Close(Close::INVALID));
        };
        match message {
            ClientMessage::ConnectionInit { payload } => self.init(&payload).await,
            ClientMessage::Subscribe { id, payload } => self.subscribe(id, *payload).await,
            ClientMessage::Complete { id } => {
                // Answered with `complete`, as clients of both protocols accept.
                if self.subscriptions.remove(&id).is_some() {
                    self.send(protocol::complete(&id)).await?;
                }
                Ok(())
            }
            ClientMessage::ConnectionTerminate => Err(Stop::Close(Close::NORMAL)),
            ClientMessage::Ping => self.send(protocol::pong()).await,
            ClientMessage::Pong => Ok(()),
        }
    }

    async fn init(&mut self, payload: &Value) -> Outcome {
        if self.caller.is_some() {
            return Err(Stop::Close(Close::TOO_MANY_INITS));
        }
        match authenticate(&self.node.auth, payload) {
            Ok(caller) => {
                self.caller = Some(caller);
                self.send(protocol::connection_ack()).await?;
                if self.protocol == Protocol::Legacy {
                    // Legacy clients time their keep-alive check from the first `ka`.
                    self.send(self.protocol.keep_alive()).await?;
                }
                Ok(())
            }
            Err(reason) => {
                if self.protocol == Protocol::Legacy {
                    self.send(protocol::connection_error(&reason)).await?;
                }
                Err(Stop::Close(Close::forbidden(reason)))
            }
        }
    }

    async fn subscribe(&mut self, id: String, request: async_graphql::Request) -> Outcome {
        let Some(caller) = &self.caller else {
            return Err(Stop::Close(Close::UNAUTHORIZED));
        };
        if self.subscriptions.contains_key(&id) {
            return Err(Stop::Close(Close::duplicate(&id)));
        }
        if self.subscriptions.len() >= MAX_SUBSCRIPTIONS {
            let error = GqlError::TooManySubscriptions(MAX_SUBSCRIPTIONS).into_server_error();
            return self.send(self.protocol.error(&id, &[error])).await;
        }
        let responses = self
            .node
            .schema
            .execute_stream(request.data(caller.clone()))
            .map(Some)
            .chain(futures::stream::once(ready(None)));
        self.subscriptions.insert(id, Box::pin(responses));
        Ok(())
    }

    /// Sends a subscription's next response, its end, or its completion,
    /// and with it (in one write to the socket, up to
    /// [`MAX_MESSAGES_PER_WRITE`]) those of its subscriptions that are ready
    /// at once: a write is a system call and a TCP segment, and sending
    /// events to subscribers was half the node's CPU, most of it in them.
    async fn deliver(&mut self, id: String, response: Option<Response>) -> Outcome {
        let mut next = Some((id, response));
        let mut written = 0;
        while let Some((id, response)) = next.take() {
            let message = self.message(id, response);
            self.sink
                .feed(Message::Text(message.into()))
                .await
                .map_err(|_| Stop::Gone)?;
            written += 1;
            if written < MAX_MESSAGES_PER_WRITE {
                // Polled with this task's waker, so one not ready yet wakes it.
                next = poll_fn(|cx| match self.subscriptions.poll_next_unpin(cx) {
                    Poll::Ready(item) => Poll::Ready(item),
                    Poll::Pending => Poll::Ready(None),
                })
                .await;
            }
        }
        // The write waits for the tasks already ready to run (webhook
        // handlers, the writer) to have their turn: a batch wakes every
        // socket with a matching subscription at once, and their writes
        // ahead of a webhook's were most of its answer's p99 under fan-out
        // (bench/RESULTS.md, fifth session).
        tokio::task::yield_now().await;
        self.sink.flush().await.map_err(|_| Stop::Gone)
    }

    fn message(&mut self, id: String, response: Option<Response>) -> String {
        match response {
            Some(response) if ends_subscription(&response) => {
                self.subscriptions.remove(&id);
                self.protocol.error(&id, &response.errors)
            }
            Some(response) => self.protocol.next(&id, &response),
            None => {
                // Removed now, so the id is free for the client's next subscribe.
                self.subscriptions.remove(&id);
                protocol::complete(&id)
            }
        }
    }

    /// On shutdown: each subscription's tail sees the same signal and ends
    /// with `SHUTTING_DOWN` and its resume cursor; those are sent, then the
    /// socket closes with 1001. No new messages are read meanwhile.
    async fn drain(&mut self) -> Outcome {
        let drain = async {
            while let Some((id, response)) = self.subscriptions.next().await {
                self.deliver(id, response).await?;
            }
            Ok(())
        };
        match tokio::time::timeout(SHUTDOWN_DRAIN, drain).await {
            Ok(Err(Stop::Gone)) => Err(Stop::Gone),
            _ => Err(Stop::Close(Close::GOING_AWAY)),
        }
    }

    async fn send(&mut self, text: String) -> Outcome {
        self.sink
            .send(Message::Text(text.into()))
            .await
            .map_err(|_| Stop::Gone)
    }
}

/// Completes when `timer` does; never once it is gone.
async fn expiry(timer: &mut Option<Pin<Box<Sleep>>>) {
    match timer {
        Some(timer) => timer.await,
        None => std::future::pending().await,
    }
}

/// A message or frame over the size limit is refused by tungstenite as it
/// arrives (from the frame header, or as fragments add up): 1009. Any other
/// read error means the connection is broken.
fn read_error(error: axum::Error) -> Stop {
    match error.into_inner().downcast::<tungstenite::Error>() {
        Ok(error) if matches!(*error, tungstenite::Error::Capacity(_)) => {
            Stop::Close(Close::TOO_BIG)
        }
        _ => Stop::Gone,
    }
}

/// The caller from `connection_init`'s payload: `Authorization` (or
/// `authorization`) as `Bearer <key>`, or `token` with or without `Bearer `.
fn authenticate(auth: &Auth, payload: &Value) -> Result<Caller, String> {
    let field = |name: &str| payload.get(name).and_then(Value::as_str);
    let key = match field("Authorization").or_else(|| field("authorization")) {
        Some(header) => bearer_token(header),
        None => field("token").map(|token| bearer_token(token).unwrap_or(token)),
    };
    auth.authenticate_key(key)
        .map_err(|error| error.to_string())
}
