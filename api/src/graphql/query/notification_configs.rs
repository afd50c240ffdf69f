use async_graphql::{Context, ID, Object};

use super::db;
use crate::{
    auth::Role,
    graphql::{error::GqlResult, guard::RoleGuard, types::NotificationConfig},
    store,
};

#[derive(Default)]
pub struct NotificationConfigsQuery;

#[Object]
impl NotificationConfigsQuery {
    /// The account's notification configs as Canopy accepted them.
    #[graphql(guard = "RoleGuard(Role::Read)")]
    async fn notification_configs(
        &self,
        ctx: &Context<'_>,
        account_id: ID,
    ) -> GqlResult<Vec<NotificationConfig>> {
        let ids = [account_id.to_string()];
        let rows = store::timed(store::notification_configs::for_accounts(db(ctx), &ids)).await?;
        NotificationConfig::for_account(rows)
    }
}
