//! PostgreSQL unreachable: 503 and nothing acknowledged; back when it is.
//! The gateway reaches PostgreSQL through a TCP proxy the test cuts, so the
//! shared server itself is never stopped.
use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use serde_json::{Value, json};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::Notify,
};

use crate::helpers::{Backend, TestStore, signed, spawn_on, test_config};

/// Forwards to PostgreSQL while up; when cut, drops every open connection
/// and refuses new ones, as a dead server would.
struct Proxy {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    cut: Arc<Notify>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let cut = Arc::new(Notify::new());
        let (up2, cut2) = (up.clone(), cut.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if !up2.load(Ordering::SeqCst) {
                    continue; // dropped: connection closed at once
                }
                let cut = cut2.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        () = cut.notified() => {}
                    }
                });
            }
        });
        Self { addr, up, cut }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.notify_waiters();
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
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

    proxy.cut();
    let response = app.post_canopy(body(2)).await;
    assert_eq!(response.status().as_u16(), 503);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "STORE_UNAVAILABLE");
    assert_eq!(app.get_status("/readyz").await, 503);
    assert_eq!(app.get_status("/healthz").await, 200);

    proxy.restore();
    // The refused delivery was not stored: Canopy's retry is new to us.
    assert_eq!(app.post_canopy(body(2)).await.status().as_u16(), 202);
    assert_eq!(app.get_status("/readyz").await, 200);
    let events = app.events().await;
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e.deliveries == 1));
    assert_eq!(app.account("a").await.available_credit_cents, Some(2));
}
