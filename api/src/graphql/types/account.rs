use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::accounts;

use super::{Event, EventPage, NotificationConfig};
use crate::{
    graphql::{
        connection::{Connection, Cursored, Page, after_id},
        error::GqlResult,
        loaders::{AccountEventsKey, AccountEventsPage, Loaders},
        scalars::{Cents, Json},
    },
    ids::{self, CursorKind},
};

/// An account as the gateway projects it from Canopy's events.
pub struct Account(pub accounts::Model);

impl Cursored for Account {
    fn cursor(&self) -> String {
        ids::cursor(CursorKind::Account, &self.0.id)
    }
}

#[Object]
impl Account {
    /// Canopy's account id (the `accountId` of its events).
    async fn id(&self) -> ID {
        self.0.id.clone().into()
    }

    async fn customer_id(&self) -> Option<&str> {
        self.0.customer_id.as_deref()
    }

    async fn status(&self) -> Option<&str> {
        self.0.status.as_deref()
    }

    async fn status_subtype(&self) -> Option<&str> {
        self.0.status_subtype.as_deref()
    }

    async fn credit_limit_cents(&self) -> Option<Cents> {
        self.0.credit_limit_cents.map(Cents)
    }

    async fn available_credit_cents(&self) -> Option<Cents> {
        self.0.available_credit_cents.map(Cents)
    }

    async fn total_balance_cents(&self) -> Option<Cents> {
        self.0.total_balance_cents.map(Cents)
    }

    async fn min_pay_due_cents(&self) -> Option<Cents> {
        self.0.min_pay_due_cents.map(Cents)
    }

    async fn min_pay_due_at(&self) -> Option<DateTime<Utc>> {
        self.0.min_pay_due_at
    }

    async fn days_past_due(&self) -> Option<i32> {
        self.0.days_past_due
    }

    async fn delinquent_as_of(&self) -> Option<DateTime<Utc>> {
        self.0.delinquent_as_of
    }

    /// When the gateway last changed this account.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// The latest full account object, PII masked unless the caller has the
    /// `pii` role.
    async fn snapshot(&self, ctx: &Context<'_>) -> GqlResult<Option<Json>> {
        Json::for_caller_opt(ctx, self.0.snapshot.as_deref())
    }

    /// This account's events, newest first.
    async fn events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        types: Option<Vec<String>>,
    ) -> GqlResult<EventPage> {
        let page = Page::new(first)?;
        let key = AccountEventsKey {
            account_id: self.0.id.clone(),
            page: AccountEventsPage {
                types,
                before: after_id(CursorKind::Event, after.as_deref())?,
                limit: page.limit(),
            },
        };
        let loaders = ctx.data_unchecked::<Loaders>();
        let rows = loaders
            .account_events
            .load_one(key)
            .await?
            .unwrap_or_default();
        Ok(Connection::from_rows(rows, page, Event::from).into())
    }

    async fn notification_configs(&self, ctx: &Context<'_>) -> GqlResult<Vec<NotificationConfig>> {
        let loaders = ctx.data_unchecked::<Loaders>();
        let configs = loaders
            .notification_configs
            .load_one(self.0.id.clone())
            .await?
            .unwrap_or_default();
        NotificationConfig::for_account(configs)
    }
}
