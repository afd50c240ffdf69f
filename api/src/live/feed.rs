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
    events: broadcast::Sender<Batch>,
    /// Highest id sent to subscribers.
    head: Arc<AtomicI64>,
    wake: Arc<Notify>,
}

impl Feed {
    /// Starts following the store from its current end.
    pub async fn start(
        db: DatabaseConnection,
        committed: watch::Receiver<i64>,
    ) -> Result<Self, DbErr> {
        let head = store::events::max_id(&db).await?;
        let feed = Self {
            events: broadcast::channel(BUFFER).0,
            head: Arc::new(AtomicI64::new(head)),
            wake: Arc::new(Notify::new()),
        };
        tokio::spawn(feed.clone().follow(db, committed));
        Ok(feed)
    }

    /// Wakes the feed to read the store (another node committed).
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Every batch sent after this call, and the id they all come after.
    pub fn subscribe(&self) -> (broadcast::Receiver<Batch>, i64) {
        let receiver = self.events.subscribe();
        // Read after subscribing: an event sent in between is received and
        // also at or below `head`, so it is skipped, never lost.
        (receiver, self.head.load(Ordering::SeqCst))
    }

    async fn follow(self, db: DatabaseConnection, mut committed: watch::Receiver<i64>) {
        loop {
            tokio::select! {
                changed = committed.changed() => if changed.is_err() { return },
                () = self.wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
            metrics::gauge!("gateway_subscribers").set(self.events.receiver_count() as f64);
            if let Err(error) = self.read_new(&db).await {
                tracing::warn!(%error, "feed could not read the store; retrying");
            }
        }
    }

    async fn read_new(&self, db: &DatabaseConnection) -> Result<(), DbErr> {
        loop {
            let after = self.head.load(Ordering::SeqCst);
            let page = store::events::oldest_first_after(db, None, after, FEED_PAGE).await?;
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
            let _ = self.events.send(page.into_iter().map(Arc::new).collect());
            if !full {
                return Ok(());
            }
        }
    }
}
