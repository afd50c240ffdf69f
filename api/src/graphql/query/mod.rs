//! The query root, one object per area, merged.
mod accounts;
mod admin;
mod companies;
mod events;
mod notification_configs;

use async_graphql::{Context, MergedObject};
use sea_orm::DatabaseConnection;

#[derive(MergedObject, Default)]
pub struct Query(
    events::EventsQuery,
    accounts::AccountsQuery,
    companies::CompaniesQuery,
    notification_configs::NotificationConfigsQuery,
    admin::AdminQuery,
);

fn db<'a>(ctx: &Context<'a>) -> &'a DatabaseConnection {
    ctx.data_unchecked::<DatabaseConnection>()
}
