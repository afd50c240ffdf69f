//! Batch loading for nested fields (`Event.account`, `Account.events`,
//! `Account.notificationConfigs`): whatever the number of parents, each
//! nested field costs one statement per distinct set of arguments.
use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{accounts, events, notification_configs};
use sea_orm::{DatabaseConnection, DbErr};

use crate::store::{self, events::EventFilter};

/// No cache: a loader only batches the lookups made while one query runs,
/// so nothing read is ever stale.
pub struct Loaders {
    pub accounts: DataLoader<AccountLoader>,
    pub account_events: DataLoader<AccountEventsLoader>,
    pub notification_configs: DataLoader<NotificationConfigLoader>,
}

impl Loaders {
    pub fn new(db: &DatabaseConnection) -> Self {
        Self {
            accounts: DataLoader::new(AccountLoader(db.clone()), tokio::spawn),
            account_events: DataLoader::new(AccountEventsLoader(db.clone()), tokio::spawn),
            notification_configs: DataLoader::new(
                NotificationConfigLoader(db.clone()),
                tokio::spawn,
            ),
        }
    }
}

pub struct AccountLoader(DatabaseConnection);

impl Loader<String> for AccountLoader {
    type Value = accounts::Model;
    type Error = DbErr;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, Self::Value>, DbErr> {
        let found = store::accounts::find_many(&self.0, ids).await?;
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
            let filter = EventFilter {
                types: page.types.clone(),
                ..EventFilter::default()
            };
            let rows = store::events::newest_first_per_account(
                &self.0,
                &account_ids,
                &filter,
                page.before,
                page.limit,
            )
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
        for config in store::notification_configs::for_accounts(&self.0, account_ids).await? {
            if let Some(list) = configs.get_mut(&config.account_id) {
                list.push(config);
            }
        }
        Ok(configs)
    }
}
