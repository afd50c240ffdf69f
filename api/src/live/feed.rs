//! The node's live tail of the events table: one reader per node follows the
//! store in id (= commit) order and fans events out in process to every
//! subscriber, so subscriber count never multiplies store or Redis load.
use std::{
    sync::{
        Arc, RwLock,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use chrono::Utc;
use entity::events;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::{Notify, broadcast, watch};

use crate::{
    faults::Faults,
    store,
    supervise::{Running, supervise},
};

/// Batches kept for subscribers that are behind; one that falls further
/// behind catches up from the store instead, so memory stays bounded (at
/// most `BUFFER × FEED_PAGE` events, typically a few per batch).
const BUFFER: usize = 64;
/// Events the feed sends at once. Subscribers wake once per batch, not once
/// per event: with thousands of idle subscriptions the wake-ups are the cost.
const FEED_PAGE: u64 = 256;
/// Events in id order, sent to every subscriber together.
pub(super) type Batch = Arc<[Arc<events::Model>]>;
/// The store is read at least this often even with no wake-up, so a lost
/// pub/sub message only delays an event.
const POLL: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct Feed {
    shared: Arc<Shared>,
    running: Running,
}

struct Shared {
    /// Replaced when the feed restarts after a crash: the old channel then
    /// closes, so its subscribers learn that the feed stopped (and resume
    /// from their cursors) instead of waiting in silence.
    events: RwLock<broadcast::Sender<Batch>>,
    /// Highest id sent to subscribers.
    head: AtomicI64,
    wake: Notify,
}

impl Feed {
    /// Starts following the store from its current end, under a supervisor.
    pub async fn start(
        db: DatabaseConnection,
        committed: watch::Receiver<i64>,
        faults: Arc<Faults>,
    ) -> Result<Self, DbErr> {
        let head = store::events::max_id(&db).await?;
        let shared = Arc::new(Shared {
            events: RwLock::new(broadcast::channel(BUFFER).0),
            head: AtomicI64::new(head),
            wake: Notify::new(),
        });
        let mut restarted = false;
        let running = supervise("live feed", {
            let shared = shared.clone();
            move || {
                if std::mem::replace(&mut restarted, true) {
                    *shared.events.write().expect("feed lock") = broadcast::channel(BUFFER).0;
                }
                follow(
                    shared.clone(),
                    db.clone(),
                    committed.clone(),
                    faults.clone(),
                )
            }
        });
        Ok(Self { shared, running })
    }

    /// False while the feed task is down (between a crash and its restart).
    pub fn is_running(&self) -> bool {
        self.running.get()
    }

    /// Wakes the feed to read the store (another node committed).
    pub fn wake(&self) {
        self.shared.wake.notify_one();
    }

    /// Every batch sent after this call, and the id they all come after.
    pub fn subscribe(&self) -> (broadcast::Receiver<Batch>, i64) {
        let receiver = self.shared.events.read().expect("feed lock").subscribe();
        // Read after subscribing: an event sent in between is received and
        // also at or below `head`, so it is skipped, never lost.
        (receiver, self.shared.head.load(Ordering::SeqCst))
    }
}

async fn follow(
    shared: Arc<Shared>,
    db: DatabaseConnection,
    mut committed: watch::Receiver<i64>,
    faults: Arc<Faults>,
) {
    loop {
        tokio::select! {
            changed = committed.changed() => if changed.is_err() { return },
            () = shared.wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
        if faults.feed_should_crash() {
            panic!("fault injected: the live feed crashes");
        }
        let events = shared.events.read().expect("feed lock").clone();
        metrics::gauge!("gateway_subscribers").set(events.receiver_count() as f64);
        if let Err(error) = shared.read_new(&db, &events).await {
            tracing::warn!(%error, "feed could not read the store; retrying");
        }
    }
}

impl Shared {
    async fn read_new(
        &self,
        db: &DatabaseConnection,
        events: &broadcast::Sender<Batch>,
    ) -> Result<(), DbErr> {
        loop {
            let after = self.head.load(Ordering::SeqCst);
            let page = store::timed(store::events::oldest_first_after(
                db, None, after, FEED_PAGE,
            ))
            .await?;
            let full = page.len() as u64 == FEED_PAGE;
            let Some(last) = page.last().map(|e| e.id) else {
                return Ok(());
            };
            for event in &page {
                let lag = Utc::now() - event.received_at;
                metrics::histogram!("gateway_pubsub_lag_seconds")
                    .record(lag.num_microseconds().unwrap_or(0) as f64 / 1e6);
            }
            self.head.store(last, Ordering::SeqCst);
            // No receivers is fine: nobody is subscribed right now.
            let _ = events.send(page.into_iter().map(Arc::new).collect());
            if !full {
                return Ok(());
            }
        }
    }
}
