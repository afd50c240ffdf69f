//! One subscription's cursor over the node's [`Feed`].
use std::{collections::VecDeque, sync::Arc, time::Duration};

use entity::events;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::broadcast;

use super::feed::{Batch, Feed};
use crate::store;

/// Events a catching-up subscriber reads from the store at once.
const PAGE: u64 = 500;

/// One subscriber's position in the feed: replays from the store what it
/// has not seen (after a cursor, or after falling behind), then follows the
/// live feed, delivering each matching event once, in id order.
pub struct Tail {
    db: DatabaseConnection,
    filter: store::events::EventFilter,
    live: broadcast::Receiver<Batch>,
    /// The live batch being delivered, and the index of its next event.
    current: Option<(Batch, usize)>,
    /// Every event at or below this id has been delivered or skipped.
    position: i64,
    backlog: VecDeque<Arc<events::Model>>,
    catching_up: bool,
}

impl Tail {
    /// With `after`, starts right after that event id; without, after the
    /// last event the feed has sent.
    pub fn new(
        feed: &Feed,
        db: DatabaseConnection,
        filter: store::events::EventFilter,
        after: Option<i64>,
    ) -> Self {
        let (live, head) = feed.subscribe();
        Self {
            db,
            filter,
            live,
            current: None,
            position: after.unwrap_or(head),
            backlog: Default::default(),
            catching_up: after.is_some(),
        }
    }

    /// The next matching event; `None` once the feed has stopped.
    pub async fn next(&mut self) -> Option<Arc<events::Model>> {
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
                        tokio::time::sleep(retry).await;
                        retry = (retry * 2).min(Duration::from_secs(5));
                    }
                }
                continue;
            }
            if let Some((batch, next)) = &mut self.current {
                while let Some(event) = batch.get(*next) {
                    *next += 1;
                    if event.id > self.position {
                        self.position = event.id;
                        if self.filter.matches(event) {
                            return Some(event.clone());
                        }
                    }
                }
                self.current = None;
            }
            match self.live.recv().await {
                Ok(batch) => self.current = Some((batch, 0)),
                // Fell more than the buffer behind: the store has it all.
                Err(broadcast::error::RecvError::Lagged(_)) => self.catching_up = true,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// One page of matching events after `position`. The live receiver was
    /// subscribed before any of these reads, so whatever commits later is in
    /// it: switching back to live leaves no gap, and ids at or below
    /// `position` are skipped there, so nothing repeats.
    async fn read_backlog(&mut self) -> Result<(), DbErr> {
        let page =
            store::events::oldest_first_after(&self.db, Some(&self.filter), self.position, PAGE)
                .await?;
        if (page.len() as u64) < PAGE {
            self.catching_up = false;
        }
        if let Some(last) = page.last() {
            self.position = last.id;
        }
        self.backlog.extend(page.into_iter().map(Arc::new));
        Ok(())
    }
}
