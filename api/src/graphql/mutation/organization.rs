use async_graphql::{Context, Object};

use super::{
    audit::{AdminMutation, audited},
    canopy, db,
};
use crate::{graphql::error::GqlResult, store};

#[derive(Default)]
pub struct OrganizationMutation;

#[Object]
impl OrganizationMutation {
    /// Has Canopy send the events of its dead-letter queue (kept 5 days) to
    /// the webhook URL again (`PUT /organization/subscribe/replay_failed_events`;
    /// admin). True once Canopy accepted.
    #[graphql(guard = "AdminMutation")]
    async fn replay_failed_canopy_events(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        audited(ctx, |ok| async move {
            canopy(ctx)?.replay_failed_events().await?;
            store::timed(store::audit_log::insert(db(ctx), ok)).await?;
            Ok(true)
        })
        .await
    }
}
