//! Subscribers that stop reading hold the gateway's memory to its bounds
//! (README, "How it works"), measured on the gateway's own process.
use std::{
    ops::RangeInclusive,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use api::ids;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::json;

use crate::{
    helpers::{Backend, TestStore},
    process::{GatewayProcess, resident_bytes},
    subscriptions::receive_in_order,
    ws::{Protocol, WsClient},
};

const MIB: u64 = 1024 * 1024;
const PAYLOAD_BYTES: u64 = 32 * 1024;
/// Stored before the stalled subscribers start, after a marker event (id 1):
/// they begin by catching up through these.
const STORED: i64 = 600;
/// Then committed at once while they read nothing: more feed batches (of
/// at most 1 MiB) than its ring holds, so they fall behind it.
const LIVE: i64 = 2_500;
const STALLED: u64 = 32;
/// README's bounds: the feed's ring (64 batches of at most 1 MiB plus one
/// event), and per stalled subscription its catch-up page (at most 1 MiB
/// plus one event) and the message it is stuck sending with its socket's
/// write buffer, 2 MiB in all; plus 64 MiB for whatever else a loaded
/// process grows by. (Before pages and batches had a byte bound, each of
/// these subscriptions held up to 500 events, here 16 MiB.)
const GROWTH_LIMIT: u64 = 66 * MIB + STALLED * 2 * MIB + 64 * MIB;

/// Commits events `ids` with payloads of `padding` bytes straight into the
/// store, in one statement, as another node's commit would appear to the
/// feed (the HTTP path is tested elsewhere; here the events must be large
/// and many, quickly).
async fn commit(db: &DatabaseConnection, ids: RangeInclusive<i64>, padding: u64) {
    let sql = format!(
        "INSERT INTO events (id, source, event_type, account_id, received_at, payload, deliveries) \
         SELECT g, 'canopy', 'account_calculations_change', 'acct-1', now(), \
         '{{\"account_id\": \"acct-1\", \"padding\": \"' || repeat('x', {padding}) || '\"}}', 1 \
         FROM generate_series({}, {}) AS g",
        ids.start(),
        ids.end()
    );
    db.execute_unprepared(&sql).await.unwrap();
}

async fn subscribe(
    gateway: &GatewayProcess,
    protocol: Protocol,
    after: i64,
    fields: &str,
) -> WsClient {
    let mut client = WsClient::connect(gateway.addr, protocol, json!({}))
        .await
        .expect("open mode accepts any init");
    let query = format!("subscription($after: String) {{ events(after: $after) {{ {fields} }} }}");
    let variables = json!({"after": ids::event_cursor(after)});
    client.subscribe("1", &query, variables).await;
    client
}

/// The highest resident memory of `pid` seen until `stop` is set.
fn sample_peak(pid: u32, stop: Arc<AtomicBool>) -> Arc<AtomicU64> {
    let peak = Arc::new(AtomicU64::new(resident_bytes(pid)));
    let seen = peak.clone();
    tokio::spawn(async move {
        while !stop.load(Ordering::SeqCst) {
            seen.fetch_max(resident_bytes(pid), Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    peak
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_subscribers_keep_the_gateways_memory_bounded_then_catch_up() {
    let store = TestStore::new(Backend::Postgres).await;
    let gateway = GatewayProcess::start(&[("DATABASE_URL", &store.url)]).await;
    let db = Database::connect(&store.url).await.unwrap();
    commit(&db, 1..=1, 0).await;
    commit(&db, 2..=STORED + 1, PAYLOAD_BYTES).await;
    let mut healthy = subscribe(&gateway, Protocol::Legacy, STORED + 1, "cursor").await;

    let before = resident_bytes(gateway.pid());
    let stop = Arc::new(AtomicBool::new(false));
    let peak = sample_peak(gateway.pid(), stop.clone());
    let mut stalled = Vec::new();
    for n in 0..STALLED as usize {
        let protocol = Protocol::BOTH[n % 2];
        stalled.push(subscribe(&gateway, protocol, 1, "cursor payload").await);
    }
    commit(&db, STORED + 2..=STORED + LIVE + 1, PAYLOAD_BYTES).await;
    // The healthy subscriber keeps up while the stalled ones read nothing.
    let got = receive_in_order(&mut healthy, LIVE as usize).await;
    assert_eq!(got.last(), Some(&(STORED + LIVE + 1)));
    stop.store(true, Ordering::SeqCst);
    let growth = peak.load(Ordering::SeqCst).saturating_sub(before);
    println!(
        "gateway resident memory grew {} MiB (limit {} MiB) with {STALLED} stalled subscribers \
         while {LIVE} events of {} KiB passed them",
        growth / MIB,
        GROWTH_LIMIT / MIB,
        PAYLOAD_BYTES / 1024
    );
    assert!(growth < GROWTH_LIMIT, "grew {growth} bytes");

    // One of them reads again: it catches up from the store, every event
    // once, in order.
    let positions = receive_in_order(&mut stalled[0], (STORED + LIVE) as usize).await;
    assert_eq!(positions.first(), Some(&2));
    assert_eq!(positions.last(), Some(&(STORED + LIVE + 1)));
}
