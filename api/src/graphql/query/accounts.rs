use async_graphql::{Context, ID, Object};

use super::db;
use crate::{
    auth::Role,
    graphql::{
        connection::{Connection, Page, after_key},
        error::GqlResult,
        guard::RoleGuard,
        types::Account,
    },
    ids::CursorKind,
    store,
};

#[derive(Default)]
pub struct AccountsQuery;

#[Object]
impl AccountsQuery {
    /// The account with this id; null when there is none.
    #[graphql(guard = "RoleGuard(Role::Read)")]
    async fn account(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Option<Account>> {
        Ok(store::timed(store::accounts::find(db(ctx), &id))
            .await?
            .map(Account))
    }

    /// Accounts in id order.
    #[graphql(guard = "RoleGuard(Role::Read)")]
    async fn accounts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<String>,
    ) -> GqlResult<Connection<Account>> {
        let page = Page::new(first)?;
        let after = after_key(CursorKind::Account, after.as_deref())?;
        let rows = store::timed(store::accounts::page(
            db(ctx),
            status.as_deref(),
            after.as_deref(),
            page.limit(),
        ))
        .await?;
        Ok(Connection::from_rows(rows, page, Account))
    }
}
