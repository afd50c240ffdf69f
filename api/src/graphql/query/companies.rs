use async_graphql::{Context, ID, Object};

use super::db;
use crate::{
    auth::Role,
    graphql::{error::GqlResult, guard::RoleGuard, types::Company},
    store,
};

#[derive(Default)]
pub struct CompaniesQuery;

#[Object]
impl CompaniesQuery {
    /// The Embedded Funding company with this id, as its follow-ups read it;
    /// null until one has.
    #[graphql(guard = "RoleGuard(Role::Read)")]
    async fn company(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Option<Company>> {
        Ok(store::timed(store::companies::find(db(ctx), &id))
            .await?
            .map(Company))
    }
}
