use async_graphql::{Context, ID, InputObject, Object};

use super::{
    all_of,
    audit::{AdminMutation, audited},
    canopy, db, notification_rules,
};
use crate::{
    graphql::{
        error::{GqlError, GqlResult},
        types::{NotificationConfig, NotificationType, PeriodicInterval},
    },
    store::{self, notification_configs::NewConfig},
};

/// When Canopy should send one of its configurable webhooks for an account
/// (Canopy's `PUT /accounts/{id}/notification_config`).
#[derive(InputObject)]
pub struct ConfigureNotificationInput {
    pub account_id: ID,
    pub notification_type: NotificationType,
    /// `"<integer> days"` or `"<integer> hours"` from the trigger, e.g.
    /// `"-2 days"`; required without `periodicInterval`; not negative for
    /// `MINIMUM_PAYMENT_MISSED` and `ACCOUNT_DELINQUENCY`.
    pub time_offset: Option<String>,
    /// 24-hour `H:MM:SS` or `HH:MM:SS`, in the product's time zone.
    pub time: Option<String>,
    /// `ACCOUNT_DELINQUENCY` only, and without `timeOffset` or `time`.
    pub periodic_interval: Option<PeriodicInterval>,
}

#[derive(Default)]
pub struct NotificationsMutation;

#[Object]
impl NotificationsMutation {
    /// Configures one of Canopy's notification webhooks for an account
    /// (admin). The rules are checked first (every violation is named);
    /// the config is stored only once Canopy has accepted it.
    #[graphql(guard = "AdminMutation")]
    async fn configure_notification(
        &self,
        ctx: &Context<'_>,
        input: ConfigureNotificationInput,
    ) -> GqlResult<NotificationConfig> {
        audited(ctx, |ok| async move {
            let body = notification_rules::check(&input).map_err(|errors| all_of(ctx, errors))?;
            canopy(ctx)?
                .configure_notification(&input.account_id, &body)
                .await?;
            let config = NewConfig {
                account_id: input.account_id.to_string(),
                notification_type: body.notification_type,
                time_offset: body.time_offset,
                time: body.time,
                periodic_interval: body.periodic_interval,
            };
            let saved =
                store::timed(store::notification_configs::save(db(ctx), config, ok)).await?;
            // Whether it is in force depends on the account's other configs.
            let account = [saved.account_id.clone()];
            let rows =
                store::timed(store::notification_configs::for_accounts(db(ctx), &account)).await?;
            let saved_id = saved.id.to_string();
            NotificationConfig::for_account(rows)?
                .into_iter()
                .find(|config| *config.id == saved_id)
                .ok_or_else(|| GqlError::Internal("the saved config is not stored".to_owned()))
        })
        .await
    }
}
