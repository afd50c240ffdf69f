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
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::{Notify, watch};

use super::fanout::{Fanout, Receiver};
use crate::{
    faults::Faults,
    graphql::Event,
    series,
    store::{self, events::EventFilter},
    supervise::{Running, supervise},
};

/// Batches kept for subscribers that are behind; one that falls further
/// behind catches up from the store instead, so memory stays bounded (at
/// most `BUFFER` batches of `FEED_PAGE` events and `BATCH_BYTES`, typically
/// a few events per batch).
const BUFFER: usize = 64;
/// Events the feed sends at once: a subscriber wakes at most once per batch.
const FEED_PAGE: u64 = 256;
/// Payload bytes in one batch (at least one event), so the ring holds at
/// most `BUFFER` × (this + one event) whatever the payloads' size.
const BATCH_BYTES: u64 = 1024 * 1024;

#[derive(Clone)]
pub struct Feed {
    shared: Arc<Shared>,
    running: Running,
}

struct Shared {
    /// The reader's current generation. When the reader dies it closes (and
    /// every subscription on it ends, with where to resume); its restart
    /// opens a new one.
    fanout: RwLock<Arc<Fanout>>,
    /// Highest id sent to subscribers (changed under the fanout's lock).
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
        let first = Fanout::new(BUFFER);
        let shared = Arc::new(Shared {
            fanout: RwLock::new(first.clone()),
            head: AtomicI64::new(head),
            wake: Notify::new(),
            db: db.clone(),
        });
        let mut first = Some(first);
        let running = supervise("live feed", {
            let shared = shared.clone();
            move || {
                let fanout = first.take().unwrap_or_else(|| {
                    let fanout = Fanout::new(BUFFER);
                    *shared.fanout.write().expect("feed lock") = fanout.clone();
                    fanout
                });
                let (db, committed, faults) = (db.clone(), committed.clone(), faults.clone());
                follow(shared.clone(), Closing(fanout), db, committed, poll, faults)
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

    /// Every batch sent after this call holding an event `filter` matches,
    /// and the id they all come after. While the reader is down, a receiver
    /// that is already closed.
    pub(super) fn subscribe(&self, filter: Arc<EventFilter>) -> (Receiver, i64) {
        let fanout = self.shared.fanout.read().expect("feed lock").clone();
        fanout.subscribe(filter, || self.shared.head.load(Ordering::SeqCst))
    }
}

/// Closes its generation when the reader ends, by returning or panicking.
struct Closing(Arc<Fanout>);

impl Drop for Closing {
    fn drop(&mut self) {
        self.0.close();
    }
}

async fn follow(
    shared: Arc<Shared>,
    fanout: Closing,
    db: DatabaseConnection,
    mut committed: watch::Receiver<i64>,
    poll: Duration,
    faults: Arc<Faults>,
) {
    loop {
        // After this node's own commit its watermark is the newest id
        // (ids are in commit order); other wake-ups ask the store.
        let newest = tokio::select! {
            changed = committed.changed() => match changed {
                Ok(()) => Some(*committed.borrow_and_update()),
                Err(_) => return,
            },
            () = shared.wake.notified() => None,
            () = tokio::time::sleep(poll) => None,
        };
        if faults.feed_should_crash() {
            panic!("fault injected: the live feed crashes");
        }
        if let Err(error) = shared.read_new(&fanout.0, &db, newest).await {
            tracing::warn!(%error, "feed could not read the store; retrying");
        }
    }
}

impl Shared {
    /// With no subscription open, moves the head to the newest event
    /// without reading the new ones back: a node nobody watches would
    /// otherwise read every payload it commits (two statements and the
    /// payloads per batch, a third of the store's work at one connection;
    /// bench/RESULTS.md). A subscription that opens later starts at the
    /// head, after all of them; one with a cursor reads them from the store.
    /// `newest`, when known, spares the store a read. True when it skipped.
    async fn skip_while_idle(
        &self,
        fanout: &Fanout,
        db: &DatabaseConnection,
        newest: Option<i64>,
    ) -> Result<bool, DbErr> {
        if !fanout.when_idle(|| ()) {
            return Ok(false);
        }
        let newest = match newest {
            Some(newest) => newest,
            None => store::timed(store::events::max_id(db)).await?,
        };
        Ok(fanout.when_idle(|| {
            self.head.fetch_max(newest, Ordering::SeqCst);
        }))
    }

    /// Sends subscribers what was committed after the head; `newest` is
    /// the newest id committed, if known.
    async fn read_new(
        &self,
        fanout: &Fanout,
        db: &DatabaseConnection,
        newest: Option<i64>,
    ) -> Result<(), DbErr> {
        loop {
            if self.skip_while_idle(fanout, db, newest).await? {
                return Ok(());
            }
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
            let batch = page.into_iter().map(Event::from).collect();
            fanout.publish(batch, || self.head.store(last, Ordering::SeqCst));
            if !more {
                return Ok(());
            }
        }
    }
}
