//! The node's live tail of the events table: one reader per node follows the
//! store in id (= commit) order and fans events out in process to every
//! subscriber, so subscriber count never multiplies store or Redis load.
use std::{
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use chrono::Utc;
use entity::events;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::{Notify, broadcast, watch};

use crate::store;

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
    /// Weak: the reader task holds the one strong sender, so the channel
    /// closes (and every subscription on it ends) when the reader stops.
    events: broadcast::WeakSender<Batch>,
    /// Highest id sent to subscribers.
    head: Arc<AtomicI64>,
    wake: Arc<Notify>,
    stop: Arc<Notify>,
}

impl Feed {
    /// Starts following the store from its current end, reading it at
    /// least every `poll` even with no wake-up, so a lost pub/sub message
    /// only delays an event.
    pub async fn start(
        db: DatabaseConnection,
        committed: watch::Receiver<i64>,
        poll: Duration,
    ) -> Result<Self, DbErr> {
        let head = store::events::max_id(&db).await?;
        let (events, _) = broadcast::channel(BUFFER);
        let feed = Self {
            events: events.downgrade(),
            head: Arc::new(AtomicI64::new(head)),
            wake: Arc::new(Notify::new()),
            stop: Arc::new(Notify::new()),
        };
        tokio::spawn(feed.clone().follow(events, db, committed, poll));
        Ok(feed)
    }

    /// Test hook (nothing in the gateway calls it): stops the reader as if
    /// it had died, so tests can see what subscribers get then.
    pub fn stop_for_tests(&self) {
        self.stop.notify_one();
    }

    /// Wakes the feed to read the store (another node committed).
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Every batch sent after this call, and the id they all come after.
    /// Once the reader has stopped, a receiver that is already closed.
    pub fn subscribe(&self) -> (broadcast::Receiver<Batch>, i64) {
        let receiver = match self.events.upgrade() {
            Some(events) => events.subscribe(),
            None => broadcast::channel(1).1,
        };
        // Read after subscribing: an event sent in between is received and
        // also at or below `head`, so it is skipped, never lost.
        (receiver, self.head.load(Ordering::SeqCst))
    }

    async fn follow(
        self,
        events: broadcast::Sender<Batch>,
        db: DatabaseConnection,
        mut committed: watch::Receiver<i64>,
        poll: Duration,
    ) {
        loop {
            tokio::select! {
                changed = committed.changed() => if changed.is_err() { return },
                () = self.wake.notified() => {}
                () = self.stop.notified() => return,
                () = tokio::time::sleep(poll) => {}
            }
            metrics::gauge!("gateway_subscribers").set(events.receiver_count() as f64);
            if let Err(error) = self.read_new(&events, &db).await {
                tracing::warn!(%error, "feed could not read the store; retrying");
            }
        }
    }

    async fn read_new(
        &self,
        events: &broadcast::Sender<Batch>,
        db: &DatabaseConnection,
    ) -> Result<(), DbErr> {
        loop {
            let after = self.head.load(Ordering::SeqCst);
            let store::events::EventPage { events: page, more } =
                store::events::oldest_first_page(db, None, after, FEED_PAGE, BATCH_BYTES).await?;
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
            if !more {
                return Ok(());
            }
        }
    }
}
