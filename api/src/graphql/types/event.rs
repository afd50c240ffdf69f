use std::sync::Arc;

use async_graphql::{Context, ContextBase, Enum, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::{accounts, events, follow_ups};

use super::{Account, EventSource};
use crate::{
    event::SourceKind,
    graphql::{
        connection::Cursored,
        error::{GqlError, GqlResult},
        loaders::Loaders,
        scalars::{Json, Rendered, Renderings},
    },
    ids,
    store::{events::EventFilter as StoreFilter, follow_ups as queue},
};

/// A stored event. Cheap to clone: the live feed shares one with every
/// matching subscriber, and its JSON is rendered once per masking level
/// for all of them.
#[derive(Clone)]
pub struct Event(Arc<Shared>);

struct Shared {
    row: events::Model,
    /// The row's account when the statement that read the row joined it
    /// (`None`: not read along, `account` loads it).
    account: Option<Option<accounts::Model>>,
    payload: Rendered,
    follow_up: Rendered,
    /// Whole renderings for subscriptions (live events only).
    renderings: Renderings,
}

impl From<events::Model> for Event {
    fn from(row: events::Model) -> Self {
        Self::new(row, None)
    }
}

impl Event {
    fn new(row: events::Model, account: Option<Option<accounts::Model>>) -> Self {
        Self(Arc::new(Shared {
            row,
            account,
            payload: Rendered::default(),
            follow_up: Rendered::default(),
            renderings: Renderings::default(),
        }))
    }

    /// A row read together with the account its `account_id` names.
    pub fn with_account((row, account): (events::Model, Option<accounts::Model>)) -> Self {
        Self::new(row, Some(account))
    }

    pub fn row(&self) -> &events::Model {
        &self.0.row
    }

    /// This event as subscriptions rendered it, shared among them.
    pub fn renderings(&self) -> &Renderings {
        &self.0.renderings
    }

    /// `account` when no read is needed for it: the account read along
    /// with the row, or none because the event names no Canopy account.
    /// `Err` carries the id to load.
    pub(super) fn account_at_hand(&self) -> Result<Option<&accounts::Model>, &str> {
        let canopy = self.row().source == SourceKind::Canopy.as_str();
        let Some(id) = self.row().account_id.as_deref().filter(|_| canopy) else {
            return Ok(None);
        };
        match &self.0.account {
            Some(account) => Ok(account.as_ref()),
            None => Err(id),
        }
    }

    /// `payload` as the request's caller may see it.
    pub(super) fn payload_for<T>(&self, ctx: &ContextBase<'_, T>) -> GqlResult<Json> {
        self.0.payload.for_caller(ctx, &self.row().payload)
    }

    /// `followUp` as the request's caller may see it.
    pub(super) fn follow_up_for<T>(&self, ctx: &ContextBase<'_, T>) -> GqlResult<Option<Json>> {
        let text = self.row().follow_up.as_deref();
        text.map(|text| self.0.follow_up.for_caller(ctx, text))
            .transpose()
    }
}

impl Cursored for Event {
    fn cursor(&self) -> String {
        ids::event_cursor(self.row().id)
    }
}

#[Object]
impl Event {
    /// Stable and opaque.
    async fn id(&self) -> ID {
        ids::event_id(self.row().id).into()
    }

    /// Resume point for lists and subscriptions.
    async fn cursor(&self) -> String {
        Cursored::cursor(self)
    }

    async fn source(&self) -> GqlResult<EventSource> {
        EventSource::from_stored(&self.row().source)
    }

    /// The provider's name for the event, as received (Canopy `event`,
    /// LoanPro `eventName` or `custom`, Embedded Funding's message name).
    #[graphql(name = "type")]
    async fn event_type(&self) -> &str {
        &self.row().event_type
    }

    /// Canopy account, LoanPro loan-id, Embedded Funding companyId.
    async fn account_id(&self) -> Option<&str> {
        self.row().account_id.as_deref()
    }

    /// The account as the gateway last projected it (Canopy accounts only:
    /// a LoanPro loan or an Embedded Funding company is no Canopy account,
    /// whatever its id).
    async fn account(&self, ctx: &Context<'_>) -> GqlResult<Option<Account>> {
        match self.account_at_hand() {
            Ok(account) => Ok(account.cloned().map(Account)),
            Err(id) => {
                let loaders = ctx.data_unchecked::<Loaders>();
                Ok(loaders.accounts.load_one(id.to_owned()).await?.map(Account))
            }
        }
    }

    /// From the payload when it has one.
    async fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.row().occurred_at
    }

    async fn received_at(&self) -> DateTime<Utc> {
        self.row().received_at
    }

    /// The body as received (a body that is not JSON: a JSON string of its
    /// text). PII masked unless the caller has the `pii` role. `{}` once
    /// retention has purged it (`purgedAt` says when).
    async fn payload(&self, ctx: &Context<'_>) -> GqlResult<Json> {
        self.payload_for(ctx)
    }

    /// When retention (`EVENT_RETENTION_DAYS`) purged the payload; null
    /// while it is kept. The event's other fields stay.
    async fn purged_at(&self) -> Option<DateTime<Utc>> {
        self.row().purged_at
    }

    /// The delivery's content type, kept for bodies that are not JSON.
    async fn content_type(&self) -> Option<&str> {
        self.row().content_type.as_deref()
    }

    /// 1 + duplicates seen.
    async fn deliveries(&self) -> i32 {
        self.row().deliveries
    }

    /// Provider state fetched after the event (Embedded Funding's reads,
    /// Canopy's double-check); null until fetched. PII masked unless the
    /// caller has the `pii` role.
    async fn follow_up(&self, ctx: &Context<'_>) -> GqlResult<Option<Json>> {
        self.follow_up_for(ctx)
    }

    /// Where the follow-up this event owes stands; null when it owes none.
    async fn follow_up_status(&self, ctx: &Context<'_>) -> GqlResult<Option<FollowUpStatus>> {
        let loaders = ctx.data_unchecked::<Loaders>();
        Ok(loaders
            .follow_ups
            .load_one(self.row().id)
            .await?
            .map(FollowUpStatus))
    }
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FollowUpState {
    /// Not done yet: queued, running, or waiting to be tried again.
    Pending,
    /// Its result is `Event.followUp`.
    Done,
    /// Given up after failing for too long; `lastError` says why.
    Failed,
}

/// An event's follow-up job.
pub struct FollowUpStatus(follow_ups::Model);

#[Object]
impl FollowUpStatus {
    async fn state(&self) -> GqlResult<FollowUpState> {
        match self.0.state.as_str() {
            queue::PENDING => Ok(FollowUpState::Pending),
            queue::DONE => Ok(FollowUpState::Done),
            queue::FAILED => Ok(FollowUpState::Failed),
            other => Err(GqlError::Internal(format!(
                "unknown follow-up state {other:?}"
            ))),
        }
    }

    /// Attempts started so far.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }

    /// Why the last attempt failed (the call and its status, or the
    /// timeout); null once done.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }

    /// While pending: when it is tried next (during an attempt, when it is
    /// tried again should that attempt never end).
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        (self.0.state == queue::PENDING).then_some(self.0.due_at)
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Selects events; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct EventFilter {
    /// Any of these sources (an empty list matches nothing).
    pub sources: Option<Vec<EventSource>>,
    /// Any of these types (an empty list matches nothing).
    pub types: Option<Vec<String>>,
    pub account_id: Option<String>,
    /// Received at or after (inclusive).
    pub since: Option<DateTime<Utc>>,
    /// Received before (exclusive).
    pub until: Option<DateTime<Utc>>,
}

impl EventFilter {
    pub fn into_store(self) -> GqlResult<StoreFilter> {
        if let (Some(since), Some(until)) = (self.since, self.until)
            && until < since
        {
            return Err(GqlError::bad_input("until is before since"));
        }
        Ok(StoreFilter {
            sources: self.sources.map(|sources| {
                sources
                    .into_iter()
                    .map(|s| s.kind().as_str().to_owned())
                    .collect()
            }),
            types: self.types,
            account_id: self.account_id,
            since: self.since,
            until: self.until,
        })
    }
}
