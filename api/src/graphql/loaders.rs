//! Batch loading for nested fields (`Event.account`, `Event.followUpStatus`,
//! `Account.events`, `Account.notificationConfigs`): whatever the number of parents, each
//! nested field costs one statement per distinct set of arguments.
//!
//! The loaders implement async-graphql's [`Loader`], but run through
//! [`Batcher`] rather than its `DataLoader`: that one sends a batch 1 ms after
//! its first key, from another task, so a list that takes longer than that to
//! resolve (100 events in a debug build, or any list on a busy node) is split
//! into several batches. A [`Batcher`] sends its batch once the task that
//! opened it has polled every resolver it could, whatever the time taken.
use std::{
    collections::{HashMap, HashSet},
    hash::Hash,
    sync::{Arc, Mutex},
};

use async_graphql::dataloader::Loader;
use entity::{accounts, events, follow_ups, notification_configs};
use futures::{FutureExt, channel::oneshot, future::Shared};
use sea_orm::{DatabaseConnection, DbErr};

use crate::{
    event::SourceKind,
    store::{self, events::EventFilter},
};

/// Keys sent in one statement at most (bound parameters stay well under
/// both backends' limits).
const MAX_BATCH: usize = 1000;

/// No cache: a batch only joins lookups made at the same time, so nothing
/// read is ever stale.
pub struct Loaders {
    pub accounts: Batcher<String, AccountLoader>,
    pub account_events: Batcher<AccountEventsKey, AccountEventsLoader>,
    pub notification_configs: Batcher<String, NotificationConfigLoader>,
    pub follow_ups: Batcher<i64, FollowUpLoader>,
}

impl Loaders {
    pub fn new(db: &DatabaseConnection) -> Self {
        Self {
            accounts: Batcher::new(AccountLoader(db.clone())),
            account_events: Batcher::new(AccountEventsLoader(db.clone())),
            notification_configs: Batcher::new(NotificationConfigLoader(db.clone())),
            follow_ups: Batcher::new(FollowUpLoader(db.clone())),
        }
    }
}

type Loaded<K, V, E> = Arc<Result<HashMap<K, V>, E>>;
type Done<K, V, E> = Shared<oneshot::Receiver<Loaded<K, V, E>>>;
/// A batch's outcome, and its sender when the caller opened it.
type Joined<K, V, E> = (Done<K, V, E>, Option<oneshot::Sender<Loaded<K, V, E>>>);

/// Joins the keys asked for while one batch is open into one `load`.
pub struct Batcher<K, L: Loader<K>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
{
    loader: L,
    open: Mutex<Option<OpenBatch<K, L>>>,
}

struct OpenBatch<K, L>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    L: Loader<K>,
{
    keys: HashSet<K>,
    done: Done<K, L::Value, L::Error>,
}

impl<K, L> Batcher<K, L>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    L: Loader<K>,
    L::Error: Sync,
{
    pub fn new(loader: L) -> Self {
        Self {
            loader,
            open: Mutex::new(None),
        }
    }

    pub async fn load_one(&self, key: K) -> Result<Option<L::Value>, L::Error> {
        let (done, leader) = self.join(&key);
        if let Some(sender) = leader {
            // The first key's resolver sends the batch, after one turn of
            // its task: every resolver that task can reach in this pass (the
            // other items of the same list) adds its key first.
            tokio::task::yield_now().await;
            let batch = self.open.lock().expect("batch lock").take();
            let keys: Vec<K> = batch
                .map(|b| b.keys.into_iter().collect())
                .unwrap_or_default();
            let _ = sender.send(Arc::new(self.load_all(&keys).await));
        }
        match done.clone().await {
            Ok(loaded) => match &*loaded {
                Ok(values) => Ok(values.get(&key).cloned()),
                Err(error) => Err(error.clone()),
            },
            Err(oneshot::Canceled) => {
                // The sending resolver was dropped (its request ended) before
                // it sent the batch: close that batch and load alone.
                self.close(&done);
                Ok(self
                    .loader
                    .load(std::slice::from_ref(&key))
                    .await?
                    .remove(&key))
            }
        }
    }

    fn close(&self, done: &Done<K, L::Value, L::Error>) {
        let mut open = self.open.lock().expect("batch lock");
        if open.as_ref().is_some_and(|b| b.done.ptr_eq(done)) {
            *open = None;
        }
    }

    /// Adds `key` to the open batch, or opens one (and returns its sender).
    fn join(&self, key: &K) -> Joined<K, L::Value, L::Error> {
        let mut open = self.open.lock().expect("batch lock");
        if let Some(batch) = open.as_mut() {
            batch.keys.insert(key.clone());
            return (batch.done.clone(), None);
        }
        let (sender, receiver) = oneshot::channel();
        let done = receiver.shared();
        *open = Some(OpenBatch {
            keys: HashSet::from([key.clone()]),
            done: done.clone(),
        });
        (done, Some(sender))
    }

    async fn load_all(&self, keys: &[K]) -> Result<HashMap<K, L::Value>, L::Error> {
        let mut values = HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(MAX_BATCH) {
            values.extend(self.loader.load(chunk).await?);
        }
        Ok(values)
    }
}

pub struct AccountLoader(DatabaseConnection);

impl Loader<String> for AccountLoader {
    type Value = accounts::Model;
    type Error = DbErr;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, Self::Value>, DbErr> {
        let found = store::timed(store::accounts::find_many(&self.0, ids)).await?;
        Ok(found.into_iter().map(|a| (a.id.clone(), a)).collect())
    }
}

/// One account's page of events.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AccountEventsKey {
    pub account_id: String,
    pub page: AccountEventsPage,
}

/// The arguments of `Account.events`, as the store takes them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AccountEventsPage {
    pub types: Option<Vec<String>>,
    pub before: Option<i64>,
    pub limit: u64,
}

pub struct AccountEventsLoader(DatabaseConnection);

impl Loader<AccountEventsKey> for AccountEventsLoader {
    type Value = Vec<events::Model>;
    type Error = DbErr;

    async fn load(
        &self,
        keys: &[AccountEventsKey],
    ) -> Result<HashMap<AccountEventsKey, Self::Value>, DbErr> {
        // Accounts asked with the same arguments share one statement.
        let mut groups: HashMap<&AccountEventsPage, Vec<String>> = HashMap::new();
        for key in keys {
            groups
                .entry(&key.page)
                .or_default()
                .push(key.account_id.clone());
        }
        let mut pages = HashMap::with_capacity(keys.len());
        for (page, account_ids) in groups {
            // An account is Canopy's: another source's event that names
            // the same id (a LoanPro loan-id) is not one of its events.
            let filter = EventFilter {
                sources: Some(vec![SourceKind::Canopy.as_str().to_owned()]),
                types: page.types.clone(),
                ..EventFilter::default()
            };
            let rows = store::timed(store::events::newest_first_per_account(
                &self.0,
                &account_ids,
                &filter,
                page.before,
                page.limit,
            ))
            .await?;
            let mut by_account: HashMap<String, Vec<events::Model>> =
                account_ids.into_iter().map(|id| (id, Vec::new())).collect();
            for row in rows {
                if let Some(list) = row
                    .account_id
                    .as_ref()
                    .and_then(|id| by_account.get_mut(id))
                {
                    list.push(row);
                }
            }
            pages.extend(by_account.into_iter().map(|(account_id, list)| {
                let key = AccountEventsKey {
                    account_id,
                    page: page.clone(),
                };
                (key, list)
            }));
        }
        Ok(pages)
    }
}

pub struct NotificationConfigLoader(DatabaseConnection);

impl Loader<String> for NotificationConfigLoader {
    type Value = Vec<notification_configs::Model>;
    type Error = DbErr;

    async fn load(&self, account_ids: &[String]) -> Result<HashMap<String, Self::Value>, DbErr> {
        let mut configs: HashMap<String, Self::Value> = account_ids
            .iter()
            .map(|id| (id.clone(), Vec::new()))
            .collect();
        for config in store::timed(store::notification_configs::for_accounts(
            &self.0,
            account_ids,
        ))
        .await?
        {
            if let Some(list) = configs.get_mut(&config.account_id) {
                list.push(config);
            }
        }
        Ok(configs)
    }
}

/// The follow-up job of each event, by event id.
pub struct FollowUpLoader(DatabaseConnection);

impl Loader<i64> for FollowUpLoader {
    type Value = follow_ups::Model;
    type Error = DbErr;

    async fn load(&self, event_ids: &[i64]) -> Result<HashMap<i64, Self::Value>, DbErr> {
        let jobs = store::timed(store::follow_ups::for_events(&self.0, event_ids)).await?;
        Ok(jobs.into_iter().map(|job| (job.event_id, job)).collect())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures::future::join_all;

    use super::*;

    /// Doubles its keys; counts its calls.
    #[derive(Default)]
    struct Doubler(AtomicUsize);

    impl Loader<u32> for Doubler {
        type Value = u32;
        type Error = String;

        async fn load(&self, keys: &[u32]) -> Result<HashMap<u32, u32>, String> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(keys.iter().map(|k| (*k, k * 2)).collect())
        }
    }

    #[tokio::test]
    async fn a_list_resolved_in_one_task_loads_in_one_batch_however_slow() {
        let batcher = Batcher::new(Doubler::default());
        let loads = (0..2500u32).map(|k| {
            let batcher = &batcher;
            async move {
                // Slow resolvers: far longer than a timer-based batch waits.
                std::thread::sleep(std::time::Duration::from_micros(20));
                batcher.load_one(k % 500).await
            }
        });
        let values = join_all(loads).await;
        assert!(
            values
                .iter()
                .enumerate()
                .all(|(k, v)| *v == Ok(Some(k as u32 % 500 * 2)))
        );
        assert_eq!(batcher.loader.0.load(Ordering::SeqCst), 1);
        // Nothing stays open: the next lookup is a batch of its own.
        assert_eq!(batcher.load_one(7).await, Ok(Some(14)));
        assert_eq!(batcher.loader.0.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_dropped_leader_leaves_no_batch_waiting_forever() {
        let batcher = Batcher::new(Doubler::default());
        {
            let leader = std::pin::pin!(batcher.load_one(1));
            // Polled once: it has opened the batch and yielded; then dropped.
            assert!(futures::poll!(leader).is_pending());
        }
        assert_eq!(batcher.load_one(2).await, Ok(Some(4)));
        assert_eq!(batcher.load_one(3).await, Ok(Some(6)));
    }
}
