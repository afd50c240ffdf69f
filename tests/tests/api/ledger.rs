//! Steady signed Canopy load for fault tests, and its ledger: N keep-alive
//! clients, each posting distinct deliveries one after another and, as
//! Canopy does, retrying a delivery until it is acknowledged (2xx). The
//! ledger records every answer and error; [`Ledger::check_stored`] then
//! compares it with the store.
use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tokio::{sync::watch, task::JoinHandle};

use crate::helpers::signed;

/// Each delivery's account: one per delivery, so a stored event names the
/// delivery it came from.
const ACCOUNT_PREFIX: &str = "ledger-";
/// A client waits this long before retrying a delivery that was refused.
const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// Delivery `n`'s body: distinct for every `n`, so its dedup key is too.
pub fn delivery(n: usize) -> String {
    signed(
        "account_calculations_change",
        json!({"account_id": format!("{ACCOUNT_PREFIX}{n}"), "available_credit_cents": n}),
    )
}

/// The first 2xx a delivery got.
#[derive(Clone, Debug)]
pub struct Ack {
    pub status: u16,
    /// The event id the answer named.
    pub id: i64,
    /// Requests sent for this delivery, this one included.
    pub attempts: u32,
    /// When it was answered, and how long after its request was sent.
    pub at: Instant,
    pub took: Duration,
}

#[derive(Debug, Default)]
pub struct Ledger {
    /// By delivery number.
    pub acknowledged: BTreeMap<usize, Ack>,
    /// Every answer, by status.
    pub answers: BTreeMap<u16, usize>,
    /// Requests whose connection could not be opened (nothing listening):
    /// never accepted, so never an answer owed.
    pub refused_connections: usize,
    /// Requests that failed after their connection was open (reset, closed
    /// before the answer): the delivery may or may not have been stored.
    pub broken_connections: Vec<String>,
    /// Longest time any request took to be answered (2xx or not).
    pub slowest_answer: Duration,
    /// When each 503 was answered.
    pub unavailable_at: Vec<Instant>,
}

impl Ledger {
    /// Answers other than 200, 202 and (when `allow_503`) 503.
    pub fn unexpected_answers(&self, allow_503: bool) -> BTreeMap<u16, usize> {
        self.answers
            .iter()
            .filter(|(status, _)| {
                let expected = matches!(status, 200 | 202) || (allow_503 && **status == 503);
                !expected
            })
            .map(|(status, n)| (*status, *n))
            .collect()
    }

    /// Acknowledgements answered 200: each must be a retry (its first
    /// attempt, new to the store, cannot be a duplicate).
    pub fn duplicates(&self) -> impl Iterator<Item = (&usize, &Ack)> {
        self.acknowledged
            .iter()
            .filter(|(_, ack)| ack.status == 200)
    }

    /// Every acknowledged delivery is stored exactly once, as the event its
    /// answer named; no delivery is stored twice. Returns how many of the
    /// load's deliveries are stored (acknowledged or not).
    pub async fn check_stored(&self, db: &DatabaseConnection) -> usize {
        use entity::events::{Column, Entity};
        let rows = Entity::find()
            .filter(Column::AccountId.starts_with(ACCOUNT_PREFIX))
            .all(db)
            .await
            .expect("the store answers the check");
        let mut stored: HashMap<usize, Vec<i64>> = HashMap::new();
        for row in &rows {
            let n = row.account_id.as_deref().unwrap()[ACCOUNT_PREFIX.len()..]
                .parse()
                .expect("a delivery number");
            stored.entry(n).or_default().push(row.id);
            let payload: Value = serde_json::from_str(&row.payload).unwrap();
            assert_eq!(payload["available_credit_cents"], n, "{row:?}");
            assert_eq!(row.deliveries, 1 + self.duplicate_count(n), "{row:?}");
        }
        let doubled: Vec<_> = stored.iter().filter(|(_, ids)| ids.len() > 1).collect();
        assert!(doubled.is_empty(), "deliveries stored twice: {doubled:?}");
        for (n, ack) in &self.acknowledged {
            assert_eq!(
                stored.get(n).map(Vec::as_slice),
                Some(&[ack.id][..]),
                "acknowledged delivery {n} ({ack:?}) is stored once, as the event named"
            );
        }
        stored.len()
    }

    /// Duplicates of delivery `n` the store has counted: its 200s.
    fn duplicate_count(&self, n: usize) -> i32 {
        self.acknowledged
            .get(&n)
            .map_or(0, |ack| i32::from(ack.status == 200))
    }

    /// The `p`th percentile (0–100) of the time to a 2xx, over the
    /// acknowledgements `which` selects.
    pub fn percentile(&self, p: usize, which: impl Fn(&Ack) -> bool) -> Duration {
        let mut times: Vec<Duration> = self
            .acknowledged
            .values()
            .filter(|ack| which(ack))
            .map(|ack| ack.took)
            .collect();
        times.sort();
        times
            .get((times.len().saturating_sub(1)) * p / 100)
            .copied()
            .unwrap_or_default()
    }
}

/// A running load; [`Load::stop`] ends it and hands back its ledger.
pub struct Load {
    stop: watch::Sender<bool>,
    clients: Vec<JoinHandle<()>>,
    ledger: Arc<Mutex<Ledger>>,
}

impl Load {
    /// `clients` clients posting to `url` (`http://host:port`); client `c`
    /// sends deliveries `c`, `c + clients`, `c + 2 × clients`…
    pub fn start(url: &str, clients: usize) -> Self {
        let (stop, _) = watch::channel(false);
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let url = format!("{url}/webhooks/canopy");
        let clients = (0..clients)
            .map(|c| {
                let stopped = stop.subscribe();
                let ledger = ledger.clone();
                let url = url.clone();
                tokio::spawn(async move {
                    let numbers = (c..).step_by(clients);
                    client(url, numbers, stopped, ledger).await;
                })
            })
            .collect();
        Self {
            stop,
            clients,
            ledger,
        }
    }

    /// Deliveries acknowledged so far.
    pub fn acknowledged(&self) -> usize {
        self.ledger.lock().unwrap().acknowledged.len()
    }

    /// Waits until `more` further deliveries are acknowledged (within 30 s).
    pub async fn acknowledges(&self, more: usize) {
        let target = self.acknowledged() + more;
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.acknowledged() < target {
            assert!(
                Instant::now() < deadline,
                "only {} deliveries acknowledged, waiting for {target}",
                self.acknowledged()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Lets each client finish the request it is sending, then stops.
    pub async fn stop(self) -> Ledger {
        self.stop.send_replace(true);
        for client in self.clients {
            client.await.expect("a load client panicked");
        }
        Arc::into_inner(self.ledger)
            .expect("the clients are done")
            .into_inner()
            .unwrap()
    }
}

async fn client(
    url: String,
    numbers: impl Iterator<Item = usize>,
    stopped: watch::Receiver<bool>,
    ledger: Arc<Mutex<Ledger>>,
) {
    // One keep-alive connection per client, as a provider's sender keeps.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    for n in numbers {
        let body = delivery(n);
        let mut attempts = 0;
        loop {
            if *stopped.borrow() {
                return;
            }
            attempts += 1;
            let sent = Instant::now();
            let answer = http
                .post(&url)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await;
            let took = sent.elapsed();
            let acknowledged = match answer {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let json: Option<Value> = response.json().await.ok();
                    let mut ledger = ledger.lock().unwrap();
                    *ledger.answers.entry(status).or_default() += 1;
                    ledger.slowest_answer = ledger.slowest_answer.max(took);
                    if status == 503 {
                        ledger.unavailable_at.push(Instant::now());
                    }
                    let id = json
                        .as_ref()
                        .and_then(|j| j["id"].as_str())
                        .and_then(api::ids::parse_event_id);
                    match (status, id) {
                        (200..=299, Some(id)) => {
                            let ack = Ack {
                                status,
                                id,
                                attempts,
                                at: Instant::now(),
                                took,
                            };
                            ledger.acknowledged.insert(n, ack);
                            true
                        }
                        (200..=299, None) => panic!("delivery {n}: {status} without an id"),
                        _ => false,
                    }
                }
                Err(error) if error.is_connect() => {
                    ledger.lock().unwrap().refused_connections += 1;
                    false
                }
                Err(error) => {
                    let error = format!("delivery {n}, attempt {attempts}: {error:?}");
                    ledger.lock().unwrap().broken_connections.push(error);
                    false
                }
            };
            if acknowledged {
                break;
            }
            tokio::time::sleep(RETRY_PAUSE).await;
        }
    }
}
