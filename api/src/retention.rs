//! `EVENT_RETENTION_DAYS`: a background task, supervised, on the follow-up
//! workers' connections (never the writer's), that purges the payloads of
//! events older than the window in small batches with a pause between
//! them, so ingest never waits on it for more than one short statement.
//! Metadata and dedup keys stay: a replayed old delivery is still a
//! duplicate.
use std::time::Duration;

use sea_orm::DatabaseConnection;

use crate::{
    clock,
    store::{self, purge},
    supervise::supervise,
};

/// How old payloads are purged (only `keep` is an environment variable;
/// tests shorten the rest).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Payloads of events received longer ago than this are purged.
    pub keep: Duration,
    /// Rows per statement.
    pub batch: u64,
    /// Between two batches of one pass.
    pub pause: Duration,
    /// Between passes (a pass ends when no old payload is left).
    pub every: Duration,
}

impl Policy {
    pub fn days(days: u32) -> Self {
        Self {
            keep: Duration::from_secs(u64::from(days) * 24 * 60 * 60),
            // Small and often: with 500 rows every 100 ms, ingest's p99 went
            // from 6.7 to 11.2 ms while a purge ran (bench/RESULTS.md).
            batch: 100,
            pause: Duration::from_millis(50),
            every: Duration::from_secs(5 * 60),
        }
    }
}

/// Starts purging on `db` under a supervisor.
pub fn spawn(db: DatabaseConnection, policy: Policy) {
    supervise("retention", move || purge_forever(db.clone(), policy));
}

async fn purge_forever(db: DatabaseConnection, policy: Policy) {
    let keep = chrono::Duration::from_std(policy.keep).expect("a window in days fits");
    // Where the last batch stopped: everything received before it is purged
    // already (the cutoff only moves forward), so it is not scanned again.
    let mut from = None;
    loop {
        loop {
            let now = clock::now();
            let batch = purge::batch(&db, now - keep, from, policy.batch, now);
            match store::timed(batch).await {
                Ok(batch) => {
                    from = batch.reached;
                    if batch.purged > 0 {
                        tracing::debug!(purged = batch.purged, "purged old payloads");
                    }
                    if batch.purged < policy.batch as usize {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "could not purge old payloads; trying again later");
                    break;
                }
            }
            tokio::time::sleep(policy.pause).await;
        }
        tokio::time::sleep(policy.every).await;
    }
}
