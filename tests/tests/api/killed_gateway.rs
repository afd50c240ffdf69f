//! `kill -9` of the gateway under steady signed load, then a restart on the
//! same store and address: every delivery that got a 2xx is stored exactly
//! once, and the deliveries the load retries after the restart are answered
//! 202 (never stored) or 200 (stored before the kill, its answer lost).
use std::time::Duration;

use sea_orm::Database;

use crate::{
    helpers::{Backend, SECRET, TestStore, install_crypto},
    ledger::Load,
    on_both_backends,
    process::{GatewayProcess, free_port},
};

on_both_backends!(a_gateway_killed_under_load_loses_and_doubles_nothing);

async fn a_gateway_killed_under_load_loses_and_doubles_nothing(backend: Backend) {
    install_crypto();
    let store = TestStore::new(backend).await;
    let addr = format!("127.0.0.1:{}", free_port());
    let env = [
        ("DATABASE_URL", store.url.as_str()),
        ("CANOPY_WEBHOOK_SECRETS", SECRET),
        ("GATEWAY_ADDR", addr.as_str()),
    ];
    let gateway = GatewayProcess::start(&env).await;
    let load = Load::start(&gateway.url(""), 8);
    load.acknowledges(200).await;

    gateway.signal("KILL");
    let (status, _) = gateway.exited(Duration::from_secs(5)).await;
    assert!(!status.success(), "killed: {status}");
    let before_restart = load.acknowledged();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _restarted = GatewayProcess::start(&env).await;
    load.acknowledges(200).await;
    let ledger = load.stop().await;

    println!(
        "{} acknowledged ({before_restart} before the kill), {} refused connections, \
         {} broken, answers {:?}",
        ledger.acknowledged.len(),
        ledger.refused_connections,
        ledger.broken_connections.len(),
        ledger.answers
    );
    assert_eq!(ledger.unexpected_answers(false), Default::default());
    assert!(
        ledger.refused_connections + ledger.broken_connections.len() > 0,
        "the kill was seen by the load"
    );
    for (n, ack) in ledger.duplicates() {
        assert!(ack.attempts > 1, "delivery {n}: 200 on its first attempt");
    }
    let db = Database::connect(&store.url).await.unwrap();
    let stored = ledger.check_stored(&db).await;
    assert!(stored >= ledger.acknowledged.len());
}
