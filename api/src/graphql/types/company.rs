use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::{companies, company_records};
use sea_orm::DatabaseConnection;

use super::Event;
use crate::{
    event::SourceKind,
    graphql::{
        connection::{Connection, Cursored, Page, after_id, after_key},
        error::GqlResult,
        scalars::Json,
    },
    ids::{self, CursorKind},
    store::{self, companies::RecordKind, events::EventFilter},
};

/// An Embedded Funding company as the follow-ups of its callbacks last read
/// it: each part is the newest read (by when it was sent).
pub struct Company(pub companies::Model);

fn db<'a>(ctx: &Context<'a>) -> &'a DatabaseConnection {
    ctx.data_unchecked::<DatabaseConnection>()
}

impl Company {
    async fn records(
        &self,
        ctx: &Context<'_>,
        kind: RecordKind,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<CompanyRecord>> {
        let page = Page::new(first)?;
        let after = after_key(CursorKind::CompanyRecord, after.as_deref())?;
        let records =
            store::companies::records(db(ctx), &self.0.id, kind, after.as_deref(), page.limit());
        let rows = store::timed(records).await?;
        Ok(Connection::from_rows(rows, page, CompanyRecord))
    }
}

#[Object]
impl Company {
    /// Embedded Funding's `companyId` (the `accountId` of its callbacks).
    async fn id(&self) -> ID {
        self.0.id.clone().into()
    }

    /// `GET /v1/companies/{id}/status`, PII masked unless the caller has
    /// the `pii` role.
    async fn credit_status(&self, ctx: &Context<'_>) -> GqlResult<Option<Json>> {
        Json::for_caller_opt(ctx, self.0.credit_status.as_deref())
    }

    /// When the credit status shown was read.
    async fn credit_status_fetched_at(&self) -> Option<DateTime<Utc>> {
        self.0.credit_status_fetched_at
    }

    /// `GET /v1/companies/{id}/terms`, PII masked unless the caller has the
    /// `pii` role.
    async fn terms(&self, ctx: &Context<'_>) -> GqlResult<Option<Json>> {
        Json::for_caller_opt(ctx, self.0.terms.as_deref())
    }

    /// When the terms shown were read.
    async fn terms_fetched_at(&self) -> Option<DateTime<Utc>> {
        self.0.terms_fetched_at
    }

    /// Limit requests (`GET …/limit-requests/{id}/status`), in id order.
    async fn limit_requests(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<CompanyRecord>> {
        self.records(ctx, RecordKind::LimitRequest, first, after)
            .await
    }

    /// Withdrawals (`GET …/withdrawal/{id}`), in id order.
    async fn withdrawals(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<CompanyRecord>> {
        self.records(ctx, RecordKind::Withdrawal, first, after)
            .await
    }

    /// Loans (`GET …/loans/{id}`), in id order.
    async fn loans(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<CompanyRecord>> {
        self.records(ctx, RecordKind::Loan, first, after).await
    }

    /// This company's callbacks, newest first.
    async fn events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        types: Option<Vec<String>>,
    ) -> GqlResult<Connection<Event>> {
        let page = Page::new(first)?;
        let before = after_id(CursorKind::Event, after.as_deref())?;
        let filter = EventFilter {
            sources: Some(vec![SourceKind::EmbeddedFunding.as_str().to_owned()]),
            types,
            account_id: Some(self.0.id.clone()),
            ..EventFilter::default()
        };
        let events = store::events::newest_first(db(ctx), &filter, before, page.limit());
        let rows = store::timed(events).await?;
        Ok(Connection::from_rows(rows, page, Event::from))
    }

    /// When the gateway last stored a read of this company.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A withdrawal, limit request or loan as last read.
pub struct CompanyRecord(pub company_records::Model);

impl Cursored for CompanyRecord {
    fn cursor(&self) -> String {
        ids::cursor(CursorKind::CompanyRecord, &self.0.record_id)
    }
}

#[Object]
impl CompanyRecord {
    /// Embedded Funding's id of it.
    async fn id(&self) -> ID {
        self.0.record_id.clone().into()
    }

    /// Embedded Funding's answer, PII masked unless the caller has the `pii` role.
    async fn state(&self, ctx: &Context<'_>) -> GqlResult<Json> {
        Json::for_caller(ctx, &self.0.state)
    }

    /// When it was read.
    async fn fetched_at(&self) -> DateTime<Utc> {
        self.0.fetched_at
    }
}
