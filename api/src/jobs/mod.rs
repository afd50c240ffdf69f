//! The follow-up queue's worker: reads of provider state owed to stored
//! events (Embedded Funding's documented GETs, Canopy's double-check), done
//! after the event is acknowledged, never before.
//!
//! Each job was inserted with its event, in the same transaction
//! (`store::writer`), so no acknowledged event lacks its follow-up. One
//! worker per node, supervised, on its own connections, claims due jobs
//! with a lease (`store::follow_ups::claim`: `FOR UPDATE SKIP LOCKED` on
//! PostgreSQL, so nodes never take the same job), runs them, and stores
//! each result through the writer, which keeps the projection's and the
//! company view's read-modify-writes in commit order. A failed attempt is
//! due again after [`backoff::delay`]; a node that dies holding a job
//! loses its lease, and the job is claimed again. A job still failing
//! [`Policy::give_up_after`] after it was queued is given up and marked
//! failed (visible in GraphQL as `Event.followUpStatus`). On shutdown the
//! worker stops between jobs: it claims nothing more and lets the attempts
//! it holds finish and store their results ([`Jobs::stop`]).
mod backoff;
mod canopy;
mod embedded_funding;

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use futures::{StreamExt, stream::FuturesUnordered};
use sea_orm::DatabaseConnection;
use tokio::{sync::watch, time::MissedTickBehavior};

use crate::{
    clients::{ClientError, canopy::CanopyClient, embedded_funding::EmbeddedFundingClient},
    clock,
    event::FollowUp,
    faults::Faults,
    series,
    store::{
        self,
        follow_ups::{self, Claimed, Finished},
        writer::Writer,
    },
    supervise::{Running, supervise},
};

/// Jobs one node runs at once.
const MAX_RUNNING: usize = 16;
/// One attempt, all its reads together, at most; with the writer's 8 s to
/// store the result it stays within the lease.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(40);

/// How the queue is worked (not environment variables; tests shorten the
/// give-up).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// A job still failing this long after it was queued is given up.
    pub give_up_after: Duration,
    /// How long a claim holds a job: a node that dies holding it loses it
    /// after this, and the job is claimed again.
    pub lease: Duration,
    /// The store is checked for due jobs at least this often (jobs queued
    /// on this node wake the worker at once).
    pub poll: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            give_up_after: Duration::from_secs(24 * 60 * 60),
            lease: Duration::from_secs(55),
            poll: Duration::from_secs(1),
        }
    }
}

/// The outside APIs follow-ups read; a node claims only jobs it has the
/// client for (others wait for a node that has it).
#[derive(Clone, Default)]
pub struct Clients {
    pub embedded_funding: Option<EmbeddedFundingClient>,
    pub canopy: Option<CanopyClient>,
}

impl Clients {
    fn kinds(&self) -> Vec<&'static str> {
        let mut kinds = Vec::new();
        if self.embedded_funding.is_some() {
            kinds.push(FollowUp::EMBEDDED_FUNDING);
        }
        if self.canopy.is_some() {
            kinds.push(FollowUp::CANOPY_ACCOUNT);
        }
        kinds
    }

    /// Reads what `job` owes, as of `at` (when the reads are sent).
    async fn run(&self, job: &Claimed, at: DateTime<Utc>) -> Result<Finished, String> {
        let unconfigured = || format!("no client for {} follow-ups", job.follow_up.kind());
        let finished = |follow_up, account, company| Finished {
            id: job.id,
            claim: job.claim,
            event_id: job.event_id,
            follow_up,
            account,
            company,
        };
        match &job.follow_up {
            FollowUp::EmbeddedFunding { company_id, reads } => {
                let client = self.embedded_funding.as_ref().ok_or_else(unconfigured)?;
                let (follow_up, company) = embedded_funding::read(client, company_id, reads, at)
                    .await
                    .map_err(|e| describe(&e))?;
                Ok(finished(follow_up, None, Some(company)))
            }
            FollowUp::CanopyAccount { account_id } => {
                let client = self.canopy.as_ref().ok_or_else(unconfigured)?;
                let (follow_up, account) = canopy::double_check(client, account_id, at)
                    .await
                    .map_err(|e| describe(&e))?;
                Ok(finished(follow_up, Some(account), None))
            }
        }
    }
}

/// When the reads were sent, as a `followUp`'s `fetchedAt` says it.
fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// Why an attempt failed, as `lastError` shows it: the call and the status,
/// not the provider's own message (it could quote anything).
fn describe(error: &ClientError) -> String {
    match error {
        ClientError::Rejected {
            upstream,
            call,
            status,
            ..
        } => format!("{upstream} refused {call} (HTTP {status})"),
        other => other.to_string(),
    }
}

/// The node's follow-up worker.
#[derive(Clone)]
pub struct Jobs {
    running: Running,
    stop: Arc<watch::Sender<bool>>,
}

struct Worker {
    db: DatabaseConnection,
    writer: Writer,
    clients: Clients,
    policy: Policy,
    faults: Arc<Faults>,
    /// True once the node shuts down; the worker holds a receiver while it runs.
    stop: Arc<watch::Sender<bool>>,
}

impl Jobs {
    /// Starts the worker on `db`, its own connections, under a supervisor.
    pub fn spawn(
        db: DatabaseConnection,
        writer: Writer,
        clients: Clients,
        policy: Policy,
        faults: Arc<Faults>,
    ) -> Self {
        let stop = Arc::new(watch::channel(false).0);
        let worker = Arc::new(Worker {
            db,
            writer,
            clients,
            policy,
            faults,
            stop: stop.clone(),
        });
        let running = supervise("follow-up worker", move || work(worker.clone()));
        Self { running, stop }
    }

    /// Stops claiming jobs and waits, at most `within`, for the attempts
    /// running to finish and record their outcome; false when some were
    /// still running then (their jobs are claimed again once their lease
    /// runs out).
    pub async fn stop(&self, within: Duration) -> bool {
        self.stop.send_replace(true);
        tokio::time::timeout(within, self.stop.closed())
            .await
            .is_ok()
    }

    /// False while the worker is down (between a crash and its restart).
    pub fn is_running(&self) -> bool {
        self.running.get()
    }
}

async fn work(worker: Arc<Worker>) {
    let mut stop = worker.stop.subscribe();
    let kinds = worker.clients.kinds();
    let mut queued = worker.writer.follow_ups_queued();
    let mut tick = tokio::time::interval(worker.policy.poll);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut attempts = FuturesUnordered::new();
    while !*stop.borrow_and_update() {
        if worker.faults.jobs_should_crash() {
            panic!("fault injected: the follow-up worker crashes");
        }
        let room = MAX_RUNNING.saturating_sub(attempts.len()) as u64;
        let claim = follow_ups::claim(&worker.db, &kinds, room, clock::now(), worker.policy.lease);
        match store::timed(claim).await {
            Ok(claimed) => {
                attempts.extend(claimed.into_iter().map(|job| attempt(worker.clone(), job)))
            }
            Err(error) => tracing::warn!(%error, "could not claim follow-ups"),
        }
        tokio::select! {
            Some(()) = attempts.next() => {}
            Ok(()) = queued.changed() => {}
            Ok(()) = stop.changed() => {}
            _ = tick.tick() => {
                if let Ok(pending) = store::timed(follow_ups::pending(&worker.db)).await {
                    metrics::gauge!(series::FOLLOW_UPS_PENDING).set(pending as f64);
                }
            }
        }
    }
    while attempts.next().await.is_some() {}
    tracing::info!("follow-up worker stopped");
}

/// One attempt at `job`: its reads, then its result stored; or the
/// failure recorded (tried again later, or given up).
async fn attempt(worker: Arc<Worker>, job: Claimed) {
    let started = clock::now();
    let kind = job.follow_up.kind();
    let read = tokio::time::timeout(ATTEMPT_TIMEOUT, worker.clients.run(&job, started)).await;
    let error = match read {
        Ok(Ok(finished)) => match worker.writer.finish_follow_up(finished).await {
            Ok(true) => {
                tracing::info!(job = job.id, kind, attempt = job.claim, "follow-up done");
                return;
            }
            Ok(false) => {
                tracing::info!(
                    job = job.id,
                    kind,
                    "follow-up claimed again elsewhere; result dropped"
                );
                return;
            }
            Err(error) => format!("its result could not be stored: {error}"),
        },
        Ok(Err(error)) => error,
        Err(_) => format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs()),
    };
    worker.failed(&job, started, &error).await;
}

impl Worker {
    async fn failed(&self, job: &Claimed, started: DateTime<Utc>, error: &str) {
        let now = clock::now();
        let kind = job.follow_up.kind();
        let age = (now - job.created_at).to_std().unwrap_or_default();
        let giving_up = age >= self.policy.give_up_after;
        let recorded = if giving_up {
            tracing::error!(job = job.id, kind, attempts = job.claim, %error, "follow-up given up");
            store::timed(follow_ups::give_up(&self.db, job.id, job.claim, error, now)).await
        } else {
            let wait = backoff::delay(job.claim);
            let due = (started + chrono::Duration::from_std(wait).expect("seconds")).max(now);
            tracing::warn!(job = job.id, kind, attempt = job.claim, %error, retry_in_ms = (due - now).num_milliseconds(), "follow-up failed; retrying");
            store::timed(follow_ups::retry_at(
                &self.db, job.id, job.claim, due, error, now,
            ))
            .await
        };
        match recorded {
            Ok(true) if giving_up => {
                metrics::counter!(series::FOLLOW_UPS_FAILED, "kind" => kind).increment(1);
            }
            Ok(_) => {}
            // The lease runs out, and the job is claimed again then.
            Err(error) => {
                tracing::warn!(job = job.id, %error, "could not record the follow-up's failure");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use serde_json::json;
    use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

    use super::*;
    use crate::{
        clients::embedded_funding::EmbeddedFundingApiConfig,
        event::{CompanyRead, NewEvent, SourceKind},
        secret::Secret,
        store::Pools,
        test_metrics::Recorded,
    };

    const PENDING: &str = "gateway_follow_ups_pending{}";
    const FAILED: &str = "gateway_follow_ups_failed_total{kind=embedded_funding}";

    /// Polls `done` every 20 ms for up to 10 s.
    async fn eventually(what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "never: {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[test]
    fn pending_jobs_are_gauged_and_given_up_ones_counted() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let recorded = Recorded::default();
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("gateway.db").display()
        );
        recorded.run(|| async {
            store::migrate(&store::connect(&url).await.unwrap())
                .await
                .unwrap();
            let pools = Pools::connect(&url).await.unwrap();
            let api = MockServer::start().await;
            // Slow enough for the gauge to see the job pending.
            Mock::given(method("GET"))
                .respond_with(ResponseTemplate::new(404).set_delay(Duration::from_secs(2)))
                .mount(&api)
                .await;
            let config = EmbeddedFundingApiConfig {
                url: api.uri().parse().unwrap(),
                api_key: Secret::new("k"),
                timing: EmbeddedFundingApiConfig::TIMING,
            };
            let clients = Clients {
                embedded_funding: Some(EmbeddedFundingClient::new(&config).unwrap()),
                canopy: None,
            };
            let policy = Policy {
                give_up_after: Duration::ZERO,
                poll: Duration::from_millis(50),
                ..Policy::default()
            };
            let faults = Arc::new(Faults::default());
            let writer = Writer::spawn(pools.writer.clone(), faults.clone());
            let _jobs = Jobs::spawn(pools.jobs.clone(), writer.clone(), clients, policy, faults);
            let follow_up = FollowUp::EmbeddedFunding {
                company_id: "c".into(),
                reads: vec![CompanyRead::Terms],
            };
            let event = NewEvent {
                source: SourceKind::EmbeddedFunding,
                event_type: "CreditLimitUpdated".into(),
                account_id: Some("c".into()),
                dedup_key: None,
                occurred_at: None,
                payload: json!({"message": 0}).to_string(),
                content_type: None,
                account_change: None,
                follow_up: Some(follow_up),
            };
            writer.store(event).await.unwrap();
            eventually("pending gauged", || recorded.gauge(PENDING) == Some(1.0)).await;
            eventually("given up", || {
                recorded.counter(FAILED) == 1 && recorded.gauge(PENDING) == Some(0.0)
            })
            .await;
        });
    }
}
