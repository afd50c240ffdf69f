//! The WebSocket rules of the contract (section 3, "Subscriptions"), as a
//! raw client sees them in both protocols.
use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use futures::future::join_all;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{
    graphql_support::READ_KEY,
    helpers::{Backend, TestApp, TestStore},
    subscriptions::{SUBSCRIPTION, ingest, marker, numbered, one_node, position},
    ws::{Protocol, WsClient},
};

const KIB: usize = 1024;

fn key() -> Value {
    json!({"Authorization": format!("Bearer {READ_KEY}")})
}

async fn connect(app: &TestApp, protocol: Protocol) -> WsClient {
    WsClient::connect(app.addr, protocol, key())
        .await
        .expect("connection accepted")
}

/// Runs `{ __typename }` through the socket and checks its answer: `next`
/// (graphql-transport-ws) or `data` (legacy), then `complete`.
async fn answers_a_query(client: &mut WsClient, id: &str) {
    client.subscribe(id, "{ __typename }", json!({})).await;
    let answer = client.receive().await.expect("an answer");
    let kind = match client.protocol {
        Protocol::TransportWs => "next",
        Protocol::Legacy => "data",
    };
    assert_eq!(answer["type"], kind, "{answer}");
    assert_eq!(answer["id"], id, "{answer}");
    assert_eq!(answer["payload"]["data"]["__typename"], "Query", "{answer}");
    let done = client.receive().await.expect("complete");
    assert_eq!(done, json!({"type": "complete", "id": id}));
}

/// The error object of an `error` message for `id`.
pub fn error_for<'a>(message: &'a Value, id: &str, protocol: Protocol) -> &'a Value {
    assert_eq!(message["type"], "error", "{message}");
    assert_eq!(message["id"], id, "{message}");
    match protocol {
        Protocol::TransportWs => {
            assert_eq!(message["payload"].as_array().map(Vec::len), Some(1));
            &message["payload"][0]
        }
        Protocol::Legacy => &message["payload"],
    }
}

/// The subprotocol the server answers to an upgrade offering `lines` as
/// `Sec-WebSocket-Protocol` header lines (raw: tungstenite's client reads
/// only the first line of its own offer), or its status when it refuses.
async fn answer_to(addr: SocketAddr, lines: &[&str]) -> Result<String, u16> {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let mut request = format!(
        "GET /graphql/ws HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\n\
         Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    );
    for line in lines {
        request.push_str(&format!("Sec-WebSocket-Protocol: {line}\r\n"));
    }
    request.push_str("\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0];
        tcp.read_exact(&mut byte).await.expect("an answer");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    if status != 101 {
        return Err(status);
    }
    let answered = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("sec-websocket-protocol")
            .then(|| value.trim().to_owned())
    });
    Ok(answered.expect("a subprotocol in the answer"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_speaks_and_names_the_first_protocol_offered_that_it_knows() {
    let store = TestStore::new(Backend::Sqlite).await;
    let app = one_node(&store).await;
    for (offer, spoken) in [
        ("graphql-ws, graphql-transport-ws", Protocol::Legacy),
        ("graphql-transport-ws, graphql-ws", Protocol::TransportWs),
        ("soap, graphql-ws", Protocol::Legacy),
        (
            "wamp,graphql-transport-ws,graphql-ws",
            Protocol::TransportWs,
        ),
    ] {
        let mut client = WsClient::offering(app.addr, offer).await;
        assert_eq!(client.protocol, spoken, "answer to {offer:?}");
        client.init(key()).await.expect("accepted");
        answers_a_query(&mut client, "q").await;
    }
    for (lines, answered) in [
        (
            &["graphql-ws", "graphql-transport-ws"][..],
            Ok("graphql-ws"),
        ),
        (
            &["soap", "graphql-transport-ws, graphql-ws"],
            Ok("graphql-transport-ws"),
        ),
        (&["graphql, GRAPHQL-WS"], Err(400)),
        (&[], Err(400)),
    ] {
        let answer = answer_to(app.addr, lines).await;
        assert_eq!(answer.as_deref().map_err(|s| *s), answered, "{lines:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_without_connection_init_is_closed_after_10_s() {
    let store = TestStore::new(Backend::Sqlite).await;
    let app = one_node(&store).await;
    let waits = Protocol::BOTH.map(|protocol| async move {
        let opened = Instant::now();
        let mut client = WsClient::open(app.addr, protocol).await;
        if protocol == Protocol::TransportWs {
            // Pings are answered before init, and do not count as one.
            client.send(json!({"type": "ping"})).await;
            assert_eq!(client.receive_raw().await, Ok(json!({"type": "pong"})));
        }
        let (messages, code) = client.until_closed().await;
        let waited = opened.elapsed();
        assert_eq!((messages, code), (vec![], 4408), "{protocol:?}");
        assert!(
            waited >= Duration::from_millis(9_500) && waited < Duration::from_secs(25),
            "{protocol:?} closed after {waited:?}"
        );
    });
    join_all(waits).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alives_arrive_every_10_s_and_acknowledged_sockets_stay_open() {
    let store = TestStore::new(Backend::Sqlite).await;
    let app = one_node(&store).await;
    let app = &app;
    let waits = Protocol::BOTH.map(|protocol| async move {
        let mut client = connect(app, protocol).await;
        let acked = Instant::now();
        let keep_alive = match protocol {
            Protocol::TransportWs => json!({"type": "ping"}),
            Protocol::Legacy => {
                // Legacy clients expect one `ka` right after the ack.
                assert_eq!(client.receive_raw().await, Ok(json!({"type": "ka"})));
                json!({"type": "ka"})
            }
        };
        assert_eq!(client.receive_raw().await, Ok(keep_alive.clone()));
        let waited = acked.elapsed();
        assert!(
            waited >= Duration::from_millis(9_500) && waited < Duration::from_secs(25),
            "{protocol:?}: keep-alive after {waited:?}"
        );
        if protocol == Protocol::TransportWs {
            client.send(json!({"type": "pong"})).await;
        }
        // Past the init timeout, an acknowledged socket still works.
        answers_a_query(&mut client, "after").await;
    });
    join_all(waits).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_holds_100_subscriptions_and_refuses_the_next_while_the_others_go_on() {
    let store = TestStore::new(Backend::Sqlite).await;
    let app = one_node(&store).await;
    for (round, protocol) in Protocol::BOTH.into_iter().enumerate() {
        let start = marker(&app).await;
        let variables = json!({"after": api::ids::event_cursor(start)});
        let mut client = connect(&app, protocol).await;
        for id in 0..100 {
            client
                .subscribe(&id.to_string(), SUBSCRIPTION, variables.clone())
                .await;
        }
        client
            .subscribe("extra", SUBSCRIPTION, variables.clone())
            .await;
        let refusal = client.receive().await.unwrap();
        let error = error_for(&refusal, "extra", protocol);
        assert_eq!(
            error["extensions"]["code"], "TOO_MANY_SUBSCRIPTIONS",
            "{refusal}"
        );

        // The socket and its 100 subscriptions go on.
        ingest(&app, [numbered(round)]).await;
        let mut ids = Vec::new();
        for _ in 0..100 {
            let message = client.receive().await.unwrap();
            assert!(
                matches!(message["type"].as_str(), Some("next" | "data")),
                "{message}"
            );
            let event = &message["payload"]["data"]["events"];
            assert_eq!(
                event["payload"]["available_credit_cents"], round,
                "{message}"
            );
            ids.push(message["id"].as_str().unwrap().parse::<usize>().unwrap());
        }
        ids.sort_unstable();
        assert_eq!(ids, (0..100).collect::<Vec<_>>());

        // A completed one frees its place.
        client.complete("0").await;
        assert_eq!(client.receive().await.unwrap()["type"], "complete");
        client
            .subscribe("extra", SUBSCRIPTION, variables.clone())
            .await;
        let message = client.receive().await.unwrap();
        assert_eq!(message["id"], "extra", "{message}");
        assert!(position(&message["payload"]["data"]["events"]) > start);
        client.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscribe_with_an_active_id_closes_the_socket_with_4409() {
    let store = TestStore::new(Backend::Sqlite).await;
    let app = one_node(&store).await;
    for protocol in Protocol::BOTH {
        let mut client = connect(&app, protocol).await;
        // Ids of finished operations can be used again, whoever finished them.
        answers_a_query(&mut client, "q").await;
        answers_a_query(&mut client, "q").await;
        client.subscribe("1", SUBSCRIPTION, json!({})).await;
        client.complete("1").await;
        assert_eq!(client.receive().await.unwrap()["type"], "complete");
        client.subscribe("1", SUBSCRIPTION, json!({})).await;
        // An id longer than a close frame's reason can carry.
        let long = "é".repeat(100);
        client.subscribe(&long, SUBSCRIPTION, json!({})).await;
        client.subscribe(&long, SUBSCRIPTION, json!({})).await;
        assert_eq!(client.until_closed().await, (vec![], 4409), "{protocol:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_out_of_order_or_malformed_close_the_socket() {
    let store = TestStore::new(Backend::Sqlite).await;
    let app = one_node(&store).await;
    for protocol in Protocol::BOTH {
        let mut early = WsClient::open(app.addr, protocol).await;
        early.subscribe("1", SUBSCRIPTION, json!({})).await;
        assert_eq!(early.until_closed().await, (vec![], 4401), "{protocol:?}");

        let mut twice = connect(&app, protocol).await;
        twice
            .send(json!({"type": "connection_init", "payload": key()}))
            .await;
        assert_eq!(twice.until_closed().await, (vec![], 4429), "{protocol:?}");

        let mut garbled = connect(&app, protocol).await;
        garbled
            .send_text("{\"type\": \"subscribe\"".to_owned())
            .await;
        assert_eq!(garbled.until_closed().await, (vec![], 4400), "{protocol:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_and_messages_over_256_kib_close_with_1009_before_they_arrive_whole() {
    let store = TestStore::new(Backend::Sqlite).await;
    let app = one_node(&store).await;
    for protocol in Protocol::BOTH {
        // A frame whose header announces 300 KiB: refused on its first KiB.
        let mut frame = connect(&app, protocol).await;
        let mut start = vec![0x81, 0x80 | 127];
        start.extend_from_slice(&(300 * KIB as u64).to_be_bytes());
        start.extend_from_slice(&[0x1f, 0x2e, 0x3d, 0x4c]);
        start.extend_from_slice(&[b' '; KIB]);
        frame.send_raw(&start).await;
        assert_eq!(frame.until_closed().await, (vec![], 1009), "{protocol:?}");

        // A 300 KiB message in 100 KiB frames: refused before its last frame.
        let mut message = connect(&app, protocol).await;
        for n in 0..3 {
            message
                .send_fragment(vec![b' '; 100 * KIB], n == 0, false)
                .await;
        }
        assert_eq!(message.until_closed().await, (vec![], 1009), "{protocol:?}");

        // Under the limit, fragments make one message (200 KiB here).
        let mut fitting = connect(&app, protocol).await;
        let padding = json!({"padding": " ".repeat(200 * KIB)});
        let query = fitting.subscribe_message("big", "{ __typename }", padding);
        let bytes = query.to_string().into_bytes();
        let (head, tail) = bytes.split_at(100 * KIB);
        fitting.send_fragment(head.to_vec(), true, false).await;
        fitting.send_fragment(tail.to_vec(), false, true).await;
        let answer = fitting.receive().await.unwrap();
        assert_eq!(answer["id"], "big", "{answer}");
        assert_eq!(answer["payload"]["data"]["__typename"], "Query", "{answer}");
    }
    // The server goes on.
    assert_eq!(app.get_status("/healthz").await, 200);
    answers_a_query(&mut connect(&app, Protocol::TransportWs).await, "q").await;
}
