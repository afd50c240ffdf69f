use async_graphql::{Context, ID, Object};

use super::{
    audit::{AdminMutation, audited},
    canopy, db,
};
use crate::{
    clients::ClientError,
    clock,
    graphql::{
        error::{GqlError, GqlResult},
        types::Account,
    },
    ingest,
    store::{self, writer::Writer},
};

#[derive(Default)]
pub struct AccountsMutation;

#[Object]
impl AccountsMutation {
    /// Fetches the account from Canopy (`GET /accounts/{id}`) and stores it
    /// through the projection as the account's state at the moment the
    /// gateway asked (admin): webhooks that changed it later still win.
    /// An account Canopy does not know is `NOT_FOUND`.
    #[graphql(guard = "AdminMutation")]
    async fn refresh_account(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Account> {
        audited(ctx, |ok| async move {
            let canopy = canopy(ctx)?;
            let asked_at = clock::now();
            let object = canopy.account(&id).await.map_err(|error| match error {
                ClientError::Rejected { status: 404, .. } => {
                    GqlError::NotFound(format!("Canopy has no account {:?}", id.as_str()))
                }
                other => other.into(),
            })?;
            let change = ingest::canopy::account_state(id.to_string(), object, asked_at);
            let writer = ctx.data_unchecked::<Writer>();
            writer.apply_account(change, ok).await?;
            store::timed(store::accounts::find(db(ctx), &id))
                .await?
                .map(Account)
                .ok_or_else(|| GqlError::Internal("the refreshed account is not stored".to_owned()))
        })
        .await
    }
}
