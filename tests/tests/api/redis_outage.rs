//! Redis killed under steady signed load, on two nodes sharing a store and
//! a private `redis-server`: ingest never fails nor waits on it (the bound
//! checked: no delivery waits 5 s or more for its answer; measured figures
//! are printed), and once Redis is back every subscriber, on either node,
//! has every committed event, in order, once. The nodes' feeds do not poll
//! the store, so across nodes only Redis (and the catch-up after its
//! return) delivers.
use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::{
    helpers::{Backend, TestStore},
    ledger::{Ack, Load},
    private_stores::PrivateRedis,
    subscriptions::{marker, nodes, reader, receive_in_order},
    ws::Protocol,
};

/// No delivery may wait this long for its answer while Redis is down: a
/// correctness bound ("never blocks on Redis"), not a performance figure.
const NEVER_WAITS: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_under_load_never_fails_ingest_and_subscribers_miss_nothing() {
    let mut redis = PrivateRedis::start();
    let store = TestStore::new(Backend::Postgres).await;
    let apps = nodes(&store, 2, &redis.url()).await;
    let start = marker(&apps[0]).await;
    let mut subscribers = vec![
        reader(&apps[0], Protocol::Legacy, start).await,
        reader(&apps[1], Protocol::TransportWs, start).await,
    ];
    let load = Load::start(&format!("http://{}", apps[0].addr), 8);
    load.acknowledges(100).await;

    redis.kill();
    let killed = Instant::now();
    load.acknowledges(300).await;
    let while_down = load.acknowledged();
    let restarted = Instant::now();
    redis.restart();
    load.acknowledges(100).await;
    let ledger = load.stop().await;

    let down = |ack: &Ack| ack.at > killed && ack.at < restarted;
    let up = |ack: &Ack| !down(ack);
    println!(
        "{} acknowledged ({while_down} by the end of the outage), answers {:?}; \
         Redis up: p50 {:?}, p99 {:?}; Redis down: p50 {:?}, p99 {:?}; slowest {:?}",
        ledger.acknowledged.len(),
        ledger.answers,
        ledger.percentile(50, up),
        ledger.percentile(99, up),
        ledger.percentile(50, down),
        ledger.percentile(99, down),
        ledger.slowest_answer
    );
    assert_eq!(ledger.unexpected_answers(false), Default::default());
    assert_eq!(ledger.broken_connections, Vec::<String>::new());
    assert_eq!(ledger.refused_connections, 0);
    assert!(
        ledger.slowest_answer < NEVER_WAITS,
        "a delivery waited {:?}",
        ledger.slowest_answer
    );
    let db = &apps[0].db;
    ledger.check_stored(db).await;
    use entity::events::{Column, Entity};
    let committed: Vec<i64> = Entity::find()
        .filter(Column::Id.gt(start))
        .order_by_asc(Column::Id)
        .all(db)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    for subscriber in &mut subscribers {
        let received = receive_in_order(subscriber, committed.len()).await;
        assert_eq!(received, committed, "{:?}", subscriber.protocol);
    }
}
