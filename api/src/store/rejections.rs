//! Refused deliveries, recorded off the delivery path: a refusal is queued
//! (never waited on) and a recorder task writes the queue in batches on its
//! own connection, so neither a flood of refusals nor a slow store can delay
//! or fail a valid delivery.
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::rejected_deliveries;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, NotSet};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use crate::{event::SourceKind, series};

/// Refusals waiting to be written at most; beyond it they are dropped,
/// counted in `gateway_refusal_records_dropped_total` and logged.
const QUEUE: usize = 10_000;
/// Rows written in one statement at most.
const BATCH: usize = 500;

/// A refused delivery, as recorded: never the body, only its size and hash.
pub struct Rejection<'a> {
    pub source: SourceKind,
    pub reason: &'static str,
    pub status: u16,
    pub remote_addr: Option<String>,
    pub body: RejectedBody<'a>,
}

pub enum RejectedBody<'a> {
    Read(&'a [u8]),
    /// Not read (too large, or refused before it was read): its declared or
    /// received length, if any; no hash is computed.
    NotRead {
        bytes: Option<u64>,
    },
}

impl Rejection<'_> {
    fn into_row(self, at: DateTime<Utc>) -> rejected_deliveries::ActiveModel {
        let (body_bytes, body_sha256) = match self.body {
            RejectedBody::Read(body) => (body.len() as u64, hex::encode(Sha256::digest(body))),
            RejectedBody::NotRead { bytes } => (bytes.unwrap_or(0), String::new()),
        };
        rejected_deliveries::ActiveModel {
            id: NotSet,
            source: Set(self.source.as_str().to_owned()),
            reason: Set(self.reason.to_owned()),
            status: Set(i32::from(self.status)),
            remote_addr: Set(self.remote_addr),
            body_bytes: Set(i64::try_from(body_bytes).unwrap_or(i64::MAX)),
            body_sha256: Set(body_sha256),
            received_at: Set(at),
        }
    }
}

enum Queued {
    Row(rejected_deliveries::ActiveModel),
    /// Answered once every row queued before it is written.
    Flush(oneshot::Sender<()>),
}

/// The queue in front of the recorder task.
#[derive(Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Queued>,
}

impl Recorder {
    /// Starts the recorder on `db`, its own connection.
    pub fn spawn(db: DatabaseConnection) -> Self {
        let (queue, rx) = mpsc::channel(QUEUE);
        tokio::spawn(drain(db, rx));
        Self { queue }
    }

    /// Queues the record; never waits.
    pub fn record(&self, rejection: Rejection<'_>) {
        let row = rejection.into_row(crate::clock::now());
        if self.queue.try_send(Queued::Row(row)).is_err() {
            metrics::counter!(series::REFUSAL_RECORDS_DROPPED).increment(1);
            tracing::warn!("refusal queue full: a refused delivery was not recorded");
        }
    }

    /// Returns once every refusal recorded before the call is written (or
    /// the recorder has stopped).
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.queue.send(Queued::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}

async fn drain(db: DatabaseConnection, mut rx: mpsc::Receiver<Queued>) {
    let mut taken = Vec::with_capacity(BATCH);
    let mut rows = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut taken, BATCH).await > 0 {
        let mut flushes = Vec::new();
        for queued in taken.drain(..) {
            match queued {
                Queued::Row(row) => rows.push(row),
                Queued::Flush(done) => flushes.push(done),
            }
        }
        write(&db, &rows).await;
        rows.clear();
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// Writes `rows`, retrying until the store takes them: the queue fills (and
/// then drops, counted) while the store is away, rather than losing what was
/// already taken from it.
async fn write(db: &DatabaseConnection, rows: &[rejected_deliveries::ActiveModel]) {
    if rows.is_empty() {
        return;
    }
    let mut retry = Duration::from_millis(100);
    while let Err(error) = super::timed(insert(db, rows)).await {
        tracing::warn!(%error, rows = rows.len(), "could not record refusals; retrying");
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(Duration::from_secs(5));
    }
}

async fn insert(
    db: &impl ConnectionTrait,
    rows: &[rejected_deliveries::ActiveModel],
) -> Result<(), DbErr> {
    rejected_deliveries::Entity::insert_many(rows.iter().cloned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn newest_first(
    db: &impl ConnectionTrait,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<rejected_deliveries::Model>, DbErr> {
    use rejected_deliveries::{Column, Entity};
    super::page::newest_first::<Entity>(db, Column::Id, sea_orm::Condition::all(), before, limit)
        .await
}
