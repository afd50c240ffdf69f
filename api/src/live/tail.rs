//! One subscription's cursor over the node's [`Feed`].
use std::{collections::VecDeque, sync::Arc, time::Duration};

use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::watch;

use super::{
    fanout::{Batch, Receiver, Taken},
    feed::Feed,
};
use crate::{graphql::Event, series, store};

/// Events a catching-up subscriber reads from the store at once...
const PAGE_ROWS: u64 = 500;
/// ...and their payload bytes (at least one event): what a catching-up
/// subscription holds at most, besides the event being sent.
const PAGE_BYTES: u64 = 1024 * 1024;

/// Why a subscription ended before its client completed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// The feed's channel closed: its reader stopped.
    FeedUnavailable,
    /// The node is shutting down ([`super::Shutdown`]).
    ShuttingDown,
}

/// How a subscription ended, and where a new one resumes without missing
/// or repeating anything: after the last event it delivered (or, when it
/// delivered none, where it started; `None` only if the store was empty then).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct End {
    pub reason: EndReason,
    pub resume_after: Option<i64>,
}

/// One subscriber's position in the feed: replays from the store what it
/// has not seen (after a cursor, or after falling behind), then follows the
/// live feed, delivering each matching event once, in id order, until the
/// feed stops or the node shuts down.
pub struct Tail {
    cursor: Cursor,
    shutdown: watch::Receiver<bool>,
    /// The last event id delivered, or the starting point.
    delivered: i64,
    _counted: Counted,
}

/// One open subscription in `gateway_subscribers`, for as long as it lives.
struct Counted;

impl Counted {
    fn new() -> Self {
        metrics::gauge!(series::SUBSCRIBERS).increment(1.0);
        Self
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        metrics::gauge!(series::SUBSCRIBERS).decrement(1.0);
    }
}

impl Tail {
    /// With `after`, starts right after that event id; without, after the
    /// last event the feed has sent. Catches up through the feed's own
    /// connections, so GraphQL reads cannot starve subscriptions.
    pub fn new(
        feed: &Feed,
        filter: store::events::EventFilter,
        after: Option<i64>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let filter = Arc::new(filter);
        let (live, head) = feed.subscribe(filter.clone());
        let position = after.unwrap_or(head);
        Self {
            cursor: Cursor {
                db: feed.db(),
                filter,
                live,
                current: VecDeque::new(),
                next: 0,
                position,
                backlog: VecDeque::new(),
                catching_up: after.is_some(),
            },
            shutdown,
            delivered: position,
            _counted: Counted::new(),
        }
    }

    /// The next matching event, or how the subscription ended; nothing
    /// follows an end.
    pub async fn next(&mut self) -> Result<Event, End> {
        let reason = tokio::select! {
            biased;
            // An error here means the node's `Shutdown` is gone: the same.
            _ = self.shutdown.wait_for(|closing| *closing) => EndReason::ShuttingDown,
            event = self.cursor.next() => match event {
                Some(event) => {
                    self.delivered = event.row().id;
                    return Ok(event);
                }
                None => EndReason::FeedUnavailable,
            },
        };
        Err(End {
            reason,
            resume_after: (self.delivered > 0).then_some(self.delivered),
        })
    }
}

struct Cursor {
    db: DatabaseConnection,
    filter: Arc<store::events::EventFilter>,
    live: Receiver,
    /// Live batches being delivered, and the index of the next event in
    /// the first of them.
    current: VecDeque<Batch>,
    next: usize,
    /// Every event at or below this id has been delivered, skipped, or is
    /// in `backlog`.
    position: i64,
    backlog: VecDeque<Event>,
    catching_up: bool,
}

impl Cursor {
    /// The next matching event; `None` once the feed has stopped.
    async fn next(&mut self) -> Option<Event> {
        let mut retry = Duration::from_millis(100);
        loop {
            if let Some(event) = self.backlog.pop_front() {
                return Some(event);
            }
            if self.catching_up {
                match self.read_backlog().await {
                    Ok(()) => retry = Duration::from_millis(100),
                    Err(error) => {
                        tracing::warn!(%error, "subscriber could not catch up; retrying");
                        // Boxed: the timer would otherwise take room in
                        // every idle subscription's future.
                        Box::pin(tokio::time::sleep(retry)).await;
                        retry = (retry * 2).min(Duration::from_secs(5));
                    }
                }
                continue;
            }
            while let Some(batch) = self.current.front() {
                while let Some(event) = batch.get(self.next) {
                    self.next += 1;
                    let row = event.row();
                    if row.id > self.position {
                        self.position = row.id;
                        if self.filter.matches(row) {
                            return Some(event.clone());
                        }
                    }
                }
                self.current.pop_front();
                self.next = 0;
            }
            match self.live.take() {
                Taken::Batches(batches) => self.current = batches.into(),
                // A batch it needs left the ring: the store has it all.
                Taken::Lagged => self.catching_up = true,
                Taken::Nothing => self.live.changed().await,
                Taken::Closed => return None,
            }
        }
    }

    /// One page of matching events after `position`. The live receiver was
    /// subscribed (or, after a lag, taken from) before any of these reads,
    /// so whatever commits later reaches it: switching back to live leaves
    /// no gap, and ids at or below `position` are skipped there, so nothing
    /// repeats.
    ///
    /// The read runs as a task of its own: its socket may stop polling this
    /// subscription for as long as a slow client takes to read what was sent
    /// before, and a read left half done meanwhile would hold one of the
    /// feed's few connections (and an idle subscription would keep room for
    /// the read's large future all along).
    async fn read_backlog(&mut self) -> Result<(), DbErr> {
        let (db, filter, position) = (self.db.clone(), self.filter.clone(), self.position);
        let read = tokio::spawn(async move {
            store::timed(store::events::oldest_first_page(
                &db,
                Some(&filter),
                position,
                PAGE_ROWS,
                PAGE_BYTES,
            ))
            .await
        });
        let page = read
            .await
            .map_err(|error| DbErr::Custom(format!("the catch-up read failed: {error}")))??;
        self.catching_up = page.more;
        if let Some(last) = page.events.last() {
            self.position = last.id;
        }
        self.backlog
            .extend(page.events.into_iter().map(Event::from));
        Ok(())
    }
}
