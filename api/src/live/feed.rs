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
    series, store,
    supervise::{Running, supervise},
};

/// Batches kept for subscribers that are behind; one that falls further
/// behind catches up from the store instead, so memory stays bounded (at
/// most `BUFFER` batches of `FEED_PAGE` events and `BATCH_BYTES`, typically
/// a few events per batch).
const BUFFER: usize = 64;
/// Events the feed sends at once. Subscribers wake once per batch, not once
/// per event: with thousands of idle subscriptions the wake-ups are the cost.
const FEED_PAGE: u64 = 256;
/// Payload bytes in one batch (at least one event), so the ring holds at
/// most `BUFFER` × (this + one event) whatever the payloads' size.
const BATCH_BYTES: u64 = 1024 * 1024;
/// Events in id order, sent to every subscriber together.
pub(super) type Batch = Arc<[Arc<events::Model>]>;

#[derive(Clone)]
pub struct Feed {
    shared: Arc<Shared>,
    running: Running,
}

struct Shared {
    /// Weak: the reader task holds the one strong sender, so the channel
    /// closes (and every subscription on it ends, with where to resume) the
    /// moment the reader dies; its restart opens a new one.
    events: RwLock<broadcast::WeakSender<Batch>>,
    /// Highest id sent to subscribers.
    head: AtomicI64,
    wake: Notify,
    /// The feed's own connections (subscribers catch up through them too).
    db: DatabaseConnection,
}

impl Feed {
    /// Starts following the store from its current end, under a supervisor,
    /// reading it at least every `poll` even with no wake-up, so a lost
    /// pub/sub message only delays an event.
    pub async fn start(
        db: DatabaseConnection,
        committed: watch::Receiver<i64>,
        poll: Duration,
        faults: Arc<Faults>,
    ) -> Result<Self, DbErr> {
        let head = store::events::max_id(&db).await?;
        let (first, _) = broadcast::channel(BUFFER);
        let shared = Arc::new(Shared {
            events: RwLock::new(first.downgrade()),
            head: AtomicI64::new(head),
            wake: Notify::new(),
            db: db.clone(),
        });
        let mut first = Some(first);
        let running = supervise("live feed", {
            let shared = shared.clone();
            move || {
                let events = first.take().unwrap_or_else(|| {
                    let (events, _) = broadcast::channel(BUFFER);
                    *shared.events.write().expect("feed lock") = events.downgrade();
                    events
                });
                let (db, committed, faults) = (db.clone(), committed.clone(), faults.clone());
                follow(shared.clone(), events, db, committed, poll, faults)
            }
        });
        Ok(Self { shared, running })
    }

    /// False while the feed task is down (between a crash and its restart).
    pub fn is_running(&self) -> bool {
        self.running.get()
    }

    /// The feed's connections, for subscribers catching up.
    pub fn db(&self) -> DatabaseConnection {
        self.shared.db.clone()
    }

    /// Wakes the feed to read the store (another node committed).
    pub fn wake(&self) {
        self.shared.wake.notify_one();
    }

    /// Every batch sent after this call, and the id they all come after.
    /// While the reader is down, a receiver that is already closed.
    pub fn subscribe(&self) -> (broadcast::Receiver<Batch>, i64) {
        let events = self.shared.events.read().expect("feed lock").upgrade();
        let receiver = match events {
            Some(events) => events.subscribe(),
            None => broadcast::channel(1).1,
        };
        // Read after subscribing: an event sent in between is received and
        // also at or below `head`, so it is skipped, never lost.
        (receiver, self.shared.head.load(Ordering::SeqCst))
    }
}

async fn follow(
    shared: Arc<Shared>,
    events: broadcast::Sender<Batch>,
    db: DatabaseConnection,
    mut committed: watch::Receiver<i64>,
    poll: Duration,
    faults: Arc<Faults>,
) {
    loop {
        tokio::select! {
            changed = committed.changed() => if changed.is_err() { return },
            () = shared.wake.notified() => {}
            () = tokio::time::sleep(poll) => {}
        }
        if faults.feed_should_crash() {
            panic!("fault injected: the live feed crashes");
        }
        if let Err(error) = shared.read_new(&events, &db).await {
            tracing::warn!(%error, "feed could not read the store; retrying");
        }
    }
}

impl Shared {
    async fn read_new(
        &self,
        events: &broadcast::Sender<Batch>,
        db: &DatabaseConnection,
    ) -> Result<(), DbErr> {
        loop {
            let after = self.head.load(Ordering::SeqCst);
            let store::events::EventPage { events: page, more } = store::timed(
                store::events::oldest_first_page(db, None, after, FEED_PAGE, BATCH_BYTES),
            )
            .await?;
            let Some(last) = page.last().map(|e| e.id) else {
                return Ok(());
            };
            for event in &page {
                let lag = Utc::now() - event.received_at;
                metrics::histogram!(series::PUBSUB_LAG)
                    .record(lag.num_microseconds().unwrap_or(0) as f64 / 1e6);
            }
            self.head.store(last, Ordering::SeqCst);
            // No receivers is fine: nobody is subscribed right now.
            let _ = events.send(page.into_iter().map(Arc::new).collect());
            if !more {
                return Ok(());
            }
        }
    }
}
