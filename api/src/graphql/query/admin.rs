use async_graphql::{Context, Object};

use super::db;
use crate::{
    auth::Role,
    graphql::{
        connection::{Connection, Page, after_id},
        error::GqlResult,
        guard::RoleGuard,
        types::{AuditEntry, RejectedDelivery},
    },
    ids::CursorKind,
    store,
};

#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    /// Deliveries the gateway refused, newest first (admin).
    #[graphql(guard = "RoleGuard(Role::Admin)")]
    async fn rejected_deliveries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<RejectedDelivery>> {
        let page = Page::new(first)?;
        let before = after_id(CursorKind::RejectedDelivery, after.as_deref())?;
        let rows = store::timed(store::rejections::newest_first(
            db(ctx),
            before,
            page.limit(),
        ))
        .await?;
        Ok(Connection::from_rows(rows, page, RejectedDelivery))
    }

    /// Mutations made, newest first (admin).
    #[graphql(guard = "RoleGuard(Role::Admin)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<AuditEntry>> {
        let page = Page::new(first)?;
        let before = after_id(CursorKind::AuditEntry, after.as_deref())?;
        let rows = store::timed(store::audit_log::newest_first(
            db(ctx),
            before,
            page.limit(),
        ))
        .await?;
        Ok(Connection::from_rows(rows, page, AuditEntry))
    }
}
