//! The ingest write path: one task per node takes deliveries from a queue
//! and commits them in batches (group commit). Each batch is one transaction
//! holding the store's commit lock, so event ids are assigned in commit order
//! even with several nodes on one PostgreSQL. The task is supervised: if it
//! panics, the deliveries it held are answered 503 (nothing acknowledged)
//! and it is restarted on the same queue.
//!
//! The writer also applies account states that do not come from an event
//! (`refreshAccount`), each with its audit row in a transaction of its own
//! under the same lock: the projection is a read-modify-write, and going
//! through the writer keeps a refresh from racing the webhooks of its
//! account, on this node or another. Finished follow-ups go the same way
//! (their result, the company view, the account they read), and an event's
//! follow-up job is inserted in the event's own transaction.
use std::{
    collections::HashMap,
    iter,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, QueryResult,
    RuntimeErr, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use tokio::sync::{Mutex, mpsc, oneshot, watch};

use super::{
    accounts, audit_log, companies,
    error::StoreError,
    events,
    follow_ups::{self, Finished},
    pipelined,
};
use crate::{
    clock,
    event::{AccountChange, NewEvent},
    faults::Faults,
    series,
    supervise::{Running, supervise},
};

/// Deliveries committed in one transaction at most.
const MAX_BATCH: usize = 256;
/// Payload bytes in one transaction at most (beyond its first delivery): on
/// PostgreSQL the payloads are written into the statements' text (escaped
/// when they hold a `$`), and one message must stay far below the server's
/// 1 GiB.
const MAX_BATCH_BYTES: usize = 32 << 20;
/// Arbitrary constant naming the gateway's commit lock in PostgreSQL.
const COMMIT_LOCK_KEY: i64 = 0x6761_7465_7761_7931;
/// Longest a delivery waits for its commit. With a store that hangs, one
/// batch can take [`super::CALL_TIMEOUT`] to fail and the next one another
/// connection attempt; past this the delivery is answered 503 (the provider
/// retries) and the writer drops it unwritten if it has not started on it.
const ANSWER_DEADLINE: Duration = Duration::from_secs(8);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stored {
    pub id: i64,
    pub duplicate: bool,
}

struct Job {
    event: NewEvent,
    reply: oneshot::Sender<Result<Stored, DbErr>>,
}

/// An account state to apply as the projection does, and its audit row.
struct AccountJob {
    change: AccountChange,
    audit: audit_log::NewEntry,
    reply: oneshot::Sender<Result<(), DbErr>>,
}

/// A follow-up's result, stored if its claim still holds.
struct FollowUpJob {
    finished: Finished,
    reply: oneshot::Sender<Result<bool, DbErr>>,
}

/// What the writer is asked to do, done in the order asked.
enum Work {
    Event(Job),
    Account(AccountJob),
    FollowUp(FollowUpJob),
}

impl Work {
    /// Its caller stopped waiting (its deadline passed, so it was answered
    /// 503): it must not be committed after all; its provider sends it again.
    fn abandoned(&self) -> bool {
        match self {
            Self::Event(job) => job.reply.is_closed(),
            Self::Account(job) => job.reply.is_closed(),
            Self::FollowUp(job) => job.reply.is_closed(),
        }
    }
}

#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Work>,
    committed: watch::Receiver<i64>,
    follow_ups: watch::Receiver<u64>,
    running: Running,
}

/// What the writer tells watchers after its commits.
struct Announcements {
    /// The highest event id committed.
    committed: watch::Sender<i64>,
    /// Follow-up jobs inserted so far.
    follow_ups: watch::Sender<u64>,
}

impl Writer {
    /// Starts the writer on `db`, its own connections.
    pub fn spawn(db: DatabaseConnection, faults: Arc<Faults>) -> Self {
        let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
        // The queue and the commit watermark outlive a crashed writer task.
        let rx = Arc::new(Mutex::new(rx));
        let (committed_tx, committed) = watch::channel(0);
        let (follow_ups_tx, follow_ups) = watch::channel(0);
        let announcements = Arc::new(Announcements {
            committed: committed_tx,
            follow_ups: follow_ups_tx,
        });
        let running = supervise("store writer", move || {
            run(
                db.clone(),
                rx.clone(),
                announcements.clone(),
                faults.clone(),
            )
        });
        Self {
            jobs,
            committed,
            follow_ups,
            running,
        }
    }

    /// False while the writer task is down (between a crash and its restart).
    pub fn is_running(&self) -> bool {
        self.running.get()
    }

    /// The highest event id this node has committed; changes after each
    /// commit that stored something new. Watching it never slows the writer.
    pub fn committed(&self) -> watch::Receiver<i64> {
        self.committed.clone()
    }

    /// Changes after each commit that inserted follow-up jobs, so this
    /// node's workers start on them at once.
    pub fn follow_ups_queued(&self) -> watch::Receiver<u64> {
        self.follow_ups.clone()
    }

    /// Returns once the event (or its duplicate count) is committed, or
    /// fails within [`ANSWER_DEADLINE`].
    pub async fn store(&self, event: NewEvent) -> Result<Stored, StoreError> {
        self.ask(|reply| Work::Event(Job { event, reply })).await
    }

    /// Applies `change` to its account as an event would (a change older
    /// than the account's newest is ignored), and writes `audit`, in one
    /// transaction; returns once it is committed, or fails within
    /// [`ANSWER_DEADLINE`].
    pub async fn apply_account(
        &self,
        change: AccountChange,
        audit: audit_log::NewEntry,
    ) -> Result<(), StoreError> {
        self.ask(|reply| {
            Work::Account(AccountJob {
                change,
                audit,
                reply,
            })
        })
        .await
    }

    /// Stores a follow-up's result (and what it read into the projection
    /// and the company view) and marks its job done, in one transaction;
    /// false, storing nothing, when the job's claim was lost meanwhile (its
    /// lease ran out and another claim took it).
    pub async fn finish_follow_up(&self, finished: Finished) -> Result<bool, StoreError> {
        self.ask(|reply| Work::FollowUp(FollowUpJob { finished, reply }))
            .await
    }

    async fn ask<T>(
        &self,
        work: impl FnOnce(oneshot::Sender<Result<T, DbErr>>) -> Work,
    ) -> Result<T, StoreError> {
        let answered = async {
            let (reply, answer) = oneshot::channel();
            self.jobs
                .send(work(reply))
                .await
                .map_err(|_| StoreError::WriterStopped)?;
            Ok(answer.await.map_err(|_| StoreError::WriterStopped)??)
        };
        tokio::time::timeout(ANSWER_DEADLINE, answered)
            .await
            .unwrap_or(Err(StoreError::TimedOut(ANSWER_DEADLINE)))
    }
}

async fn run(
    db: DatabaseConnection,
    rx: Arc<Mutex<mpsc::Receiver<Work>>>,
    announcements: Arc<Announcements>,
    faults: Arc<Faults>,
) {
    let mut rx = rx.lock().await;
    let mut session = Session {
        db,
        kept: pipelined::Kept::default(),
    };
    let mut work = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut work, MAX_BATCH).await > 0 {
        work.retain(|w| !w.abandoned());
        if work.is_empty() {
            continue;
        }
        if faults.writer_should_crash() {
            panic!("fault injected: the store writer crashes");
        }
        // Events queued together are committed together; an account job
        // between them is its own transaction, so order is kept.
        let mut work = work.drain(..).peekable();
        while let Some(next) = work.next() {
            match next {
                Work::Account(job) => {
                    let written =
                        super::timed(write_account(&mut session, job.change, job.audit)).await;
                    let _ = job.reply.send(written);
                }
                Work::FollowUp(job) => {
                    let written = super::timed(write_follow_up(&session.db, job.finished)).await;
                    let _ = job.reply.send(written);
                }
                Work::Event(job) => {
                    let mut bytes = job.event.payload.len();
                    let mut batch = vec![job];
                    let fits = |w: &Work, bytes: usize| match w {
                        Work::Event(j) => bytes + j.event.payload.len() <= MAX_BATCH_BYTES,
                        _ => false,
                    };
                    while let Some(Work::Event(job)) = work.next_if(|w| fits(w, bytes)) {
                        bytes += job.event.payload.len();
                        batch.push(job);
                    }
                    commit_events(&mut session, batch, &announcements).await;
                }
            }
        }
    }
}

/// The writer's store: its pool, and on PostgreSQL the connection it keeps
/// between transactions.
struct Session {
    db: DatabaseConnection,
    kept: pipelined::Kept,
}

async fn commit_events(session: &mut Session, mut batch: Vec<Job>, announcements: &Announcements) {
    let announce = |stored: &Stored, event: &NewEvent| {
        if stored.duplicate {
            metrics::counter!(series::DEDUP_HITS, "source" => event.source.as_str()).increment(1);
        } else {
            announcements.committed.send_if_modified(|max| {
                let newer = stored.id > *max;
                *max = (*max).max(stored.id);
                newer
            });
            if event.follow_up.is_some() {
                announcements.follow_ups.send_modify(|queued| *queued += 1);
            }
        }
    };
    let events: Vec<&NewEvent> = batch.iter().map(|job| &job.event).collect();
    match measured(session, &events).await {
        Ok(stored) => {
            for (job, stored) in batch.drain(..).zip(stored) {
                announce(&stored, &job.event);
                let _ = job.reply.send(Ok(stored));
            }
        }
        Err(error) if batch.len() > 1 && answered_by_database(&error) => {
            tracing::warn!(%error, size = batch.len(), "batch refused; committing one by one");
            // One bad delivery must not fail the others it was batched with.
            for job in batch.drain(..) {
                let result = measured(session, &[&job.event])
                    .await
                    .map(|mut s| s.remove(0));
                if let Ok(stored) = &result {
                    announce(stored, &job.event);
                }
                let _ = job.reply.send(result);
            }
        }
        Err(error) => {
            tracing::error!(%error, size = batch.len(), "store unavailable; batch not committed");
            for job in batch.drain(..) {
                let _ = job.reply.send(Err(error.clone()));
            }
        }
    }
}

/// [`write`] within the store's call timeout; a committed batch's time and
/// size are recorded.
async fn measured(session: &mut Session, batch: &[&NewEvent]) -> Result<Vec<Stored>, DbErr> {
    let started = Instant::now();
    let stored = super::timed(write(session, batch)).await?;
    metrics::histogram!(series::STORE_COMMIT_DURATION).record(started.elapsed().as_secs_f64());
    metrics::histogram!(series::STORE_BATCH_SIZE).record(batch.len() as f64);
    Ok(stored)
}

/// The database itself refused a statement (as opposed to being unreachable,
/// when trying again one by one would only multiply the wait).
fn answered_by_database(error: &DbErr) -> bool {
    match error {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            matches!(**e, sea_orm::sqlx::Error::Database(_))
        }
        _ => false,
    }
}

async fn write(session: &mut Session, batch: &[&NewEvent]) -> Result<Vec<Stored>, DbErr> {
    let backend = session.db.get_database_backend();
    let now = clock::now();
    // A fixed number of statements per batch, whatever its size.
    let keys: Vec<(&str, &str)> = batch
        .iter()
        .filter_map(|e| Some((e.source.as_str(), e.dedup_key.as_deref()?)))
        .collect();
    // Every account the batch names, before it is known which of its events
    // are new: the read must come before the writes it decides.
    let account_ids = batch
        .iter()
        .filter_map(|e| Some(e.account_change.as_ref()?.account_id.as_str()))
        .collect();
    let reads: Vec<Statement> = iter::once(events::batch_start(backend, &keys))
        .chain(accounts::find_many_statement(backend, account_ids))
        .collect();
    in_commit_order(session, reads, |rows| plan(backend, batch, &rows, now)).await
}

/// What a batch writes, from what it read (the rows of `batch_start`, then
/// of the accounts it names), and what each delivery became.
fn plan(
    backend: DbBackend,
    batch: &[&NewEvent],
    rows: &[Vec<QueryResult>],
    now: DateTime<Utc>,
) -> Result<(Vec<Stored>, Vec<Statement>), DbErr> {
    let (max_id, mut known) = events::batch_started(&rows[0])?;
    let mut next_id = max_id + 1;
    let mut stored = Vec::with_capacity(batch.len());
    let mut new_rows = Vec::new();
    let mut repeats: HashMap<i64, i32> = HashMap::new();
    for event in batch {
        let key = event
            .dedup_key
            .clone()
            .map(|k| (event.source.as_str().to_owned(), k));
        if let Some(&id) = key.as_ref().and_then(|k| known.get(k)) {
            *repeats.entry(id).or_default() += 1;
            stored.push(Stored {
                id,
                duplicate: true,
            });
            continue;
        }
        let id = next_id;
        next_id += 1;
        if let Some(key) = key {
            known.insert(key, id);
        }
        new_rows.push((id, *event));
        stored.push(Stored {
            id,
            duplicate: false,
        });
    }
    let jobs: Vec<_> = new_rows
        .iter()
        .filter_map(|(id, e)| Some((*id, e.follow_up.as_ref()?)))
        .collect();
    let changes = new_rows
        .iter()
        .filter_map(|(_, e)| e.account_change.clone())
        .collect();
    let stored_accounts = rows.get(1).map_or(&[][..], Vec::as_slice);
    let changed_accounts = accounts::fold(changes, stored_accounts, now)?;
    let writes = [
        events::insert_many(backend, &new_rows, now),
        follow_ups::insert_many(backend, &jobs, now),
        events::count_deliveries(backend, &repeats),
        accounts::upsert(backend, changed_accounts),
    ];
    Ok((stored, writes.into_iter().flatten().collect()))
}

/// Runs `reads`, then the writes `decide` makes from their rows, in one
/// transaction holding the commit lock. On PostgreSQL that is two round
/// trips ([`pipelined`]), not one per statement.
async fn in_commit_order<T>(
    session: &mut Session,
    reads: Vec<Statement>,
    decide: impl FnOnce(Vec<Vec<QueryResult>>) -> Result<(T, Vec<Statement>), DbErr>,
) -> Result<T, DbErr> {
    let db = &session.db;
    if db.get_database_backend() == DbBackend::Postgres {
        let reads: Vec<Statement> = iter::once(commit_lock()).chain(reads).collect();
        let decide = |mut rows: Vec<Vec<QueryResult>>| {
            rows.remove(0); // the lock's
            decide(rows)
        };
        let pool = db.get_postgres_connection_pool();
        return pipelined::transaction(pool, &mut session.kept, &reads, decide).await;
    }
    let txn = begin_in_commit_order(db).await?;
    let mut rows = Vec::with_capacity(reads.len());
    for read in reads {
        rows.push(txn.query_all_raw(read).await?);
    }
    let (value, writes) = decide(rows)?;
    for write in writes {
        txn.execute_raw(write).await?;
    }
    txn.commit().await?;
    Ok(value)
}

async fn write_account(
    session: &mut Session,
    change: AccountChange,
    audit: audit_log::NewEntry,
) -> Result<(), DbErr> {
    let backend = session.db.get_database_backend();
    let now = clock::now();
    let reads = accounts::find_many_statement(backend, vec![change.account_id.as_str()]);
    in_commit_order(session, reads.into_iter().collect(), |rows| {
        let changed = accounts::fold(vec![change], &rows[0], now)?;
        let writes = [
            accounts::upsert(backend, changed),
            Some(audit_log::insert_statement(backend, audit)),
        ];
        Ok(((), writes.into_iter().flatten().collect()))
    })
    .await
}

async fn write_follow_up(db: &DatabaseConnection, finished: Finished) -> Result<bool, DbErr> {
    let txn = begin_in_commit_order(db).await?;
    let now = clock::now();
    if !follow_ups::finish(&txn, finished.id, finished.claim, now).await? {
        txn.rollback().await?;
        return Ok(false);
    }
    events::set_follow_up(&txn, finished.event_id, finished.follow_up).await?;
    if let Some(company) = finished.company {
        companies::apply(&txn, company, now).await?;
    }
    accounts::apply_all(&txn, finished.account.into_iter().collect(), now).await?;
    txn.commit().await?;
    Ok(true)
}

/// A transaction holding the commit lock. SQLite takes its write lock at
/// BEGIN, so id assignment (and the projection's read before its write) is
/// serialized too.
async fn begin_in_commit_order(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?;
    lock_commit_order(&txn).await?;
    Ok(txn)
}

/// Held until commit: transactions commit one at a time, in id order.
/// SQLite needs nothing more than its write lock (taken at BEGIN IMMEDIATE).
async fn lock_commit_order(txn: &impl ConnectionTrait) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(commit_lock()).await?;
    }
    Ok(())
}

/// Takes PostgreSQL's commit lock (a transaction-scoped advisory lock).
fn commit_lock() -> Statement {
    Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [COMMIT_LOCK_KEY.into()],
    )
}
