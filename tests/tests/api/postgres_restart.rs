//! PostgreSQL crashes and comes back under steady signed load (a private
//! cluster on a free port, stopped `-m immediate`): deliveries get 503
//! while it is down, never a 2xx for anything not stored, and ingest
//! resumes by itself when it is back, without restarting the gateway.
use std::time::{Duration, Instant};

use crate::{
    helpers::{TestStore, spawn_on, test_config},
    ledger::Load,
    private_stores::PrivatePostgres,
};

/// How long the store stays down.
const OUTAGE: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_answers_503_meanwhile_and_ingest_resumes_by_itself() {
    let postgres = PrivatePostgres::start();
    let url = postgres.url();
    let app = spawn_on(TestStore::external(&url), test_config(&url)).await;
    let load = Load::start(&format!("http://{}", app.addr), 8);
    load.acknowledges(100).await;

    postgres.crash();
    let down = Instant::now();
    tokio::time::sleep(OUTAGE).await;
    assert_eq!(app.get_status("/readyz").await, 503);
    let up = Instant::now();
    postgres.up();
    load.acknowledges(100).await;
    let ledger = load.stop().await;

    println!(
        "{} acknowledged, answers {:?}, slowest answer {:?}",
        ledger.acknowledged.len(),
        ledger.answers,
        ledger.slowest_answer
    );
    assert_eq!(ledger.unexpected_answers(true), Default::default());
    assert_eq!(ledger.broken_connections, Vec::<String>::new());
    let during = |at: Instant| at > down + Duration::from_secs(1) && at < up;
    assert!(
        ledger.unavailable_at.iter().any(|&at| during(at)),
        "deliveries are refused with 503 while the store is down"
    );
    let acknowledged_while_down: Vec<_> = ledger
        .acknowledged
        .iter()
        .filter(|(_, ack)| during(ack.at))
        .collect();
    assert!(
        acknowledged_while_down.is_empty(),
        "acknowledged while the store was down: {acknowledged_while_down:?}"
    );
    assert!(
        ledger.acknowledged.values().any(|ack| ack.at > up),
        "ingest resumed"
    );
    ledger.check_stored(&app.db).await;
    app.status_becomes("/readyz", 200).await;
}
