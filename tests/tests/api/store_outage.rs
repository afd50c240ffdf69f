//! PostgreSQL unreachable or hung: 503 and nothing acknowledged; back when
//! it is. The gateway reaches PostgreSQL through a TCP proxy the test cuts
//! or hangs, so the shared server itself is never stopped.
use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use futures::future::join_all;
use serde_json::{Value, json};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
};

use crate::helpers::{Backend, TestStore, signed, spawn_on, test_config};

/// Forwards to PostgreSQL while up. Cut, it drops every open connection
/// and refuses new ones, as a dead server would; hung, it keeps every
/// connection open and accepts new ones but forwards nothing, as a server
/// that stopped answering would.
struct Proxy {
    addr: SocketAddr,
    state: watch::Sender<Link>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    Up,
    Cut,
    Hung,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (state, _) = watch::channel(Link::Up);
        let links = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let mut link = links.subscribe();
                tokio::spawn(async move { relay(client, target, &mut link).await });
            }
        });
        Self { addr, state }
    }

    fn set(&self, link: Link) {
        self.state.send_replace(link);
    }
}

/// One client connection, for as long as the link lets it live.
async fn relay(mut client: TcpStream, target: SocketAddr, link: &mut watch::Receiver<Link>) {
    let current = *link.borrow_and_update();
    match current {
        Link::Cut => return, // dropped: closed at once
        Link::Hung => {
            // Held open, never answered, until the link changes.
            let _ = link.changed().await;
            return;
        }
        Link::Up => {}
    }
    let Ok(mut server) = TcpStream::connect(target).await else {
        return;
    };
    let changed = tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => None,
        to = link.wait_for(|l| *l != Link::Up) => to.ok().map(|to| *to),
    };
    if changed == Some(Link::Hung) {
        // Both sockets stay open and silent until the link changes again.
        let _ = link.changed().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_outage_answers_503_and_loses_nothing() {
    let store = TestStore::new(Backend::Postgres).await;
    let proxy = Proxy::start("127.0.0.1:5432".parse().unwrap()).await;
    let proxied_url = store.url.replace("127.0.0.1:5432", &proxy.addr.to_string());
    let app = spawn_on(store, test_config(&proxied_url)).await;

    let body = |n: i64| {
        signed(
            "account_calculations_change",
            json!({"account_id": "a", "available_credit_cents": n}),
        )
    };
    assert_eq!(app.post_canopy(body(1)).await.status().as_u16(), 202);

    proxy.set(Link::Cut);
    let response = app.post_canopy(body(2)).await;
    assert_eq!(response.status().as_u16(), 503);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "STORE_UNAVAILABLE");
    assert_eq!(app.get_status("/readyz").await, 503);
    assert_eq!(app.get_status("/healthz").await, 200);

    proxy.set(Link::Up);
    // The refused delivery was not stored: Canopy's retry is new to us.
    assert_eq!(app.post_canopy(body(2)).await.status().as_u16(), 202);
    assert_eq!(app.get_status("/readyz").await, 200);
    let events = app.events().await;
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e.deliveries == 1));
    assert_eq!(app.account("a").await.available_credit_cents, Some(2));
}

fn numbered(n: i64) -> String {
    signed(
        "account_calculations_change",
        json!({"account_id": format!("acct-{n}"), "available_credit_cents": n}),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_stops_answering_gets_503_within_10_s_then_recovers() {
    let store = TestStore::new(Backend::Postgres).await;
    let proxy = Proxy::start("127.0.0.1:5432".parse().unwrap()).await;
    let proxied_url = store.url.replace("127.0.0.1:5432", &proxy.addr.to_string());
    let app = spawn_on(store, test_config(&proxied_url)).await;
    assert_eq!(app.post_canopy(numbered(0)).await.status().as_u16(), 202);

    proxy.set(Link::Hung);
    let started = Instant::now();
    let answers = join_all((1..=20).map(|n| app.post_canopy(numbered(n)))).await;
    for response in answers {
        assert_eq!(response.status().as_u16(), 503);
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], "STORE_UNAVAILABLE");
    }
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(10),
        "answered after {waited:?}"
    );
    let ready = tokio::time::timeout(Duration::from_secs(10), app.get_status("/readyz")).await;
    assert_eq!(ready.expect("/readyz answers while the store hangs"), 503);

    proxy.set(Link::Up);
    // Back by itself: no restart, and every delivery refused above is new.
    let mut status = 0;
    for _ in 0..100 {
        status = app.post_canopy(numbered(1)).await.status().as_u16();
        if status == 202 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 202, "ingest resumes once the store answers");
    for n in 2..=20 {
        assert_eq!(
            app.post_canopy(numbered(n)).await.status().as_u16(),
            202,
            "{n}"
        );
    }
    assert_eq!(app.get_status("/readyz").await, 200);
    let events = app.events().await;
    assert_eq!(events.len(), 21);
    assert!(events.iter().all(|e| e.deliveries == 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_holding_every_read_connection_never_fails_a_delivery() {
    use sea_orm::{ConnectionTrait, TransactionTrait};

    use crate::graphql_support::gql;

    let app = crate::helpers::spawn_app(Backend::Postgres).await;
    // Every read of notification configs now waits for this lock (until
    // the read's statement timeout); ingest never touches that table.
    let lock = app.db.begin().await.unwrap();
    lock.execute_unprepared("LOCK TABLE notification_configs IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let reads = join_all((0..40).map(|i| {
        gql(
            &app,
            None,
            "query($id: ID!) { notificationConfigs(accountId: $id) { id } }",
            json!({"id": format!("acct-{i}")}),
        )
    }));
    let deliveries = async {
        // Let the reads take every read connection first.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let answers = join_all((0..50).map(|n| app.post_canopy(numbered(n)))).await;
        let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
        // Held past the GraphQL slot wait, so the reads beyond the node's
        // bound are shed rather than queued.
        tokio::time::sleep(Duration::from_secs(3)).await;
        lock.rollback().await.unwrap();
        statuses
    };
    let (reads, statuses) = tokio::join!(reads, deliveries);
    assert_eq!(statuses, vec![202; 50]);
    assert_eq!(app.events().await.len(), 50);
    let codes: Vec<String> = reads
        .iter()
        .map(|r| match r.json.get("errors") {
            Some(errors) => format!("{} {}", r.status, errors[0]["extensions"]["code"]),
            None => format!("{} data", r.status),
        })
        .collect();
    let shed = codes.iter().filter(|c| *c == "503 \"OVERLOADED\"").count();
    assert_eq!(shed, 40 - api::routes::MAX_GRAPHQL_REQUESTS, "{codes:?}");
}
