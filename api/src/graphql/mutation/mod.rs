//! The mutation root, one object per area, merged. Mutations are for
//! `admin` keys only, and each is written to the audit log ([`audit`]),
//! refused ones included.
mod accounts;
mod audit;
mod notification_rules;
mod notifications;
mod organization;

use async_graphql::{Context, MergedObject};
use sea_orm::DatabaseConnection;

use super::error::{GqlError, GqlResult};
use crate::clients::canopy::CanopyClient;

#[derive(MergedObject, Default)]
pub struct Mutation(
    notifications::NotificationsMutation,
    accounts::AccountsMutation,
    organization::OrganizationMutation,
);

fn db<'a>(ctx: &Context<'a>) -> &'a DatabaseConnection {
    ctx.data_unchecked::<DatabaseConnection>()
}

/// Canopy's API, or why there is none.
fn canopy<'a>(ctx: &Context<'a>) -> GqlResult<&'a CanopyClient> {
    ctx.data_unchecked::<Option<CanopyClient>>()
        .as_ref()
        .ok_or_else(|| {
            GqlError::UpstreamUnavailable(
                "CANOPY_API_URL is not set: the gateway has no Canopy API to call".to_owned(),
            )
        })
}

/// Reports every error of `errors` (at least one) on the current field:
/// all but the last are added to the response, the last is returned.
fn all_of(ctx: &Context<'_>, mut errors: Vec<GqlError>) -> GqlError {
    let last = errors.pop().expect("at least one error");
    for error in errors {
        let error = async_graphql::Error::from(error).into_server_error(ctx.item.pos);
        ctx.add_error(ctx.set_error_path(error));
    }
    last
}
