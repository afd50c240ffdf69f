//! SIGTERM (and SIGINT) under steady signed load, with open subscriptions
//! on both protocols, a body still arriving and a follow-up running: no
//! accepted request goes unanswered, every 2xx is stored, each subscription
//! ends with `SHUTTING_DOWN` and a cursor from which a restarted gateway
//! misses nothing, sockets close with 1001, the follow-up completes, and
//! the process exits 0 within 30 s.
use std::time::Duration;

use api::ids::event_cursor;
use entity::{events, follow_ups};
use sea_orm::{ColumnTrait, Database, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

use crate::{
    embedded_funding_ingest::{PATH, fixture},
    embedded_funding_mock::{API_KEY, answer_for},
    helpers::{Backend, SECRET, TestStore, install_crypto},
    ledger::{Load, delivery},
    process::GatewayProcess,
    subscriptions::{SUBSCRIPTION, position},
    ws::{Protocol, Refusal, WsClient},
    ws_rules::error_for,
};

/// How long the mocked Embedded Funding API takes to answer: the follow-up
/// is still running when the signal comes.
const SLOW_API: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_drops_nothing_and_exits_0() {
    shutdown_under_load("TERM").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_under_load_drops_nothing_and_exits_0() {
    shutdown_under_load("INT").await;
}

/// Subscribes to every event after `after` on `addr`.
async fn subscribe(addr: std::net::SocketAddr, protocol: Protocol, after: i64) -> WsClient {
    let mut client = WsClient::connect(addr, protocol, json!({}))
        .await
        .expect("connection accepted");
    let variables = json!({"filter": null, "after": event_cursor(after)});
    client.subscribe("1", SUBSCRIPTION, variables).await;
    client
}

/// Everything a subscription received until its socket closed: the event
/// positions, the end's `extensions`, and the close code.
async fn until_closed(client: &mut WsClient) -> (Vec<i64>, Value, u16) {
    let mut positions = Vec::new();
    let mut end = Value::Null;
    loop {
        match client.receive().await {
            Ok(message) if matches!(message["type"].as_str(), Some("next" | "data")) => {
                assert!(end.is_null(), "an event after the end: {message}");
                positions.push(position(&message["payload"]["data"]["events"]));
            }
            Ok(message) => {
                assert!(end.is_null(), "a second end: {message}");
                end = error_for(&message, "1", client.protocol)["extensions"].clone();
            }
            Err(Refusal::Closed(code)) => return (positions, end, code),
            Err(refusal) => panic!("{refusal:?}"),
        }
    }
}

/// The ids of the events stored after `after`, in order.
async fn stored_after(db: &DatabaseConnection, after: i64) -> Vec<i64> {
    events::Entity::find()
        .filter(events::Column::Id.gt(after))
        .order_by_asc(events::Column::Id)
        .all(db)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect()
}

/// A webhook request that has sent its head and half its body.
async fn half_sent(addr: std::net::SocketAddr, body: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /webhooks/canopy HTTP/1.1\r\nHost: gateway\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
        .write_all(&body.as_bytes()[..body.len() / 2])
        .await
        .unwrap();
    stream
}

/// Waits until the follow-up of event `id` is claimed (its attempt running).
async fn follow_up_running(db: &DatabaseConnection, id: i64) {
    for _ in 0..500 {
        let job = follow_ups::Entity::find()
            .filter(follow_ups::Column::EventId.eq(id))
            .one(db)
            .await
            .unwrap();
        if job.is_some_and(|job| job.attempts == 1) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the follow-up of event {id} was never claimed");
}

async fn shutdown_under_load(signal: &str) {
    install_crypto();
    let store = TestStore::new(Backend::Postgres).await;
    let db = Database::connect(&store.url).await.unwrap();
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(|request: &wiremock::Request| {
            ResponseTemplate::new(200)
                .set_body_json(answer_for(request.url.path()))
                .set_delay(SLOW_API)
        })
        .mount(&api)
        .await;
    let uri = api.uri();
    let env = [
        ("DATABASE_URL", store.url.as_str()),
        ("CANOPY_WEBHOOK_SECRETS", SECRET),
        ("EMBEDDED_FUNDING_ALLOWED_IPS", "127.0.0.1"),
        ("EMBEDDED_FUNDING_API_URL", uri.as_str()),
        ("EMBEDDED_FUNDING_API_KEY", API_KEY),
    ];
    let gateway = GatewayProcess::start(&env).await;
    let http = reqwest::Client::new();
    let post = |path: &str, body: String| {
        http.post(gateway.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let marker = post("/webhooks/canopy", delivery(usize::MAX))
        .await
        .unwrap();
    assert_eq!(marker.status().as_u16(), 202);
    let marker: Value = marker.json().await.unwrap();
    let start = api::ids::parse_event_id(marker["id"].as_str().unwrap()).unwrap();
    let mut subscribers = Vec::new();
    for protocol in Protocol::BOTH {
        subscribers.push(subscribe(gateway.addr, protocol, start).await);
    }

    let load = Load::start(&gateway.url(""), 8);
    load.acknowledges(100).await;
    let callback = post(PATH, fixture("0_credit_limit_updated")).await.unwrap();
    assert_eq!(callback.status().as_u16(), 202);
    let callback: Value = callback.json().await.unwrap();
    let job_event = api::ids::parse_event_id(callback["id"].as_str().unwrap()).unwrap();
    follow_up_running(&db, job_event).await;
    let late_body = delivery(usize::MAX - 1);
    let mut late = half_sent(gateway.addr, &late_body).await;
    // The head is read before the signal: the request is in flight.
    tokio::time::sleep(Duration::from_millis(200)).await;

    gateway.signal(signal);
    tokio::time::sleep(Duration::from_millis(300)).await;
    late.write_all(&late_body.as_bytes()[late_body.len() / 2..])
        .await
        .unwrap();
    let mut answer = Vec::new();
    late.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 202"),
        "the body still arriving is finished and answered: {answer}"
    );

    let mut resume_points = Vec::new();
    for client in &mut subscribers {
        let (positions, end, code) = until_closed(client).await;
        let last = positions.last().copied().unwrap_or(start);
        assert_eq!(
            end,
            json!({"code": "SHUTTING_DOWN", "resumeAfter": event_cursor(last)}),
            "{:?}",
            client.protocol
        );
        assert_eq!(code, 1001, "{:?}", client.protocol);
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "in order, once each"
        );
        resume_points.push((client.protocol, last));
    }
    let (status, took) = gateway.exited(Duration::from_secs(30)).await;
    assert!(status.success(), "exit status {status}");
    println!("exited {status} {took:?} after SIG{signal} + 300 ms");
    let ledger = load.stop().await;
    println!(
        "{} acknowledged, answers {:?}, {} refused connections",
        ledger.acknowledged.len(),
        ledger.answers,
        ledger.refused_connections
    );
    assert_eq!(ledger.unexpected_answers(true), Default::default());
    assert_eq!(
        ledger.broken_connections,
        Vec::<String>::new(),
        "no accepted request went unanswered"
    );
    ledger.check_stored(&db).await;

    // The follow-up that was running completed; none is left claimed.
    let job = follow_ups::Entity::find()
        .filter(follow_ups::Column::EventId.eq(job_event))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((job.state.as_str(), job.attempts), ("done", 1), "{job:?}");

    // A restarted gateway, subscribed again from each `resumeAfter`, sends
    // exactly what the subscription had not delivered.
    let restarted = GatewayProcess::start(&env[..2]).await;
    for (protocol, after) in resume_points {
        let missed = stored_after(&db, after).await;
        let mut client = subscribe(restarted.addr, protocol, after).await;
        let mut received = Vec::new();
        for _ in 0..missed.len() {
            let message = client.next_payload().await;
            received.push(position(&message["data"]["events"]));
        }
        assert_eq!(received, missed, "{protocol:?}");
        let quiet = tokio::time::timeout(Duration::from_millis(300), client.receive()).await;
        assert!(quiet.is_err(), "nothing more: {quiet:?}");
    }
}
